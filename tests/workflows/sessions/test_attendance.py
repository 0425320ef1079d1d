"""Attendance (``workflows/sessions/attendance.py``): check-ins and their window, who sees whose, a participant who came
reporting the other absent, the sweeps attributing an absence by who checked in, its effect on the bundle credit and
the fee, disputes and an administrator's correction of it, and a mentor's no-shows in their statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import (
    AttendanceDispute,
    Booking,
    BundlePurchase,
    CreditStatus,
    MentorProfile,
    MentorshipSession,
    NoShow,
    Notification,
    OutboxEvent,
    ReviewEligibility,
    SessionStatus,
)
from tests.database import events_of, notifications_read, refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import group_session
from workflows import history
from workflows import people as named
from workflows.actors import Actor
from workflows.bookings import bundles, requests
from workflows.bookings import lifecycle as bookings
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from workflows.events import EventType
from workflows.notifications import messages
from workflows.sessions import analytics, attendance, reviews
from workflows.sessions import lifecycle as sessions
from workflows.sessions import sweeps as session_sweeps

T = (datetime.now(UTC) + timedelta(days=6)).replace(hour=9, minute=0, second=0, microsecond=0)
GRACE = timedelta(minutes=10)
PRICE = 8000


def booked(db: Session, day: int = 0, *, bundle: bool = False) -> tuple[Actor, Actor, MentorshipSession, Booking]:
    """An accepted booking (paid by a bundle credit if asked) and its session, made by the workflows."""
    listing, mentee = ListingFactory(price_cents=PRICE), UserFactory()
    mentor = actor_of(listing.mentor_profile.user)
    purchase = None
    if bundle:
        offer = bundles.create_bundle(db, mentor, listing.id, sessions_count=2, price_cents=12000, valid_days=90)
        purchase = bundles.purchase_bundle(db, actor_of(mentee), offer.id).id
    booking = requests.request_booking(db, actor_of(mentee), listing_id=listing.id,
                                       start_time=T + timedelta(days=day), bundle_purchase_id=purchase)
    bookings.accept_booking(db, mentor, booking.id)
    session = sessions.create_session_from_booking(db, booking.id)
    assert session is not None
    return mentor, actor_of(mentee), session, db.get_one(Booking, booking.id)


def mentor_of(db: Session, session: MentorshipSession) -> Actor:
    profile = db.get_one(MentorProfile, session.mentor_profile_id)
    return Actor(profile.user_id, is_admin=False, mentor_profile_id=profile.id)


def an_admin() -> Actor:
    return actor_of(UserFactory(is_admin=True))


def remaining(db: Session, booking: Booking) -> int:
    return db.get_one(BundlePurchase, booking.bundle_purchase_id).remaining_sessions


WINDOW = timedelta(hours=get_settings().no_show_dispute_hours)


def final(db: Session, booking: Booking) -> None:
    """The beat's confirmation once the finding's dispute window is over (nothing disputed it)."""
    assert booking.no_show_at is not None and booking.no_show_confirmed_at is None
    attendance.confirm_due(db, now=booking.no_show_at + WINDOW)
    db.refresh(booking)
    assert booking.no_show_confirmed_at is not None


def test_check_in_opens_before_the_start_and_closes_at_the_end_and_counts_once(db: Session) -> None:
    mentor, mentee, session, booking = booked(db)
    early = timedelta(minutes=get_settings().start_early_minutes)
    error = refused(db, BusinessRuleViolation,
                    lambda: attendance.check_in(db, mentee, session.id, now=session.start_time - early - GRACE))
    assert error.message.startswith("too early: check-in opens at")
    attendance.check_in(db, mentee, session.id, now=session.start_time - early)
    attendance.check_in(db, mentee, session.id, now=session.start_time)  # a second changes nothing
    assert booking.checked_in_at == session.start_time - early
    error = refused(db, BusinessRuleViolation,
                    lambda: attendance.check_in(db, mentor, session.id, now=session.end_time))
    assert error.message == "this session's time has passed"
    sessions.start_session(db, mentor, session.id, now=session.start_time + timedelta(minutes=2))
    assert session.mentor_checked_in_at == session.start_time + timedelta(minutes=2)  # starting it is checking in
    assert events_of(db, session.id).count(("session.checked_in", str(mentee))) == 1
    stranger = actor_of(UserFactory())
    assert refused(db, NotFound, lambda: attendance.check_in(db, stranger, session.id, now=session.start_time))


def test_the_mentor_sees_everyones_attendance_and_a_group_mentee_only_their_own(db: Session) -> None:
    session, mentees = group_session(db, T, seats=2)
    first = Actor(mentees[0], is_admin=False)
    attendance.check_in(db, first, session.id, now=session.start_time)
    seen_by_mentor = named.name_sessions(db, mentor_of(db, session), [session])[0].attendance
    assert [(a.role, a.id, a.checked_in_at is not None) for a in seen_by_mentor[:1]] == [
        ("mentor", session.mentor_profile_id, False)]
    assert sorted((a.role, a.id, a.checked_in_at is not None) for a in seen_by_mentor[1:]) == sorted(
        [("mentee", mentees[0], True), ("mentee", mentees[1], False)])
    seen_by_first = named.name_sessions(db, first, [session])[0].attendance
    assert [(a.role, a.id) for a in seen_by_first] == [("mentor", session.mentor_profile_id), ("mentee", mentees[0])]


def test_a_mentor_who_came_reports_the_mentee_absent_who_pays_the_late_fee(db: Session) -> None:
    mentor, mentee, session, booking = booked(db)
    opens = session.start_time + GRACE
    attendance.check_in(db, mentor, session.id, now=session.start_time)
    error = refused(db, BusinessRuleViolation,
                    lambda: attendance.report_no_show(db, mentor, session.id, now=opens - timedelta(seconds=1)))
    assert error.message.startswith("too early: someone can be reported absent from")
    attendance.report_no_show(db, mentor, session.id, now=opens)
    assert session.status == SessionStatus.MENTEE_NO_SHOW
    # The mentor's word alone: nothing is due until the mentee's window to dispute it is over.
    assert (booking.no_show, booking.no_show_fee_cents, booking.no_show_at) == (NoShow.MENTEE, 0, opens)
    final(db, booking)
    fee = PRICE * get_settings().cancellation_fee_percent // 100
    assert (booking.no_show, booking.no_show_fee_cents, booking.no_show_at) == (NoShow.MENTEE, fee, opens)
    assert ("session.no_show", str(mentor)) in events_of(db, session.id)
    # The session is over: nobody checks in or reports any more.
    refused(db, BusinessRuleViolation, lambda: attendance.check_in(db, mentee, session.id, now=opens))


def test_only_someone_who_checked_in_may_report_and_never_someone_who_came(db: Session) -> None:
    mentor, mentee, session, _booking = booked(db)
    after = session.start_time + GRACE
    error = refused(db, BusinessRuleViolation, lambda: attendance.report_no_show(db, mentee, session.id, now=after))
    assert error.message == "check in first: only someone who came can report the other absent"
    attendance.check_in(db, mentee, session.id, now=session.start_time)
    attendance.check_in(db, mentor, session.id, now=session.start_time)
    error = refused(db, Conflict, lambda: attendance.report_no_show(db, mentee, session.id, now=after))
    assert error.message == "the mentor checked in"
    assert refused(db, Conflict, lambda: attendance.report_no_show(db, mentor, session.id, now=after))
    assert session.status == SessionStatus.SCHEDULED


def test_a_mentors_absence_returns_the_credit_charges_nothing_and_offers_a_rebook(db: Session) -> None:
    mentor, mentee, session, booking = booked(db, bundle=True)
    assert (booking.credit_status, remaining(db, booking)) == (CreditStatus.HELD, 1)
    sessions.start_session(db, mentee, session.id, now=session.start_time)
    attendance.report_no_show(db, mentee, session.id, now=session.start_time + GRACE)
    assert session.status == SessionStatus.MENTOR_NO_SHOW
    assert (booking.no_show, booking.credit_status, remaining(db, booking)) == (NoShow.MENTOR, CreditStatus.HELD, 1)
    final(db, booking)  # the mentor did not dispute it
    assert (booking.no_show, booking.no_show_fee_cents, booking.credit_status) == (NoShow.MENTOR, 0,
                                                                                 CreditStatus.RETURNED)
    assert remaining(db, booking) == 2
    event = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == session.id,
                                                 OutboxEvent.type == EventType.SESSION_NO_SHOW.value)).one()
    assert (event.payload["absent"], event.payload["reported_by"]) == ("mentor", "mentee")
    messages.handle_event(db, event)
    told = {n.user_id: n for n in notifications_read(db, Notification.event_id == event.id)}
    to_mentee = told[mentee.user_id]
    assert to_mentee.title == "Your mentor did not come"
    assert "within 48 hours that they did, you pay nothing and your bundle credit comes back" in to_mentee.body
    assert to_mentee.data["link"] == f"#/listings/{session.listing_id}"  # one click to book again
    assert told[mentor.user_id].title == "You were recorded absent"
    assert "within 48 hours" in told[mentor.user_id].body


def test_a_mentees_absence_forfeits_their_bundle_credit_without_a_fee(db: Session) -> None:
    mentor, _mentee, session, booking = booked(db, bundle=True)
    attendance.check_in(db, mentor, session.id, now=session.start_time)
    attendance.report_no_show(db, mentor, session.id, now=session.start_time + GRACE)
    assert (booking.no_show, booking.credit_status) == (NoShow.MENTEE, CreditStatus.HELD)
    final(db, booking)
    assert (booking.no_show, booking.no_show_fee_cents, booking.credit_status) == (NoShow.MENTEE, 0,
                                                                                 CreditStatus.FORFEITED)
    assert remaining(db, booking) == 1


def test_a_mentees_bare_check_in_moves_nothing_until_the_mentor_could_dispute_it(db: Session) -> None:
    # A mentee who never came checks in, and the mentor forgets to: the sweep finds the mentor absent on the mentee's
    # word alone. Nothing moves, nor counts against the mentor, while the mentor may dispute it; they do, and an
    # administrator decides. Undisputed, it becomes final when the window closes, and both are told.
    mentor, mentee, session, booking = booked(db, bundle=True)
    attendance.check_in(db, mentee, session.id, now=session.start_time)
    later = session.end_time + timedelta(hours=2)
    session_sweeps.mark_missed_sessions(db, now=later)
    assert (session.status, booking.no_show) == (SessionStatus.MENTOR_NO_SHOW, NoShow.MENTOR)
    assert (booking.credit_status, booking.no_show_fee_cents, remaining(db, booking)) == (CreditStatus.HELD, 0, 1)
    assert attendance.mentor_no_shows(db, session.mentor_profile_id) == 0
    assert named.name_sessions(db, mentor, [session])[0].attendance[1].no_show_final is False
    assert attendance.confirm_due(db, now=later + WINDOW - timedelta(minutes=1)) == 0  # still open to dispute
    attendance.dispute(db, mentor, session.id, reason="I was there; the mentee never joined", now=later)
    assert attendance.confirm_due(db, now=later + 2 * WINDOW) == 0  # a dispute waits for the administrator
    assert booking.no_show_confirmed_at is None and remaining(db, booking) == 1
    dispute = db.scalars(select(AttendanceDispute).where(AttendanceDispute.booking_id == booking.id)).one()
    attendance.resolve_dispute(db, an_admin(), dispute.id, absent=NoShow.MENTEE, now=later + timedelta(hours=3))
    assert (booking.no_show, booking.credit_status, remaining(db, booking)) == (NoShow.MENTEE, CreditStatus.FORFEITED,
                                                                              1)
    assert booking.no_show_confirmed_at is not None and attendance.mentor_no_shows(db, session.mentor_profile_id) == 0

    mentor, mentee, session, booking = booked(db, 1, bundle=True)
    attendance.check_in(db, mentee, session.id, now=session.start_time)
    session_sweeps.mark_missed_sessions(db, now=session.end_time + timedelta(hours=2))
    assert attendance.confirm_due(db, now=session.end_time + timedelta(hours=2) + WINDOW) == 1
    db.refresh(booking)
    assert (booking.credit_status, remaining(db, booking)) == (CreditStatus.RETURNED, 2)
    assert attendance.mentor_no_shows(db, session.mentor_profile_id) == 1
    confirmed = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == booking.id,
                                                     OutboxEvent.type == EventType.BOOKING_NO_SHOW_CONFIRMED)).one()
    assert (confirmed.actor, confirmed.payload["no_show"], confirmed.payload["credit_status"]) == (
        "system", "mentor", "returned")
    messages.handle_event(db, confirmed)
    told = {n.user_id: n for n in notifications_read(db, Notification.event_id == confirmed.id)}
    assert set(told) == {mentor.user_id, mentee.user_id}
    assert told[mentee.user_id].title == "Attendance final"
    assert "is final: the mentor was absent; the bundle credit is back" in told[mentee.user_id].body
    assert attendance.confirm_due(db, now=session.end_time + 3 * WINDOW) == 0  # once


def test_the_sweeps_attribute_an_absence_by_who_checked_in(db: Session) -> None:
    cases = [booked(db, day) for day in range(5)]
    (m0, _e0, only_mentor, b0), (_m1, e1, only_mentee, b1), (m2, e2, both, _b2), (_m3, _e3, nobody, b3), \
        (_m4, e4, mentee_started, b4) = cases
    attendance.check_in(db, m0, only_mentor.id, now=only_mentor.start_time)
    attendance.check_in(db, e1, only_mentee.id, now=only_mentee.start_time)
    attendance.check_in(db, m2, both.id, now=both.start_time)
    attendance.check_in(db, e2, both.id, now=both.start_time)
    sessions.start_session(db, e4, mentee_started.id, now=mentee_started.start_time)
    later = T + timedelta(days=30)
    assert session_sweeps.mark_missed_sessions(db, now=later) >= 4
    assert session_sweeps.auto_complete_sessions(db, now=later) >= 1
    assert [s.status for s in (only_mentor, only_mentee, both, nobody, mentee_started)] == [
        SessionStatus.MENTEE_NO_SHOW, SessionStatus.MENTOR_NO_SHOW, SessionStatus.COMPLETED, SessionStatus.MISSED,
        SessionStatus.MENTOR_NO_SHOW]
    assert [b.no_show for b in (b0, b1, b3, b4)] == [NoShow.MENTEE, NoShow.MENTOR, None, NoShow.MENTOR]
    assert (both.completed_by, both.started_at) == ("system", None)
    assert ("session.no_show", "system") in events_of(db, only_mentor.id)
    assert ("session.completed", "system") in events_of(db, both.id)


def test_a_group_session_records_each_absent_seat_and_goes_on(db: Session) -> None:
    session, mentees = group_session(db, T, seats=3)
    mentor = mentor_of(db, session)
    sessions.start_session(db, mentor, session.id, now=session.start_time)
    attendance.check_in(db, Actor(mentees[0], is_admin=False), session.id, now=session.start_time)
    error = refused(db, Conflict, lambda: attendance.report_no_show(db, mentor, session.id,
                                                                   now=session.start_time + GRACE))
    assert error.message.startswith("a mentee checked in")
    assert session_sweeps.auto_complete_sessions(db, now=T + timedelta(days=30)) >= 1
    assert session.status == SessionStatus.COMPLETED
    seats = {b.mentee_user_id: b for b in db.scalars(select(Booking).where(Booking.group_session_id == session.id))}
    assert [seats[m].no_show for m in mentees] == [None, NoShow.MENTEE, NoShow.MENTEE]
    completed = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == session.id,
                                                     OutboxEvent.type == EventType.SESSION_COMPLETED.value)).one()
    reviews.handle_event(db, completed)  # only who came may review it
    assert set(db.scalars(select(ReviewEligibility.mentee_user_id).where(
        ReviewEligibility.session_id == session.id))) == {mentees[0]}
    absent = db.scalars(select(OutboxEvent).where(OutboxEvent.type == EventType.BOOKING_NO_SHOW.value,
                                                  OutboxEvent.aggregate_id.in_([seats[m].id for m in mentees]))).all()
    assert sorted(e.payload["mentee_user_id"] for e in absent) == sorted(str(m) for m in mentees[1:])
    # A mentee reads their own seat's absence in the session's history, not the others'.
    second = Actor(mentees[1], is_admin=False)
    seen = [e.type for e in history.session_timeline(db, second, session.id, limit=50, cursor=None).items]
    assert seen.count("booking.no_show") == 1
    seen_by_mentor = [e.type for e in history.session_timeline(db, mentor, session.id, limit=50, cursor=None).items]
    assert seen_by_mentor.count("booking.no_show") == 2


def test_a_group_mentor_who_did_not_come_is_absent_for_every_seat_and_disputes_it_once(db: Session) -> None:
    session, mentees = group_session(db, T, seats=3)
    came = Actor(mentees[0], is_admin=False)
    attendance.check_in(db, came, session.id, now=session.start_time)
    attendance.report_no_show(db, came, session.id, now=session.start_time + GRACE)
    assert session.status == SessionStatus.MENTOR_NO_SHOW
    seats = list(db.scalars(select(Booking).where(Booking.group_session_id == session.id)))
    assert {b.no_show for b in seats} == {NoShow.MENTOR}  # a mentee arriving after the report pays nothing either
    mentor = mentor_of(db, session)
    assert attendance.mentor_no_shows(db, session.mentor_profile_id) == 0  # not final yet: open to dispute
    # The mentee may not dispute a finding in their favour; the mentor disputes the session's once.
    error = refused(db, Forbidden, lambda: attendance.dispute(db, came, session.id, reason="no"))
    assert error.message == "only the mentor, found absent, can dispute this finding"
    dispute = attendance.dispute(db, mentor, session.id, reason="I was in the room", now=session.end_time)
    attendance.resolve_dispute(db, an_admin(), dispute.id, absent=NoShow.NONE)
    assert {b.no_show for b in seats} == {NoShow.NONE}
    assert attendance.mentor_no_shows(db, session.mentor_profile_id) == 0


def test_a_report_closes_once_the_sessions_time_is_over(db: Session) -> None:
    mentor, _mentee, session, _booking = booked(db)
    attendance.check_in(db, mentor, session.id, now=session.start_time)
    error = refused(db, BusinessRuleViolation,
                    lambda: attendance.report_no_show(db, mentor, session.id, now=session.end_time + GRACE))
    assert error.message.startswith("too late")


def test_a_mentee_of_a_cancelled_group_session_has_nothing_to_dispute(db: Session) -> None:
    session, mentees = group_session(db, T, seats=1)
    sessions.cancel_session(db, mentor_of(db, session), session.id, reason="ill", now=T - timedelta(days=1))
    error = refused(db, BusinessRuleViolation,
                    lambda: attendance.dispute(db, Actor(mentees[0], is_admin=False), session.id, reason="?"))
    assert error.message == "this session is cancelled: nobody was found absent from it"


def test_admins_see_every_seat_and_a_list_leaves_a_groups_seats_out(db: Session) -> None:
    session, mentees = group_session(db, T, seats=2)
    other, _ = group_session(db, T + timedelta(days=1), seats=1)
    one = named.name_sessions(db, an_admin(), [session])[0].attendance
    assert sorted(a.id for a in one if a.role == "mentee") == sorted(mentees)
    both = named.name_sessions(db, mentor_of(db, session), [session, other])
    assert [[a.role for a in view.attendance] for view in both] == [["mentor"], ["mentor"]]
    mine = named.name_sessions(db, Actor(mentees[1], is_admin=False), [session, other])
    assert [[a.id for a in view.attendance if a.role == "mentee"] for view in mine] == [[mentees[1]], []]


def test_a_finding_is_disputed_once_within_its_window_and_an_admin_corrects_it_and_its_effects(db: Session) -> None:
    mentor, mentee, session, booking = booked(db, bundle=True)
    attendance.check_in(db, mentor, session.id, now=session.start_time)
    found_at = session.start_time + GRACE
    attendance.report_no_show(db, mentor, session.id, now=found_at)
    assert (booking.credit_status, remaining(db, booking)) == (CreditStatus.HELD, 1)  # the mentor's word alone
    closes = found_at + timedelta(hours=get_settings().no_show_dispute_hours)
    error = refused(db, BusinessRuleViolation,
                    lambda: attendance.dispute(db, mentee, session.id, reason="I was there", now=closes))
    assert error.message.startswith("too late")
    dispute = attendance.dispute(db, mentee, session.id, reason="I was there; the link did not work",
                                 now=closes - timedelta(minutes=1))
    raised = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == dispute.id)).one()
    messages.handle_event(db, raised)
    told = notifications_read(db, Notification.event_id == raised.id)
    assert [(n.user_id, n.title) for n in told] == [(mentor.user_id, "Attendance disputed")]  # the other side
    assert "I was there; the link did not work" in told[0].body
    assert told[0].data["link"] == f"#/sessions/{session.id}"
    error = refused(db, Conflict, lambda: attendance.dispute(db, mentee, session.id, reason="again", now=found_at))
    assert error.message.startswith("this finding was disputed already")
    error = refused(db, Forbidden, lambda: attendance.dispute(db, mentor, session.id, reason="no", now=found_at))
    assert error.message == "only the mentee, found absent, can dispute this finding"
    assert refused(db, Forbidden, lambda: attendance.resolve_dispute(db, mentor, dispute.id, absent=NoShow.MENTOR))
    attendance.resolve_dispute(db, an_admin(), dispute.id, absent=NoShow.MENTOR, note="The meeting log shows it.")
    answered = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == dispute.id,
                                                    OutboxEvent.type == EventType.ATTENDANCE_RESOLVED.value)).one()
    messages.handle_event(db, answered)
    bodies = {n.user_id: n.body for n in notifications_read(db, Notification.event_id == answered.id)}
    assert set(bodies) == {mentor.user_id, mentee.user_id}
    assert bodies[mentee.user_id].endswith(": the mentor was absent.")
    assert (booking.no_show, booking.no_show_fee_cents, booking.credit_status) == (NoShow.MENTOR, 0,
                                                                                 CreditStatus.RETURNED)
    assert remaining(db, booking) == 2
    assert session.status == SessionStatus.MENTEE_NO_SHOW  # the status never changes; the attribution did
    assert refused(db, Conflict, lambda: attendance.resolve_dispute(db, an_admin(), dispute.id, absent=NoShow.NONE))
    timeline = [e.type for e in history.session_timeline(db, mentee, session.id, limit=50, cursor=None).items]
    assert {"session.checked_in", "session.no_show", "attendance.disputed", "attendance.resolved"} <= set(timeline)


def test_a_credit_given_back_then_spent_makes_a_correction_to_the_mentees_absence_charge_the_fee(db: Session) -> None:
    mentor, mentee, session, booking = booked(db, bundle=True)
    attendance.check_in(db, mentee, session.id, now=session.start_time)
    attendance.report_no_show(db, mentee, session.id, now=session.start_time + GRACE)
    final(db, booking)  # undisputed in its window: the credit came back
    assert remaining(db, booking) == 2
    db.get_one(BundlePurchase, booking.bundle_purchase_id).remaining_sessions = 0  # both credits used since
    db.flush()
    dispute = attendance.dispute(db, mentor, session.id, reason="I was there, they were not",
                                 now=session.start_time + GRACE + timedelta(minutes=1))
    attendance.resolve_dispute(db, an_admin(), dispute.id, absent=NoShow.MENTEE)
    fee = PRICE * get_settings().cancellation_fee_percent // 100
    assert (booking.no_show, booking.credit_status, booking.no_show_fee_cents) == (NoShow.MENTEE,
                                                                                 CreditStatus.RETURNED, fee)
    assert remaining(db, booking) == 0


def test_nothing_to_dispute_without_a_finding(db: Session) -> None:
    mentor, mentee, session, _booking = booked(db)
    error = refused(db, BusinessRuleViolation, lambda: attendance.dispute(db, mentor, session.id, reason="why"))
    assert error.message == "this session is scheduled: nobody was found absent from it"
    attendance.check_in(db, mentor, session.id, now=session.start_time)
    attendance.check_in(db, mentee, session.id, now=session.start_time)
    session_sweeps.mark_missed_sessions(db, now=T + timedelta(days=30))
    assert session.status == SessionStatus.COMPLETED  # both came
    error = refused(db, BusinessRuleViolation, lambda: attendance.dispute(db, mentor, session.id, reason="why"))
    assert error.message == "nobody was found absent from this meeting: there is nothing to dispute"


def test_a_mentors_no_shows_are_counted_for_admins_and_themself_and_shown_to_others_as_a_rate_from_ten(
        db: Session) -> None:
    listing = ListingFactory(price_cents=PRICE)
    mentor = actor_of(listing.mentor_profile.user)
    made = []
    for day in range(10):
        mentee = UserFactory()
        booking = requests.request_booking(db, actor_of(mentee), listing_id=listing.id,
                                           start_time=T + timedelta(days=day))
        bookings.accept_booking(db, mentor, booking.id)
        session = sessions.create_session_from_booking(db, booking.id)
        assert session is not None
        made.append((actor_of(mentee), session))
    mentee, first = made[0]
    attendance.check_in(db, mentee, first.id, now=first.start_time)
    attendance.report_no_show(db, mentee, first.id, now=first.start_time + GRACE)
    attendance.confirm_due(db, now=first.start_time + GRACE + WINDOW)  # undisputed: it counts from now on
    for other_mentee, session in made[1:]:
        sessions.start_session(db, mentor, session.id, now=session.start_time)
        attendance.check_in(db, other_mentee, session.id, now=session.start_time)
        sessions.complete_session(db, mentor, session.id, now=session.end_time)
    outcomes = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id.in_([s.id for _, s in made]),
                                                    OutboxEvent.type.in_(["session.completed", "session.no_show"])))
    stranger = actor_of(UserFactory())
    analytics.handle_events(db, list(outcomes)[:-1])  # nine sessions counted: no rate yet
    assert (analytics.mentor_stats(db, stranger, listing.mentor_profile_id).no_show_rate,
            analytics.mentor_stats(db, stranger, listing.mentor_profile_id).no_show_count) == (None, None)
    rest = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == made[-1][1].id,
                                                OutboxEvent.type == "session.completed")).all()
    analytics.handle_events(db, list(rest))
    seen = analytics.mentor_stats(db, stranger, listing.mentor_profile_id)
    assert (seen.no_show_count, seen.no_show_rate) == (None, 0.1)
    assert analytics.mentor_stats(db, mentor, listing.mentor_profile_id).no_show_count == 1
    assert analytics.mentor_stats(db, an_admin(), listing.mentor_profile_id).no_show_count == 1
