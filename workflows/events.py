"""Domain events: the payload of each event type, built in one place, and who an event concerns.

Workflows record their events with :func:`record_booking_event`, :func:`record_session_event` and
:func:`record_review_event`; the payload is the JSON the outbox stores, webhooks carry and live
streams show. Handlers read an event back with :func:`parse`.

One audience rule (:func:`participants`): an event concerns its mentor (by mentor profile) and
its mentees: the participants of a group session (``mentee_user_ids``), else the one
``mentee_user_id`` of the booking, session or review. What each of them receives is
:func:`view_for` their role: the mentor sees the payload whole; a mentee sees it without the
participant list, so the mentees of a group session never learn each other's ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, cast

from sqlalchemy import ColumnElement, false, or_
from sqlalchemy.orm import Session

from models import Booking, ListingKind, MentorshipSession, OutboxEvent, Review
from workflows import outbox
from workflows.roles import Role

BOOKING_EVENTS = frozenset({
    "booking.requested", "booking.accepted", "booking.declined", "booking.cancelled", "booking.expired",
})
SESSION_EVENTS = frozenset({
    "session.scheduled", "session.started", "session.completed", "session.cancelled", "session.missed",
    "session.updated",
})
REVIEW_EVENTS = frozenset({"review.created"})
REMINDER_EVENT = "session.reminder"
REMINDER_EVENTS = frozenset({REMINDER_EVENT})

# Where the payload names the people it concerns: read by participants() and by concerns_clause().
MENTOR_KEY = "mentor_profile_id"
MENTEE_KEY = "mentee_user_id"
GROUP_KEY = "mentee_user_ids"


class BookingPayload(TypedDict):
    """``booking.*``: a request, a decision, a seat taken in a group session (``booking.accepted``)."""

    id: str
    listing_id: str
    mentor_profile_id: str
    mentee_user_id: str
    start_time: str
    end_time: str
    status: str
    price_cents: int
    currency: str
    bundle_purchase_id: str | None
    group_session_id: str | None


class SeatReleasedPayload(BookingPayload):
    """``booking.cancelled`` when a mentee gives up their seat in a group session."""

    late: bool


class SessionPayload(TypedDict):
    """``session.*`` of an individual session; ``session.updated`` when the mentor changed its meeting URL
    or agenda (``meeting_url`` is the one the mentor set, null when the listing's location or the
    default applies)."""

    id: str
    kind: str
    booking_id: str | None
    listing_id: str
    mentor_profile_id: str
    mentee_user_id: str | None
    start_time: str
    end_time: str
    status: str
    meeting_url: str | None
    agenda: str | None


class GroupSessionPayload(SessionPayload):
    """``session.*`` of a group session: its seats and every participant, for routing and the mentor."""

    capacity: int | None
    seats_taken: int
    mentee_user_ids: list[str]


class SessionReminderPayload(SessionPayload):
    """``session.reminder``: an individual session starts in ``offset_seconds`` (one of ``REMINDER_OFFSETS``)."""

    offset_seconds: int


class GroupSessionReminderPayload(GroupSessionPayload):
    """``session.reminder`` of a group session: its seats, every participant, and ``offset_seconds``."""

    offset_seconds: int


class ReviewPayload(TypedDict):
    """``review.created``."""

    id: str
    session_id: str
    mentor_profile_id: str
    mentee_user_id: str
    rating: int
    comment: str


EventPayload = (BookingPayload | SeatReleasedPayload | SessionPayload | GroupSessionPayload | ReviewPayload
                | SessionReminderPayload | GroupSessionReminderPayload)


# --- building -------------------------------------------------------------------------------------


def booking_payload(booking: Booking) -> BookingPayload:
    return {
        "id": str(booking.id),
        "listing_id": str(booking.listing_id),
        "mentor_profile_id": str(booking.mentor_profile_id),
        "mentee_user_id": str(booking.mentee_user_id),
        "start_time": booking.start_time.isoformat(),
        "end_time": booking.end_time.isoformat(),
        "status": booking.status,
        "price_cents": booking.price_cents,
        "currency": booking.currency,
        "bundle_purchase_id": str(booking.bundle_purchase_id) if booking.bundle_purchase_id else None,
        "group_session_id": str(booking.group_session_id) if booking.group_session_id else None,
    }


def session_payload(session: MentorshipSession, participants: Sequence[uuid.UUID] = ()
                    ) -> SessionPayload | GroupSessionPayload:
    """An individual session's payload; a group session's adds its seats and ``participants``."""
    individual: SessionPayload = {
        "id": str(session.id),
        "kind": session.kind,
        "booking_id": str(session.booking_id) if session.booking_id else None,
        "listing_id": str(session.listing_id),
        "mentor_profile_id": str(session.mentor_profile_id),
        "mentee_user_id": str(session.mentee_user_id) if session.mentee_user_id else None,
        "start_time": session.start_time.isoformat(),
        "end_time": session.end_time.isoformat(),
        "status": session.status,
        "meeting_url": session.meeting_url,
        "agenda": session.agenda,
    }
    if session.kind != ListingKind.GROUP:
        return individual
    return {"capacity": session.capacity, "seats_taken": session.seats_taken,
            "mentee_user_ids": [str(p) for p in participants], **individual}


def review_payload(review: Review) -> ReviewPayload:
    return {"id": str(review.id), "session_id": str(review.session_id),
            "mentor_profile_id": str(review.mentor_profile_id), "mentee_user_id": str(review.mentee_user_id),
            "rating": review.rating, "comment": review.comment}


def record_booking_event(db: Session, event_type: str, booking: Booking, *, actor: str,
                         late: bool | None = None) -> OutboxEvent:
    """Record ``booking.*``; ``late`` marks a mentee's release of a group seat (``booking.cancelled``)."""
    _require(event_type, BOOKING_EVENTS)
    payload: BookingPayload | SeatReleasedPayload = booking_payload(booking)
    if late is not None:
        payload = {**payload, "late": late}
    return outbox.record_event(db, event_type, aggregate_type="booking", aggregate_id=booking.id,
                               payload=dict(payload), actor=actor)


def record_session_event(db: Session, event_type: str, session: MentorshipSession, *, actor: str,
                         participants: Sequence[uuid.UUID] = ()) -> OutboxEvent:
    """Record ``session.*``; a group session's event names its ``participants`` (see :func:`view_for`)."""
    _require(event_type, SESSION_EVENTS)
    return outbox.record_event(db, event_type, aggregate_type="session", aggregate_id=session.id,
                               payload=dict(session_payload(session, participants)), actor=actor)


def record_session_events(db: Session, event_type: str, sessions: Sequence[MentorshipSession], *, actor: str
                          ) -> list[OutboxEvent]:
    """Record ``session.*`` for many individual sessions in one statement."""
    _require(event_type, SESSION_EVENTS)
    if any(session.kind == ListingKind.GROUP for session in sessions):
        raise ValueError("a group session's event names its participants: record it alone")
    return outbox.record_events(db, event_type, aggregate_type="session", actor=actor,
                                items=[(session.id, dict(session_payload(session))) for session in sessions])


def record_reminder_event(db: Session, session: MentorshipSession, offset_seconds: int,
                          participants: Sequence[uuid.UUID] = ()) -> OutboxEvent:
    """Record ``session.reminder``: the session's payload and how long before its start this reminder is."""
    payload = {**session_payload(session, participants), "offset_seconds": offset_seconds}
    return outbox.record_event(db, REMINDER_EVENT, aggregate_type="session", aggregate_id=session.id,
                               payload=payload, actor="system")


def _require(event_type: str, shape: frozenset[str]) -> None:
    if event_type not in shape:
        raise ValueError(f"{event_type} does not carry this payload")


def record_review_event(db: Session, review: Review, *, actor: str) -> OutboxEvent:
    return outbox.record_event(db, "review.created", aggregate_type="review", aggregate_id=review.id,
                               payload=dict(review_payload(review)), actor=actor)


# --- reading: who an event concerns, and what each of them sees -------------------------------------


@dataclass(frozen=True)
class Participants:
    """The people an event concerns: its mentor, by mentor profile, and its mentees, by user."""

    mentor_profile_id: uuid.UUID | None
    mentee_user_ids: tuple[uuid.UUID, ...]

    def role_of(self, user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None) -> Role | None:
        """The part this user (with this mentor profile, if any) takes in the event, or ``None``."""
        if mentor_profile_id is not None and mentor_profile_id == self.mentor_profile_id:
            return Role.MENTOR
        return Role.MENTEE if user_id in self.mentee_user_ids else None


def participants(payload: Mapping[str, Any]) -> Participants:
    """The one audience rule: the payload's mentor, and its group's participants or else its one mentee."""
    mentor = payload.get(MENTOR_KEY)
    group = payload.get(GROUP_KEY)
    mentees = group if isinstance(group, list) else [payload[MENTEE_KEY]] if payload.get(MENTEE_KEY) else []
    return Participants(uuid.UUID(str(mentor)) if mentor else None, tuple(uuid.UUID(str(m)) for m in mentees))


def view_for(payload: Mapping[str, Any], role: Role) -> dict[str, Any]:
    """The payload as someone taking part in ``role`` may see it: a mentee never sees the other mentees."""
    if role == Role.MENTEE:
        return {key: value for key, value in payload.items() if key != GROUP_KEY}
    return dict(payload)


def mentor_in(mentor_profile_ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    """SQL over stored events: the event's mentor is one of these."""
    if not mentor_profile_ids:
        return false()
    mentor: ColumnElement[bool] = OutboxEvent.payload[MENTOR_KEY].astext.in_([str(m) for m in mentor_profile_ids])
    return mentor


def concerns_clause(user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None) -> ColumnElement[bool]:
    """:func:`participants` as SQL over stored events: the user is one of the mentees, or the mentor."""
    me = str(user_id)
    return or_(
        OutboxEvent.payload[MENTEE_KEY].astext == me,
        OutboxEvent.payload[GROUP_KEY].contains([me]),
        mentor_in([mentor_profile_id] if mentor_profile_id else []),
    )


@dataclass(frozen=True)
class DomainEvent:
    """An outbox event read back: its type, its payload, and who it concerns."""

    id: uuid.UUID
    type: str
    payload: EventPayload
    participants: Participants

    def role_of(self, user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None) -> Role | None:
        return self.participants.role_of(user_id, mentor_profile_id)

    def view_for(self, role: Role) -> dict[str, Any]:
        return view_for(self.payload, role)


def parse(event_id: uuid.UUID | str, event_type: str, payload: Mapping[str, Any]) -> DomainEvent:
    """An event from its outbox row's (or live message's) id, type and payload."""
    return DomainEvent(uuid.UUID(str(event_id)), event_type, cast(EventPayload, payload), participants(payload))


def from_outbox(event: OutboxEvent) -> DomainEvent:
    return parse(event.id, event.type, event.payload)
