"""Capacity guarantees: concurrent joins never overfill a group; concurrent bundle bookings never overspend."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, BookingStatus, Bundle, BundlePurchase, ListingKind, MentorshipSession, SessionStatus
from tests.concurrency import concurrently
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import GroupSessionFactory
from tests.servers import live_app


def test_concurrent_joins_never_exceed_capacity(seed: Session, committed: sessionmaker[Session]) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=5)
    start = datetime.now(UTC) + timedelta(days=2)
    session = GroupSessionFactory(listing=listing, start_time=start)
    mentees = [as_caller(UserFactory()) for _ in range(20)]
    seed.commit()
    app = live_app(committed)

    def join(headers: dict[str, str]):
        return lambda: app.test_client().post(f"/api/v1/sessions/{session.id}/join", headers=headers).status_code

    statuses = concurrently([join(m.headers) for m in mentees])
    assert Counter(statuses) == {201: 5, 409: 15}, statuses
    with committed() as db:
        seats = db.scalar(select(func.count()).where(Booking.group_session_id == session.id,
                                                     Booking.status == BookingStatus.ACCEPTED))
        taken = db.scalar(select(MentorshipSession.seats_taken).where(MentorshipSession.id == session.id))
    assert seats == taken == 5


def test_a_join_racing_the_mentors_cancellation_never_leaves_a_seat_on_a_cancelled_session(
        seed: Session, committed: sessionmaker[Session]) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=50)
    mentor = as_caller(listing.mentor_profile.user)
    mentees = [as_caller(UserFactory()) for _ in range(12)]
    sessions = []
    for day in range(4):
        start = datetime.now(UTC) + timedelta(days=2 + day)
        sessions.append(GroupSessionFactory(listing=listing, start_time=start))
    seed.commit()
    app = live_app(committed)

    def post(path: str, headers: dict[str, str], body: dict[str, str] | None = None):
        return lambda: app.test_client().post(path, headers=headers, json=body).status_code

    for session in sessions:
        calls = [post(f"/api/v1/sessions/{session.id}/join", m.headers) for m in mentees]
        calls.insert(len(calls) // 2, post(f"/api/v1/sessions/{session.id}/cancel", mentor.headers,
                                           {"reason": "called off"}))
        outcomes = concurrently(calls)
        assert set(outcomes) <= {200, 201, 400}, outcomes
    with committed() as db:
        left = db.execute(
            select(MentorshipSession.id, func.count(Booking.id))
            .join(Booking, Booking.group_session_id == MentorshipSession.id)
            .where(MentorshipSession.status == SessionStatus.CANCELLED, Booking.status == BookingStatus.ACCEPTED)
            .group_by(MentorshipSession.id)
        ).all()
        cancelled = db.scalar(select(func.count()).select_from(MentorshipSession)
                              .where(MentorshipSession.status == SessionStatus.CANCELLED))
    assert cancelled == len(sessions)
    assert left == [], f"accepted seats on cancelled sessions: {left}"


def test_concurrent_bundle_bookings_never_overspend(seed: Session, committed: sessionmaker[Session]) -> None:
    listing = ListingFactory()
    mentee = UserFactory()
    bundle = Bundle(id=uuid.uuid4(), listing_id=listing.id, sessions_count=3, price_cents=100, currency="USD",
                    valid_days=30)
    seed.add(bundle)
    seed.flush()
    purchase = BundlePurchase(id=uuid.uuid4(), bundle_id=bundle.id, mentee_user_id=mentee.id, remaining_sessions=3,
                              price_cents=100, currency="USD", valid_until=datetime.now(UTC) + timedelta(days=30))
    seed.add(purchase)
    seed.commit()
    app = live_app(committed)
    headers = as_caller(mentee).headers
    base = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)

    def book(index: int):
        body = {"listing_id": str(listing.id), "start_time": (base + timedelta(hours=index)).isoformat(),
                "bundle_purchase_id": str(purchase.id)}
        return lambda: app.test_client().post("/api/v1/bookings", json=body, headers=headers).status_code

    statuses = concurrently([book(i) for i in range(12)])
    assert Counter(statuses) == {201: 3, 409: 9}, statuses
    with committed() as db:
        left = db.scalar(select(BundlePurchase.remaining_sessions).where(BundlePurchase.id == purchase.id))
        held = db.scalar(select(func.count()).where(Booking.bundle_purchase_id == purchase.id,
                                                    Booking.credit_status == "held"))
    assert (left, held) == (0, 3)
