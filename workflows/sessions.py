"""Sessions: created once per accepted booking, then scheduled → in_progress → completed.

Also cancelled (policy of SPEC §3) or missed; terminal states never change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import Executable, Table, Uuid, bindparam, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from models import Booking, BookingStatus, Listing, ListingKind, MentorshipSession, SessionStatus
from workflows import outbox
from workflows.actors import Actor
from workflows.bookings import apply_transition as apply_booking_transition
from workflows.bookings import booking_payload, lock_mentor_schedule
from workflows.bundles import release_credit
from workflows.clock import utcnow
from workflows.config import get_settings
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidTransition, NotFound
from workflows.pagination import Page, paginate
from workflows.roles import Role, participation

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


def group_participants(db: Session, session_id: uuid.UUID) -> list[uuid.UUID]:
    """Mentees holding a seat in a group session."""
    return list(db.scalars(
        select(Booking.mentee_user_id)
        .where(Booking.group_session_id == session_id, Booking.status == BookingStatus.ACCEPTED)
        .order_by(Booking.created_at, Booking.id)
    ))


def session_payload(session: MentorshipSession, participants: list[uuid.UUID] | None = None) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if session.kind == ListingKind.GROUP:
        extra = {"capacity": session.capacity, "seats_taken": session.seats_taken,
                 "mentee_user_ids": [str(p) for p in participants or []]}
    return {**extra,
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


def role_of(db: Session, actor: Actor, session: MentorshipSession) -> Role | None:
    """The actor's part in the session: its mentor, its mentee (or one holding a seat), or none."""
    if actor.mentor_profile_id is not None and session.mentor_profile_id == actor.mentor_profile_id:
        return Role.MENTOR
    if session.mentee_user_id is not None and session.mentee_user_id == actor.user_id:
        return Role.MENTEE
    if session.kind == ListingKind.GROUP and db.scalar(
        select(Booking.id).where(Booking.group_session_id == session.id, Booking.mentee_user_id == actor.user_id,
                                 Booking.status.in_(_seat_statuses(session)))
    ):
        return Role.MENTEE
    return None


def _seat_statuses(session: MentorshipSession) -> tuple[BookingStatus, ...]:
    """Seats that make their holder a participant: held ones, and, once the mentor cancelled the session,
    the seats that cancellation ended (so the participants can still read what happened)."""
    if session.status == SessionStatus.CANCELLED:
        return (BookingStatus.ACCEPTED, BookingStatus.CANCELLED)
    return (BookingStatus.ACCEPTED,)


def apply_transition(session: MentorshipSession, action: str, role: Role) -> None:
    transition = TRANSITIONS[action]
    if role not in transition.by:
        raise Forbidden(f"only the mentor can {action} this session")
    if session.status not in transition.sources:
        raise InvalidTransition("session", session.status, action)
    session.status = transition.target


def _emit(db: Session, session: MentorshipSession, action: str, actor: str,
          participants: list[uuid.UUID] | None = None) -> None:
    """Record the session's event; a group's participants are read now unless the caller knew them before."""
    event = EVENT_BY_ACTION[action]
    if participants is None and session.kind == ListingKind.GROUP:
        participants = group_participants(db, session.id)
    outbox.record_event(db, event, aggregate_type="session", aggregate_id=session.id,
                        payload=session_payload(session, participants), actor=actor)
    log.info(event, session_id=str(session.id), booking_id=str(session.booking_id), actor=actor)


# --- creation -----------------------------------------------------------------------------------


def _create_session_statement() -> Executable:
    """Reads the booking and inserts its session, in one statement built once.

    A seat in a group session is an accepted booking too, but its session already exists.
    """
    sessions = cast(Table, MentorshipSession.__table__)
    booking = select(
        bindparam("session_id", type_=Uuid), literal(ListingKind.INDIVIDUAL.value), Booking.id, Booking.listing_id,
        Booking.mentor_profile_id, Booking.mentee_user_id, Booking.start_time, Booking.end_time,
        literal(SessionStatus.SCHEDULED.value),
    ).where(Booking.id == bindparam("booking_id"), Booking.status == BookingStatus.ACCEPTED,
            Booking.group_session_id.is_(None))
    inserted = (
        insert(sessions)
        .from_select(["id", "kind", "booking_id", "listing_id", "mentor_profile_id", "mentee_user_id",
                      "start_time", "end_time", "status"], booking)
        .on_conflict_do_nothing(index_elements=[sessions.c.booking_id])
        .returning(*sessions.c)  # the new row as an object, in the same round trip
    )
    return select(MentorshipSession).from_statement(inserted)


_CREATE_SESSION = _create_session_statement()


def create_session_from_booking(
    db: Session, booking_id: uuid.UUID, *, event_id: uuid.UUID | None = None
) -> MentorshipSession | None:
    """Create the booking's session exactly once.

    The unique key on ``sessions.booking_id`` decides: a second run, or two
    workers at once, insert nothing. The handler row of the event is marked
    done in the same transaction, so the outbox stops redelivering.
    """
    if event_id is not None and not outbox.claim_handler(db, event_id, CREATE_HANDLER):
        return None  # already done by another delivery
    created: MentorshipSession | None = db.scalars(
        _CREATE_SESSION, {"session_id": uuid.uuid4(), "booking_id": booking_id}).one_or_none()
    if created is not None:
        _emit(db, created, "schedule", Role.SYSTEM.value)
    if event_id is None:
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
    if session is None or (role_of(db, actor, session) is None and not (actor.is_admin and not lock)):
        raise NotFound("session not found")
    return session


def list_sessions(
    db: Session, actor: Actor, *, role: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[MentorshipSession]:
    """The actor's sessions in start order. Each role filter is served by its own index."""
    seated_in = aliased(MentorshipSession)
    seats = select(Booking.group_session_id).join(seated_in, seated_in.id == Booking.group_session_id).where(
        Booking.mentee_user_id == actor.user_id,
        (Booking.status == BookingStatus.ACCEPTED)
        | ((Booking.status == BookingStatus.CANCELLED) & (seated_in.status == SessionStatus.CANCELLED)),
    )
    mine = participation(
        role, actor, MentorshipSession.mentor_profile_id == actor.mentor_profile_id,
        (MentorshipSession.mentee_user_id == actor.user_id) | MentorshipSession.id.in_(seats),
    )
    if mine is None:
        return Page(items=[], next_cursor=None)
    query = select(MentorshipSession).where(mine)
    if status:
        query = query.where(MentorshipSession.status == status)
    return paginate(db, query, MentorshipSession.start_time, MentorshipSession.id, limit=limit, cursor=cursor)


# --- participants' actions ------------------------------------------------------------------------


def start_session(db: Session, actor: Actor, session_id: uuid.UUID, *, now: datetime | None = None
                  ) -> MentorshipSession:
    session = get_visible_session(db, actor, session_id, lock=True)
    role = role_of(db, actor, session)
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
    role = role_of(db, actor, session)
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
    """Cancel with the policy: a mentee less than the window before start is late and pays the fee
    (or forfeits the bundle credit); a mentor is never late and always refunds.

    A mentee cancelling a group session gives up their own seat; the session goes on for the others.
    """
    session = get_visible_session(db, actor, session_id, lock=True)
    role = role_of(db, actor, session)
    assert role is not None
    now = now or utcnow()
    settings = get_settings()
    late = role == Role.MENTEE and session.start_time - now < timedelta(hours=settings.cancellation_window_hours)
    if session.kind == ListingKind.GROUP and role == Role.MENTEE:
        return _leave_group_session(db, actor, session, reason=reason, late=late)
    apply_transition(session, "cancel", role)
    participants: list[uuid.UUID] | None = None
    if session.booking_id is not None:
        bookings = [db.get(Booking, session.booking_id, with_for_update=True)]
    else:
        seats = list(db.scalars(select(Booking).where(
            Booking.group_session_id == session.id, Booking.status == BookingStatus.ACCEPTED)
            .order_by(Booking.created_at, Booking.id).with_for_update()))
        participants = [seat.mentee_user_id for seat in seats]  # told of it, though their seats end now
        bookings = list(seats)
    refunded = False
    fee = 0
    for booking in bookings:
        assert booking is not None
        if booking.credit_status == "held":
            refunded = release_credit(db, booking, refund=not late)
        elif late:
            fee = booking.price_cents * settings.cancellation_fee_percent // 100
        apply_booking_transition(booking, "cancel_session", Role.SYSTEM)
        booking.cancel_reason = reason
    session.cancelled_at = now
    session.cancelled_by = role.value
    session.cancel_reason = reason
    session.cancel_late = late
    session.cancel_fee_cents = fee
    session.credit_refunded = refunded
    db.flush()
    _emit(db, session, "cancel", str(actor), participants)
    return session


def _leave_group_session(db: Session, actor: Actor, session: MentorshipSession, *, reason: str, late: bool
                         ) -> MentorshipSession:
    if session.status != SessionStatus.SCHEDULED:
        raise InvalidTransition("session", session.status, "cancel")
    seat = db.execute(select(Booking).where(
        Booking.group_session_id == session.id, Booking.mentee_user_id == actor.user_id,
        Booking.status == BookingStatus.ACCEPTED).with_for_update()).scalar_one()
    apply_booking_transition(seat, "cancel_session", Role.SYSTEM)
    seat.cancel_reason = reason
    session.seats_taken -= 1
    db.flush()
    outbox.record_event(db, "booking.cancelled", aggregate_type="booking", aggregate_id=seat.id,
                        payload={**booking_payload(seat), "late": late}, actor=str(actor))
    log.info("session.seat_released", session_id=str(session.id), booking_id=str(seat.id), actor=str(actor))
    return session


# --- group sessions -------------------------------------------------------------------------------


def schedule_group_session(db: Session, actor: Actor, listing_id: uuid.UUID, *, start_time: datetime,
                           now: datetime | None = None) -> MentorshipSession:
    """The mentor puts a group session on the calendar; it never overlaps their other sessions."""
    listing = db.get(Listing, listing_id)
    if listing is None:
        raise NotFound("listing not found")
    if listing.mentor_profile_id != actor.mentor_profile_id:
        raise Forbidden("only the listing's mentor can schedule its group sessions")
    if listing.kind != ListingKind.GROUP:
        raise BusinessRuleViolation("only group listings have group sessions")
    if not listing.active:
        raise BusinessRuleViolation("this listing is not active")
    now = now or utcnow()
    if start_time <= now:
        raise BusinessRuleViolation("a group session must start in the future")
    end_time = start_time + timedelta(minutes=listing.duration_minutes)
    lock_mentor_schedule(db, listing.mentor_profile_id)
    overlapping_booking = db.scalar(select(Booking.id).where(
        Booking.mentor_profile_id == listing.mentor_profile_id, Booking.status == BookingStatus.ACCEPTED,
        Booking.group_session_id.is_(None), Booking.start_time < end_time, Booking.end_time > start_time,
    ).limit(1))
    if overlapping_booking is not None:
        raise Conflict("this time overlaps one of the mentor's accepted bookings")
    session = MentorshipSession(
        id=uuid.uuid4(), kind=ListingKind.GROUP.value, listing_id=listing.id,
        mentor_profile_id=listing.mentor_profile_id, start_time=start_time, end_time=end_time,
        status=SessionStatus.SCHEDULED.value, capacity=listing.capacity, seats_taken=0,
    )
    try:
        with db.begin_nested():
            db.add(session)
            db.flush()
    except IntegrityError as exc:
        if "ex_sessions_mentor_live_overlap" in str(exc.orig):
            raise Conflict("this time overlaps another session of the mentor") from None
        raise
    _emit(db, session, "schedule", str(actor))
    return session


def join_group_session(db: Session, actor: Actor, session_id: uuid.UUID, *, now: datetime | None = None
                       ) -> Booking:
    """Take a seat: a booking accepted at once. 409 when full or already joined.

    The seat count moves with one conditional UPDATE (``seats_taken < capacity``),
    and a check constraint stands behind it, so concurrent joins cannot overfill.
    """
    # The row lock orders a join with a cancellation: a join that waited sees the session cancelled.
    session = db.get(MentorshipSession, session_id, with_for_update=True)
    if session is None or session.kind != ListingKind.GROUP:
        raise NotFound("group session not found")
    if session.mentor_profile_id == actor.mentor_profile_id:
        raise BusinessRuleViolation("you cannot join your own group session")
    now = now or utcnow()
    if session.status != SessionStatus.SCHEDULED:
        raise InvalidTransition("session", session.status, "join")
    if session.start_time <= now:
        raise BusinessRuleViolation("this group session has already started")
    listing = db.get(Listing, session.listing_id)
    assert listing is not None
    seat = Booking(
        id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=session.mentor_profile_id,
        mentee_user_id=actor.user_id, start_time=session.start_time, end_time=session.end_time,
        status=BookingStatus.ACCEPTED, price_cents=listing.price_cents, currency=listing.currency,
        group_session_id=session.id, decided_at=now,
    )
    try:
        with db.begin_nested():
            db.add(seat)
            db.flush()
    except IntegrityError as exc:
        if "uq_bookings_group_seat" in str(exc.orig):
            raise Conflict("you already hold a seat in this session") from None
        raise
    taken = db.execute(
        update(MentorshipSession)
        .where(MentorshipSession.id == session.id, MentorshipSession.seats_taken < MentorshipSession.capacity,
               MentorshipSession.status == SessionStatus.SCHEDULED)
        .values(seats_taken=MentorshipSession.seats_taken + 1)
        .returning(MentorshipSession.seats_taken)
    ).scalar_one_or_none()
    if taken is None:
        raise Conflict("this group session is full")
    db.refresh(session)
    outbox.record_event(db, "booking.accepted", aggregate_type="booking", aggregate_id=seat.id,
                        payload=booking_payload(seat), actor=str(actor))
    log.info("session.joined", session_id=str(session.id), booking_id=str(seat.id), actor=str(actor))
    return seat


# --- periodic -----------------------------------------------------------------------------------


def _ended_before(db: Session, status: SessionStatus, cutoff: datetime, limit: int) -> list[MentorshipSession]:
    """Sessions still in ``status`` that ended before ``cutoff``, locked; rows another run holds are skipped."""
    return list(db.execute(
        select(MentorshipSession)
        .where(MentorshipSession.status == status, MentorshipSession.end_time <= cutoff)
        .order_by(MentorshipSession.end_time)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars())


def mark_missed_sessions(db: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Scheduled sessions never started by end + grace become ``missed``."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=get_settings().missed_grace_minutes)
    rows = _ended_before(db, SessionStatus.SCHEDULED, cutoff, limit)
    for session in rows:
        apply_transition(session, "miss", Role.SYSTEM)
        _emit(db, session, "miss", Role.SYSTEM.value)
    db.flush()
    return len(rows)


def auto_complete_sessions(db: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Sessions left in progress past end + the grace hours are completed by the system."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=get_settings().auto_complete_hours)
    rows = _ended_before(db, SessionStatus.IN_PROGRESS, cutoff, limit)
    for session in rows:
        apply_transition(session, "complete", Role.SYSTEM)
        session.completed_at = now
        session.completed_by = Role.SYSTEM.value
        _emit(db, session, "complete", Role.SYSTEM.value)
    db.flush()
    return len(rows)
