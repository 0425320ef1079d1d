"""Committed data for the workflows that real workers run, and counts of what the workers made of it."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Booking,
    BookingStatus,
    HandlerStatus,
    MentorshipSession,
    MentorStats,
    Notification,
    OutboxHandler,
    ReviewEligibility,
    SessionStatus,
)
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory

START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)


def seed_drafts(seed: Session, count: int, *, overlapping: bool = False) -> tuple[Caller, list[uuid.UUID]]:
    """``count`` drafts on one mentor's listing, an hour apart (or 5 minutes apart, all overlapping)."""
    listing = ListingFactory()
    step = timedelta(minutes=5) if overlapping else timedelta(hours=1)
    ids = []
    for index in range(count):
        mentee = UserFactory()
        start = START + index * step
        booking = Booking(id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
                          mentee_user_id=mentee.id, start_time=start, end_time=start + timedelta(hours=1),
                          status=BookingStatus.DRAFT, price_cents=5000, currency="USD")
        seed.add(booking)
        ids.append(booking.id)
    seed.commit()
    return as_caller(listing.mentor_profile.user), ids


def accept_all(app: Flask, mentor: Caller, ids: list[uuid.UUID]) -> None:
    """The mentor accepts each draft through the API, one request after the other."""
    client = app.test_client()
    headers = mentor.headers
    for booking_id in ids:
        response = client.post(f"/api/v1/bookings/{booking_id}/accept", headers=headers)
        assert response.status_code == 200, response.get_json()


def sessions_per_booking(committed: sessionmaker[Session], ids: list[uuid.UUID]) -> Counter[uuid.UUID]:
    with committed() as db:
        rows = db.scalars(select(MentorshipSession.booking_id).where(MentorshipSession.booking_id.in_(ids)))
        return Counter(row for row in rows if row is not None)


def every_booking_has_one_session(committed: sessionmaker[Session], ids: list[uuid.UUID]) -> bool:
    counts = sessions_per_booking(committed, ids)
    assert all(n == 1 for n in counts.values()), f"doubled sessions: {counts.most_common(3)}"
    return len(counts) == len(ids)


def seed_sessions_in_progress(seed: Session, count: int) -> list[tuple[Caller, Caller, uuid.UUID]]:
    """``count`` sessions under way, each with its own mentor and mentee."""
    now = datetime.now(UTC)
    result = []
    for _ in range(count):
        listing = ListingFactory()
        mentee = UserFactory()
        booking = Booking(id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
                          mentee_user_id=mentee.id, start_time=now - timedelta(minutes=5),
                          end_time=now + timedelta(minutes=55), status=BookingStatus.ACCEPTED,
                          price_cents=5000, currency="USD")
        session = MentorshipSession(
            id=uuid.uuid4(), kind="individual", booking_id=booking.id, listing_id=listing.id,
            mentor_profile_id=listing.mentor_profile_id, mentee_user_id=mentee.id,
            start_time=booking.start_time, end_time=booking.end_time, status=SessionStatus.IN_PROGRESS,
            started_at=now - timedelta(minutes=4))
        seed.add(booking)
        seed.flush()
        seed.add(session)
        result.append((as_caller(listing.mentor_profile.user), as_caller(mentee), session.id))
    seed.commit()
    return result


def side_effects(committed: sessionmaker[Session]) -> dict[str, int]:
    """What the completions' handlers did: notifications, review eligibilities, counted completions, and
    the handler rows still pending."""
    with committed() as db:
        return {
            "notifications": db.scalar(select(func.count()).where(Notification.type == "session.completed")) or 0,
            "eligibilities": db.scalar(select(func.count()).select_from(ReviewEligibility)) or 0,
            "completed_counted": db.scalar(select(func.coalesce(func.sum(MentorStats.sessions_completed), 0))) or 0,
            "pending_handlers": db.scalar(select(func.count()).where(
                OutboxHandler.status == HandlerStatus.PENDING,
                OutboxHandler.handler.in_(["reviews.unlock", "notifications.notify", "analytics.record"]))) or 0,
        }
