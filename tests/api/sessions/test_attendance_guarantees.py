"""Attendance has one outcome under concurrency: a report of the other side's absence racing that side's check-in
leaves either the absence (and no check-in) or the check-in (and no absence); a report racing the sweep records one
absence; two disputes of one finding make one; two administrators answering one dispute answer it once, and the
credit moves once. Threads on committed data through the API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    AttendanceDispute,
    Booking,
    BundlePurchase,
    CreditStatus,
    MentorProfile,
    MentorshipSession,
    NoShow,
    OutboxEvent,
    SessionStatus,
    User,
)
from tests.concurrency import concurrently
from tests.factories.accounts import Caller, UserFactory, actor_of, as_caller
from tests.factories.sessions import individual_session
from tests.servers import live_app
from workflows.bookings import bundles
from workflows.sessions import sweeps as session_sweeps

ROUNDS = 6


def under_way(seed: Session, minutes_ago: int = 20) -> tuple[Caller, Caller, MentorshipSession]:
    """A session that started ``minutes_ago``: its mentor and mentee, and the session."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    session = individual_session(seed, start)
    mentor = seed.get_one(MentorProfile, session.mentor_profile_id).user
    mentee = seed.get_one(Booking, session.booking_id).mentee_user_id
    return as_caller(mentor), as_caller(seed.get_one(User, mentee)), session


def post(app: Flask, caller: Caller, path: str, body: dict[str, str] | None = None) -> Callable[[], int]:
    headers = caller.headers
    return lambda: app.test_client().post(path, headers=headers, json=body or {}).status_code


def test_a_report_racing_the_absent_sides_check_in_leaves_one_of_them(seed: Session,
                                                                     committed: sessionmaker[Session]) -> None:
    rounds = [under_way(seed) for _ in range(ROUNDS)]
    seed.commit()
    app = live_app(committed)
    seen = Counter()
    for mentor, mentee, session in rounds:
        assert post(app, mentee, f"/api/v1/sessions/{session.id}/check-in")() == 200
        report, check_in = concurrently([post(app, mentee, f"/api/v1/sessions/{session.id}/no-show"),
                                         post(app, mentor, f"/api/v1/sessions/{session.id}/check-in")])
        with committed() as db:
            stored = db.get_one(MentorshipSession, session.id)
            if report == 200:
                assert check_in == 400 and stored.status == SessionStatus.MENTOR_NO_SHOW
                assert stored.mentor_checked_in_at is None
            else:
                assert (report, check_in) == (409, 200) and stored.status == SessionStatus.SCHEDULED
                assert stored.mentor_checked_in_at is not None
                assert db.get_one(Booking, session.booking_id).no_show is None
        seen[report] += 1
    assert sum(seen.values()) == ROUNDS


def test_a_report_racing_the_sweep_records_one_absence(seed: Session, committed: sessionmaker[Session]) -> None:
    # Ended long enough ago for the sweep, and not yet swept: the mentor checked in, the mentee did not.
    rounds = [under_way(seed, minutes_ago=24 * 60 + 5 * index) for index in range(ROUNDS)]
    for _mentor, _mentee, session in rounds:
        session.mentor_checked_in_at = session.start_time
    seed.commit()
    app = live_app(committed)

    def sweep() -> int:
        with committed() as db:
            swept = session_sweeps.mark_missed_sessions(db)
            db.commit()
            return swept

    for mentor, _mentee, session in rounds:
        concurrently([post(app, mentor, f"/api/v1/sessions/{session.id}/no-show"), sweep])
        sweep()  # the next beat's: a sweep that met the report's lock skipped the session (SKIP LOCKED) until now
        with committed() as db:
            assert db.get_one(MentorshipSession, session.id).status == SessionStatus.MENTEE_NO_SHOW
            assert db.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.aggregate_id == session.id, OutboxEvent.type == "session.no_show")) == 1


def test_two_disputes_make_one_and_two_answers_answer_once(seed: Session, committed: sessionmaker[Session]) -> None:
    rounds = []
    for _ in range(ROUNDS):
        mentor, mentee, session = under_way(seed)
        offer = bundles.create_bundle(seed, actor_of(mentor.user), session.listing_id, sessions_count=2,
                                      price_cents=9000, valid_days=30)
        purchase = bundles.purchase_bundle(seed, actor_of(mentee.user), offer.id,
                                           valid_from=session.start_time - timedelta(days=1))
        purchase.remaining_sessions = 1  # the other credit pays for this session
        booking = seed.get_one(Booking, session.booking_id)
        booking.bundle_purchase_id, booking.credit_status = purchase.id, CreditStatus.HELD
        rounds.append((mentor, mentee, session, purchase))
    seed.flush()
    admins = [as_caller(UserFactory(is_admin=True)) for _ in range(2)]
    seed.commit()
    app = live_app(committed)
    for mentor, mentee, session, purchase in rounds:
        assert post(app, mentee, f"/api/v1/sessions/{session.id}/check-in")() == 200
        assert post(app, mentee, f"/api/v1/sessions/{session.id}/no-show")() == 200
        outcomes = sorted(concurrently([  # the mentor, found absent, sends it twice at once
            post(app, mentor, f"/api/v1/sessions/{session.id}/attendance-disputes", {"reason": f"I was there {n}"})
            for n in range(2)]))
        assert outcomes == [201, 409], outcomes
        with committed() as db:
            dispute = db.scalars(select(AttendanceDispute).where(AttendanceDispute.session_id == session.id)).one()
        answers = sorted(concurrently([
            post(app, admin, f"/api/v1/admin/disputes/{dispute.id}/resolve", {"absent": absent})
            for admin, absent in zip(admins, ("mentee", "none"), strict=True)]))
        assert answers == [200, 409], answers
        with committed() as db:
            booking = db.get_one(Booking, session.booking_id)
            assert booking.no_show in {NoShow.MENTEE, NoShow.NONE}
            assert db.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.aggregate_id == dispute.id, OutboxEvent.type == "attendance.resolved")) == 1
            # Given back by the mentor's absence, taken again once by whichever answer came first.
            assert booking.credit_status in {CreditStatus.FORFEITED, CreditStatus.HELD}
            assert db.get_one(BundlePurchase, purchase.id).remaining_sessions == 1
