"""Mentor statistics (``workflows/sessions/analytics.py``), called directly: what each event counts, added up per mentor
across batches."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import BookingStatus, Listing, MentorshipSession, OutboxEvent
from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from workflows.actors import Actor
from workflows.errors import NotFound
from workflows.sessions import analytics
from workflows.sessions import lifecycle as sessions
from workflows.sessions import sweeps as session_sweeps

START = datetime(2021, 5, 3, 9, tzinfo=UTC)  # long ago, for the missed sweep: no other test's session is due

ADMIN = Actor(uuid.uuid4(), is_admin=True)


def session_of(db: Session, listing: Listing, start: datetime) -> MentorshipSession:
    booking = BookingFactory(listing=listing, status=BookingStatus.ACCEPTED, start_time=start,
                             end_time=start + timedelta(minutes=listing.duration_minutes))
    made = sessions.create_session_from_booking(db, booking.id)
    assert made is not None
    return made


def events(db: Session, *session_ids: uuid.UUID) -> list[OutboxEvent]:
    return list(db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id.in_(session_ids))))


def test_completions_count_sessions_and_minutes_cancellations_and_misses_count_sessions(db: Session) -> None:
    listing = ListingFactory(duration_minutes=45)
    mentor = actor_of(listing.mentor_profile.user)
    done, cancelled, missed = (session_of(db, listing, START + timedelta(hours=h)) for h in (0, 2, 4))
    sessions.start_session(db, mentor, done.id, now=done.start_time)
    sessions.complete_session(db, mentor, done.id, now=done.end_time)
    sessions.cancel_session(db, mentor, cancelled.id, reason="ill", now=START - timedelta(days=1))
    assert session_sweeps.mark_missed_sessions(db, now=missed.end_time + timedelta(days=1)) == 1
    analytics.handle_events(db, events(db, done.id, cancelled.id, missed.id))  # scheduled and started count nothing
    stats = analytics.mentor_stats(db, ADMIN, listing.mentor_profile_id)
    assert (stats.sessions_completed, stats.minutes_completed, stats.sessions_cancelled, stats.sessions_missed) == (
        1, 45, 1, 1)


def test_batches_add_up_per_mentor(db: Session) -> None:
    first, second = ListingFactory(duration_minutes=30), ListingFactory(duration_minutes=90)
    made = [(listing, session_of(db, listing, START + timedelta(hours=h)))
            for h, listing in enumerate((first, first, second))]
    for listing, session in made:
        mentor = actor_of(listing.mentor_profile.user)
        sessions.start_session(db, mentor, session.id, now=session.start_time)
        sessions.complete_session(db, mentor, session.id, now=session.end_time)
    completed = [e for e in events(db, *(s.id for _, s in made)) if e.type == "session.completed"]
    analytics.handle_events(db, completed[:1])
    analytics.handle_events(db, completed[1:])
    first_stats, second_stats = (analytics.mentor_stats(db, ADMIN, listing.mentor_profile_id)
                                 for listing in (first, second))
    assert (first_stats.sessions_completed, first_stats.minutes_completed) == (2, 60)
    assert (second_stats.sessions_completed, second_stats.minutes_completed) == (1, 90)


def test_a_mentor_without_statistics_has_zeros_and_an_unknown_one_is_not_found(db: Session) -> None:
    profile = ListingFactory().mentor_profile
    stats = analytics.mentor_stats(db, ADMIN, profile.id)
    assert (stats.sessions_completed, stats.minutes_completed, stats.average_rating, stats.reviews_count) == (
        0, 0, None, 0)
    error = refused(db, NotFound, lambda: analytics.mentor_stats(db, ADMIN, UserFactory().id))
    assert error.message == "mentor profile not found"
