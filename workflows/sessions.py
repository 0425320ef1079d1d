"""Sessions: created once per accepted booking, then scheduled → in_progress → completed.

Also cancelled (policy of SPEC §3) or missed; terminal states never change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, ListingKind, MentorshipSession, SessionStatus
from workflows import outbox
from workflows.actors import Actor
from workflows.bookings import apply_transition as apply_booking_transition
from workflows.clock import utcnow
from workflows.config import get_settings
from workflows.errors import BusinessRuleViolation, Forbidden, InvalidTransition, NotFound
from workflows.pagination import Page, paginate
from workflows.roles import Role

log = structlog.get_logger(__name__)

CREATE_HANDLER = outbox.SESSIONS


@dataclass(frozen=True)
class Transition:
    sources: frozenset[SessionStatus]
    target: SessionStatus
    by: frozenset[Role]


_PARTICIPANTS = frozenset({Role.MENTOR, Role.MENTEE})

# The session state machine: action -> (allowed from, goes to, who may do it). No skipping, no reversal.
TRANSITIONS: dict[str, Transition] = {
    "start": Transition(frozenset({SessionStatus.SCHEDULED}), SessionStatus.IN_PROGRESS, _PARTICIPANTS),
    "complete": Transition(
        frozenset({SessionStatus.IN_PROGRESS}), SessionStatus.COMPLETED, frozenset({Role.MENTOR, Role.SYSTEM})
    ),
    "cancel": Transition(frozenset({SessionStatus.SCHEDULED}), SessionStatus.CANCELLED, _PARTICIPANTS),
    "miss": Transition(frozenset({SessionStatus.SCHEDULED}), SessionStatus.MISSED, frozenset({Role.SYSTEM})),
}

EVENT_BY_ACTION = {
    "schedule": "session.scheduled",
    "start": "session.started",
    "complete": "session.completed",
    "cancel": "session.cancelled",
    "miss": "session.missed",
}


def session_payload(session: MentorshipSession) -> dict[str, Any]:
    return {
        "id": str(session.id),
        "kind": session.kind,
        "booking_id": str(session.booking_id) if session.booking_id else None,
        "listing_id": str(session.listing_id),
        "mentor_profile_id": str(session.mentor_profile_id),
        "mentee_user_id": str(session.mentee_user_id) if session.mentee_user_id else None,
        "start_time": session.start_time.isoformat(),
        "end_time": session.end_time.isoformat(),
        "status": session.status,
    }


def role_of(actor: Actor, session: MentorshipSession) -> Role | None:
    if actor.mentor_profile_id is not None and session.mentor_profile_id == actor.mentor_profile_id:
        return Role.MENTOR
    if session.mentee_user_id is not None and session.mentee_user_id == actor.user_id:
        return Role.MENTEE
    return None


def apply_transition(session: MentorshipSession, action: str, role: Role) -> None:
    transition = TRANSITIONS[action]
    if role not in transition.by:
        raise Forbidden(f"only the mentor can {action} this session")
    if session.status not in transition.sources:
        raise InvalidTransition("session", session.status, action)
    session.status = transition.target


def _emit(db: Session, session: MentorshipSession, action: str, actor: str) -> None:
    event = EVENT_BY_ACTION[action]
    outbox.record_event(db, event, aggregate_type="session", aggregate_id=session.id,
                        payload=session_payload(session), actor=actor)
    log.info(event, session_id=str(session.id), booking_id=str(session.booking_id), actor=actor)


# --- creation -----------------------------------------------------------------------------------


def create_session_from_booking(
    db: Session, booking_id: uuid.UUID, *, event_id: uuid.UUID | None = None
) -> MentorshipSession | None:
    """Create the booking's session exactly once.

    The unique key on ``sessions.booking_id`` decides: a second run, or two
    workers at once, insert nothing. The handler row of the event is marked
    done in the same transaction, so the outbox stops redelivering.
    """
    handler_row = None
    if event_id is not None:
        handler_row = outbox.claim_handler(db, event_id, CREATE_HANDLER)
        if handler_row is None:
            return None  # already done by another delivery
    booking = db.get(Booking, booking_id)
    created = None
    if booking is not None and booking.status == BookingStatus.ACCEPTED:
        new_id = db.execute(
            insert(MentorshipSession)
            .values(
                id=uuid.uuid4(),
                kind=ListingKind.INDIVIDUAL.value,
                booking_id=booking.id,
                listing_id=booking.listing_id,
                mentor_profile_id=booking.mentor_profile_id,
                mentee_user_id=booking.mentee_user_id,
                start_time=booking.start_time,
                end_time=booking.end_time,
                status=SessionStatus.SCHEDULED.value,
            )
            .on_conflict_do_nothing(index_elements=[MentorshipSession.booking_id])
            .returning(MentorshipSession.id)
        ).scalar_one_or_none()
        if new_id is not None:
            created = db.get(MentorshipSession, new_id)
            assert created is not None
            _emit(db, created, "schedule", Role.SYSTEM.value)
    if handler_row is not None:
        outbox.mark_done(handler_row)
    else:
        outbox.mark_done_for_aggregate(db, booking_id, "booking.accepted", CREATE_HANDLER)
    return created


# --- reading ------------------------------------------------------------------------------------


def _load(db: Session, session_id: uuid.UUID, *, lock: bool) -> MentorshipSession | None:
    query = select(MentorshipSession).where(MentorshipSession.id == session_id)
    if lock:
        query = query.with_for_update()
    return db.execute(query).scalar_one_or_none()


def get_visible_session(
    db: Session, actor: Actor, session_id: uuid.UUID, *, lock: bool = False
) -> MentorshipSession:
    session = _load(db, session_id, lock=lock)
    if session is None or (role_of(actor, session) is None and not (actor.is_admin and not lock)):
        raise NotFound("session not found")
    return session


def list_sessions(
    db: Session, actor: Actor, *, role: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[MentorshipSession]:
    """The actor's sessions in start order. Each role filter is served by its own index."""
    query = select(MentorshipSession)
    as_mentor = MentorshipSession.mentor_profile_id == actor.mentor_profile_id
    as_mentee = MentorshipSession.mentee_user_id == actor.user_id
    if role == Role.MENTOR:
        if actor.mentor_profile_id is None:
            return Page(items=[], next_cursor=None)
        query = query.where(as_mentor)
    elif role == Role.MENTEE:
        query = query.where(as_mentee)
    else:
        query = query.where(as_mentee | as_mentor) if actor.mentor_profile_id else query.where(as_mentee)
    if status:
        query = query.where(MentorshipSession.status == status)
    return paginate(db, query, MentorshipSession.start_time, MentorshipSession.id, limit=limit, cursor=cursor)


# --- participants' actions ------------------------------------------------------------------------


def start_session(db: Session, actor: Actor, session_id: uuid.UUID, *, now: datetime | None = None
                  ) -> MentorshipSession:
    session = get_visible_session(db, actor, session_id, lock=True)
    role = role_of(actor, session)
    assert role is not None
    apply_transition(session, "start", role)
    now = now or utcnow()
    opens = session.start_time - timedelta(minutes=get_settings().start_early_minutes)
    if now < opens:
        raise BusinessRuleViolation(
            f"too early: a session can be started from {opens.isoformat()}", opens_at=opens.isoformat()
        )
    if now >= session.end_time:
        raise BusinessRuleViolation("this session's time has passed")
    session.started_at = now
    db.flush()
    _emit(db, session, "start", str(actor))
    return session


def complete_session(
    db: Session,
    actor: Actor,
    session_id: uuid.UUID,
    *,
    notes: str | None = None,
    action_items: list[Any] | None = None,
    metadata: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> MentorshipSession:
    session = get_visible_session(db, actor, session_id, lock=True)
    role = role_of(actor, session)
    assert role is not None
    apply_transition(session, "complete", role)
    session.completed_at = now or utcnow()
    session.completed_by = Role.MENTOR.value
    session.notes = notes
    session.action_items = action_items or []
    session.session_metadata = metadata or {}
    db.flush()
    _emit(db, session, "complete", str(actor))
    return session


def cancel_session(
    db: Session, actor: Actor, session_id: uuid.UUID, *, reason: str, now: datetime | None = None
) -> MentorshipSession:
    """Cancel with the policy: a mentee less than the window before start is late and pays the fee."""
    session = get_visible_session(db, actor, session_id, lock=True)
    role = role_of(actor, session)
    assert role is not None
    apply_transition(session, "cancel", role)
    now = now or utcnow()
    settings = get_settings()
    booking = db.get(Booking, session.booking_id, with_for_update=True) if session.booking_id else None
    late = role == Role.MENTEE and session.start_time - now < timedelta(hours=settings.cancellation_window_hours)
    price = booking.price_cents if booking else 0
    session.cancelled_at = now
    session.cancelled_by = role.value
    session.cancel_reason = reason
    session.cancel_late = late
    session.cancel_fee_cents = price * settings.cancellation_fee_percent // 100 if late else 0
    session.credit_refunded = False
    if booking is not None:
        apply_booking_transition(booking, "cancel_session", Role.SYSTEM)
        booking.cancel_reason = reason
    db.flush()
    _emit(db, session, "cancel", str(actor))
    return session


# --- periodic -----------------------------------------------------------------------------------


def mark_missed_sessions(db: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Scheduled sessions never started by end + grace become ``missed``."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=get_settings().missed_grace_minutes)
    rows = db.execute(
        select(MentorshipSession)
        .where(MentorshipSession.status == SessionStatus.SCHEDULED, MentorshipSession.end_time <= cutoff)
        .order_by(MentorshipSession.end_time)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    for session in rows:
        apply_transition(session, "miss", Role.SYSTEM)
        _emit(db, session, "miss", Role.SYSTEM.value)
    db.flush()
    return len(rows)


def auto_complete_sessions(db: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Sessions left in progress past end + the grace hours are completed by the system."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=get_settings().auto_complete_hours)
    rows = db.execute(
        select(MentorshipSession)
        .where(MentorshipSession.status == SessionStatus.IN_PROGRESS, MentorshipSession.end_time <= cutoff)
        .order_by(MentorshipSession.end_time)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    for session in rows:
        apply_transition(session, "complete", Role.SYSTEM)
        session.completed_at = now
        session.completed_by = Role.SYSTEM.value
        _emit(db, session, "complete", Role.SYSTEM.value)
    db.flush()
    return len(rows)
