"""The handlers (``workflows/handlers.py``), called directly as their tasks call them: each does its work for
the events it is declared for, in the caller's transaction, and leaves nothing for an event it was not."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Booking,
    BookingStatus,
    MentorshipSession,
    MentorStats,
    Notification,
    ReviewEligibility,
    SessionStatus,
    WebhookMessage,
)
from outbox import REGISTRY
from outbox.registry import Work
from tests.factories.accounts import UserFactory
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import make_session
from tests.webhook_domain import make_endpoint
from workflows.events import EventType, record
from workflows.payloads import booking_payload, session_payload

START = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


def work_of(handler: str) -> Work:
    (spec,) = [spec for spec in REGISTRY.handler_specs() if spec.name == handler]
    return spec.work


def count(db: Session, model: type, *where: object) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_a_completed_session_is_unlocked_told_counted_and_sent_by_its_four_handlers(db: Session) -> None:
    mentor, mentee, session = make_session(db, START)
    endpoint = make_endpoint(db, mentor.user, event_types=["*"])
    session.status = SessionStatus.COMPLETED
    session.completed_at = START + timedelta(hours=1)
    db.flush()
    event = record(db, EventType.SESSION_COMPLETED, session_payload(session), actor="system")
    assert REGISTRY.handlers_for(EventType.SESSION_COMPLETED) == (
        "reviews.unlock", "notifications.notify", "analytics.record", "analytics.programmes",
        "webhooks.fan_out")  # as declared

    work_of("reviews.unlock")(db, [event])
    assert count(db, ReviewEligibility, ReviewEligibility.session_id == session.id,
                 ReviewEligibility.mentee_user_id == mentee.user.id) == 1
    work_of("notifications.notify")(db, [event])
    told = set(db.scalars(select(Notification.user_id).where(Notification.event_id == event.id)))
    assert told == {mentor.user.id, mentee.user.id}
    work_of("analytics.record")(db, [event])
    stats = db.get_one(MentorStats, session.mentor_profile_id)
    assert (stats.sessions_completed, stats.minutes_completed) == (1, 60)
    work_of("webhooks.fan_out")(db, [event])
    assert count(db, WebhookMessage, WebhookMessage.endpoint_id == endpoint.id,
                 WebhookMessage.event_id == event.id) == 1


def test_an_accepted_booking_gets_its_session_and_a_request_gets_none(db: Session) -> None:
    listing = ListingFactory()
    made = []
    for status in (BookingStatus.ACCEPTED, BookingStatus.DRAFT):
        booking = Booking(id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
                          mentee_user_id=UserFactory().id, start_time=START, end_time=START + timedelta(hours=1),
                          status=status, price_cents=100, currency="USD")
        db.add(booking)
        db.flush()
        made.append(booking)
    accepted = record(db, EventType.BOOKING_ACCEPTED, booking_payload(made[0]), actor="mentor")
    assert "sessions.create_from_booking" not in REGISTRY.handlers_for(EventType.BOOKING_REQUESTED)
    # Kicked first after the accept commits: an idle worker taking every queue receives the session's first.
    assert REGISTRY.handlers_for(EventType.BOOKING_ACCEPTED) == (
        "sessions.create_from_booking", "notifications.notify", "webhooks.fan_out")

    work_of("sessions.create_from_booking")(db, [accepted])
    work_of("sessions.create_from_booking")(db, [accepted])  # by hand after the task: the booking's key says no
    sessions = db.scalars(select(MentorshipSession).where(
        MentorshipSession.booking_id.in_([b.id for b in made]))).all()
    assert [(s.booking_id, s.status) for s in sessions] == [(made[0].id, SessionStatus.SCHEDULED)]
