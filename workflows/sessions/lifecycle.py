"""Sessions: created once per accepted booking, then scheduled → in_progress → completed.

Also cancelled (the cancellation policy of docs/PRIMER.md), missed, or ended with someone absent (``mentee_no_show``,
``mentor_no_show``: ``workflows.sessions.attendance``); terminal states never change. The periodic moves (missed,
no-shows, auto-completed) are in ``workflows.sessions.sweeps``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

import structlog
from sqlalchemy import Executable, Select, Table, Uuid, any_, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session, aliased

import outbox
from infra.config import get_settings
from models import Booking, BookingStatus, Listing, ListingKind, MentorshipSession, OutboxEvent, SessionStatus
from models.enums import CancelCause, CancelledBy
from workflows import access
from workflows import calendar_owed as owed
from workflows.actors import Actor
from workflows.bookings.lifecycle import cancels_late, end_with_session_cancellation
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Forbidden, NotFound
from workflows.events import EventType, record, record_all
from workflows.pagination import Page, paginate
from workflows.payloads import EventPayload, booking_payload, session_payload
from workflows.roles import Role, participation, recorded_actor
from workflows.sessions import pairing_items, waitlists
from workflows.state_machine import StateMachine, move

log = structlog.get_logger(__name__)

#: The handler that makes sessions of accepted bookings (declared in workflows/handlers.py).
CREATE_HANDLER = "sessions.create_from_booking"


class SessionAction(StrEnum):
    START = "start"
    COMPLETE = "complete"
    CANCEL = "cancel"
    MISS = "miss"
    CLOSE = "close"
    MENTEE_NO_SHOW = "mentee_no_show"
    MENTOR_NO_SHOW = "mentor_no_show"


def group_participants(db: Session, session_id: uuid.UUID) -> list[uuid.UUID]:
    """Mentees holding a seat in a group session."""
    return list(db.scalars(
        select(Booking.mentee_user_id)
        .where(Booking.group_session_id == session_id, Booking.status == BookingStatus.ACCEPTED)
        .order_by(Booking.created_at, Booking.id)))


def _holds_seat(db: Session, actor: Actor, session: MentorshipSession) -> bool:
    """Whether the actor is a mentee of a group session by a seat: a held one, or, once the session was
    cancelled, one that cancellation ended (so they can still read what happened; not one given up before)."""
    if session.kind != ListingKind.GROUP:
        return False
    return db.scalar(select(Booking.id).where(
        Booking.group_session_id == session.id, Booking.mentee_user_id == actor.user_id,
        (Booking.status == BookingStatus.ACCEPTED) | Booking.ended_with_session)) is not None


# The session state machine: action -> (allowed from, goes to, who may do it, its event). No skipping, no
# reversal. A session is scheduled when it is made (``session.scheduled``), and changed in place
# (``session.updated``) outside the machine.
SESSIONS = StateMachine("session", MentorshipSession, {
    SessionAction.START: move(SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS, Role.MENTOR, Role.MENTEE,
                              event=EventType.SESSION_STARTED),
    SessionAction.COMPLETE: move(SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED, Role.MENTOR, Role.SYSTEM,
                                 event=EventType.SESSION_COMPLETED),
    # The system cancels a session whose booking was moved by agreement (workflows.bookings.reschedules); a coordinator
    # one of a pairing they pause, end or take one of the pair off (workflows.programmes.pairings).
    SessionAction.CANCEL: move(SessionStatus.SCHEDULED, SessionStatus.CANCELLED, Role.MENTOR, Role.MENTEE,
                               Role.ADMIN, Role.COORDINATOR, Role.SYSTEM, event=EventType.SESSION_CANCELLED),
    SessionAction.MISS: move(SessionStatus.SCHEDULED, SessionStatus.MISSED, Role.SYSTEM,
                             event=EventType.SESSION_MISSED),
    # Both sides checked in and nobody pressed start: the system completes it once its time is over.
    SessionAction.CLOSE: move(SessionStatus.SCHEDULED, SessionStatus.COMPLETED, Role.SYSTEM,
                              event=EventType.SESSION_COMPLETED),
    # Someone did not come (workflows.sessions.attendance): reported by the participant who came, or found by the
    # system.
    SessionAction.MENTEE_NO_SHOW: move({SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS},
                                       SessionStatus.MENTEE_NO_SHOW, Role.MENTOR, Role.SYSTEM,
                                       event=EventType.SESSION_NO_SHOW),
    SessionAction.MENTOR_NO_SHOW: move({SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS},
                                       SessionStatus.MENTOR_NO_SHOW, Role.MENTEE, Role.SYSTEM,
                                       event=EventType.SESSION_NO_SHOW),
}, more_mentees=_holds_seat, verbs={SessionAction.MENTEE_NO_SHOW: "report the mentee absent from",
                                      SessionAction.MENTOR_NO_SHOW: "report the mentor absent from"})
get_visible_session = SESSIONS.get_visible


def emit_event(db: Session, session: MentorshipSession, event: EventType | str | None, actor: str,
               participants: list[uuid.UUID] | None = None, **more: str) -> None:
    """Record the session's event (with ``more`` in its payload); a group's participants are read now unless the
    caller knew them before."""
    if event is None:
        return
    event = EventType(event)
    if participants is None and session.kind == ListingKind.GROUP:
        participants = group_participants(db, session.id)
    record(db, event, cast(EventPayload, {**session_payload(session, participants or ()), **more}), actor=actor)
    log.info(event, session_id=str(session.id), booking_id=str(session.booking_id), actor=actor)


def meeting_url(session: MentorshipSession, listing_location: str | None, template: str) -> str | None:
    """Where a session meets: the URL its mentor set; else its listing's location if that is an https
    URL; else ``MEETING_URL_TEMPLATE`` with ``{room}`` replaced by the session's room secret (random, made
    by the database, never derived from an id); none when that is empty."""
    if session.meeting_url:
        return session.meeting_url
    if listing_location and listing_location.startswith("https://"):
        return listing_location
    return template.replace("{room}", session.meeting_room) if template else None


# --- creation -----------------------------------------------------------------------------------


def _create_sessions_statement(*, many: bool) -> Executable:
    """Reads the bookings and inserts their sessions, in one statement built once.

    A seat in a group session is an accepted booking too, but its session already exists. The
    bookings go in id order, so two transactions inserting some of the same sessions take their
    unique keys in one order. One booking (a session task's usual batch) is a plain parameter: over an
    array, PostgreSQL found the generic plan dearer than one made for the values, and planned the
    statement again at every insert.
    """
    sessions = cast(Table, MentorshipSession.__table__)
    # A moved booking's session follows the one it replaces in calendars: the chain's next SEQUENCE (at least the number
    # of moves, above the first invite's 0 when the old booking never had a session).
    previous = aliased(MentorshipSession)
    sequence = func.greatest(func.coalesce(select(previous.calendar_sequence + 1)
                                           .where(previous.booking_id == Booking.rescheduled_from_booking_id)
                                           .scalar_subquery(), 0), Booking.reschedule_count)
    # FOR SHARE: a booking being moved (workflows.bookings.reschedules, FOR UPDATE) is read once the move commits, and
    # then is no longer accepted; a booking read first holds the move back until its session is there to cancel.
    bookings = select(
        func.gen_random_uuid(), literal(ListingKind.INDIVIDUAL.value), Booking.id, Booking.listing_id,
        Booking.mentor_profile_id, Booking.mentee_user_id, Booking.start_time, Booking.end_time,
        literal(SessionStatus.SCHEDULED.value), Booking.buffer_before_minutes, Booking.buffer_after_minutes, sequence,
        select(Listing.programme_id).where(Listing.id == Booking.listing_id).scalar_subquery(),
    ).where(Booking.id == any_(bindparam("booking_ids", type_=ARRAY(Uuid))) if many
            else Booking.id == bindparam("booking_id", type_=Uuid),
            Booking.status == BookingStatus.ACCEPTED, Booking.group_session_id.is_(None)).order_by(Booking.id
            ).with_for_update(read=True, of=Booking)
    inserted = (
        insert(sessions)
        .from_select(["id", "kind", "booking_id", "listing_id", "mentor_profile_id", "mentee_user_id",
                      "start_time", "end_time", "status", "buffer_before_minutes", "buffer_after_minutes",
                      "calendar_sequence", "programme_id"], bookings)
        .on_conflict_do_nothing(index_elements=[sessions.c.booking_id])
        .returning(*sessions.c)  # the new rows as objects, in the same round trip
    )
    return select(MentorshipSession).from_statement(inserted)


_CREATE_ONE_SESSION, _CREATE_SESSIONS = _create_sessions_statement(many=False), _create_sessions_statement(many=True)


def _create_sessions(db: Session, booking_ids: Sequence[uuid.UUID]) -> list[MentorshipSession]:
    """Insert each booking's session unless it exists (the unique key on ``sessions.booking_id`` decides),
    and the new sessions' ``session.scheduled`` events: two statements, however many bookings."""
    created = list(db.scalars(_CREATE_ONE_SESSION, {"booking_id": booking_ids[0]}) if len(booking_ids) == 1
                   else db.scalars(_CREATE_SESSIONS, {"booking_ids": list(booking_ids)}))
    event = EventType.SESSION_SCHEDULED
    record_all(db, event, [session_payload(session) for session in created], actor=Role.SYSTEM.value)
    for session in created:
        log.info("session.created", booking_id=str(session.booking_id), session_id=str(session.id))
    return created


def create_sessions_for_events(db: Session, events: Sequence[OutboxEvent]) -> None:
    """The ``sessions.create_from_booking`` outbox handler: each accepted booking's session, exactly once.

    The task claimed the events' handler rows in this transaction; a second run, or two workers at
    once, insert nothing more.
    """
    _create_sessions(db, [event.aggregate_id for event in events])


def create_session_from_booking(db: Session, booking_id: uuid.UUID) -> MentorshipSession | None:
    """Create the booking's session exactly once (for work sent by hand, with the booking's id).

    The booking's ``booking.accepted`` (or, for a moved booking, ``booking.rescheduled``) handler rows are
    marked done in the same transaction, so the outbox stops redelivering.
    """
    created = _create_sessions(db, [booking_id])
    for made_by in (EventType.BOOKING_ACCEPTED, EventType.BOOKING_RESCHEDULED):
        outbox.mark_done_for_aggregate(db, booking_id, made_by, CREATE_HANDLER)
    return created[0] if created else None


# --- reading ------------------------------------------------------------------------------------


def seated_sessions(user_id: uuid.UUID) -> Select[uuid.UUID | None]:
    """Ids of the group sessions the user holds a seat in, or held one in until the mentor cancelled it."""
    seated_in = aliased(MentorshipSession)
    return select(Booking.group_session_id).join(seated_in, seated_in.id == Booking.group_session_id).where(
        Booking.mentee_user_id == user_id,
        (Booking.status == BookingStatus.ACCEPTED)
        | ((Booking.status == BookingStatus.CANCELLED) & (seated_in.status == SessionStatus.CANCELLED)),
    )


def list_sessions(
    db: Session, actor: Actor, *, role: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[MentorshipSession]:
    """The actor's sessions in start order. Each role filter is served by its own index."""
    seats = seated_sessions(actor.user_id)
    mine = participation(
        role, actor, MentorshipSession.mentor_profile_id == actor.mentor_profile_id,
        (MentorshipSession.mentee_user_id == actor.user_id) | MentorshipSession.id.in_(seats),
    )
    if mine is None:
        return Page(items=[], next_cursor=None)
    query = select(MentorshipSession).where(mine)
    if status:
        query = query.where(MentorshipSession.status == SessionStatus(status))
    return paginate(db, query, MentorshipSession.start_time, MentorshipSession.id, limit=limit, cursor=cursor)


# --- participants' actions ------------------------------------------------------------------------


def start_session(db: Session, actor: Actor, session_id: uuid.UUID, *, now: datetime | None = None
                  ) -> MentorshipSession:
    session, role = SESSIONS.load_to_act(db, actor, session_id)
    started = SESSIONS.apply(session, SessionAction.START, role)
    now = now or utcnow()
    opens = session.start_time - timedelta(minutes=get_settings().start_early_minutes)
    if now < opens:
        raise BusinessRuleViolation(
            "too early: a session can be started from {opens}", words={"opens": opens.isoformat()},
            opens_at=opens.isoformat()
        )
    if now >= session.end_time:
        raise BusinessRuleViolation("this session's time has passed")
    session.started_at = now
    mark_arrival(db, session, role, actor.user_id, now)  # starting it is the starter's check-in
    db.flush()
    emit_event(db, session, started.event, str(actor))
    return session


def meeting_of(db: Session, session: MentorshipSession, mentee_user_id: uuid.UUID) -> Booking:
    """A mentee's booking for the session, locked: an individual session's own, or their seat in a group one."""
    whose = Booking.id == session.booking_id if session.booking_id is not None else (
        (Booking.group_session_id == session.id) & (Booking.mentee_user_id == mentee_user_id)
        & (Booking.status == BookingStatus.ACCEPTED))
    booking = db.execute(select(Booking).where(whose).with_for_update()).scalar_one_or_none()
    if booking is None:
        raise NotFound("you hold no seat in this session")
    return booking


def mark_arrival(db: Session, session: MentorshipSession, role: Role, user_id: uuid.UUID, now: datetime) -> bool:
    """Record that a participant came (the mentor's on the session, a mentee's on their booking), once; ``True``
    when it is news."""
    if role == Role.MENTOR:
        if session.mentor_checked_in_at is not None:
            return False
        session.mentor_checked_in_at = now
        return True
    booking = meeting_of(db, session, user_id)
    if booking.checked_in_at is not None:
        return False
    booking.checked_in_at = now
    return True


def complete_session(
    db: Session,
    actor: Actor,
    session_id: uuid.UUID,
    *,
    notes: str | None = None,
    action_items: Sequence[str | pairing_items.WrittenItem] | None = None,
    metadata: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> MentorshipSession:
    session, role = SESSIONS.load_to_act(db, actor, session_id)
    completed = SESSIONS.apply(session, SessionAction.COMPLETE, role)
    session.completed_at = now or utcnow()
    session.completed_by = Role.MENTOR.value
    session.notes = notes
    session.action_items = pairing_items.written(db, session, action_items or [], now=session.completed_at)
    session.session_metadata = metadata or {}
    db.flush()
    emit_event(db, session, completed.event, str(actor))
    return session


def cancel_session(db: Session, actor: Actor, session_id: uuid.UUID, *, reason: str, now: datetime | None = None,
                   cause: CancelCause = CancelCause.REQUEST, by: Role | None = None) -> MentorshipSession:
    """Cancel with the policy: a mentee less than the window before start is late and pays the fee
    (or forfeits the bundle credit); a mentor (or a coordinator acting ``by`` on the mentee's side) never is.
    The session records who cancelled it and why (``cause``). A mentee cancelling a group session gives up their own
    seat; the session goes on for the others."""
    session, role = SESSIONS.load_to_act(db, actor, session_id)
    role, now = by or role, now or utcnow()
    late = cancels_late(role, session.start_time, now)
    if session.kind == ListingKind.GROUP and role == Role.MENTEE:
        return _leave_group_session(db, actor, session, reason=reason, late=late)
    return _cancel(db, session, role, recorded_actor(actor, by), reason=reason, late=late, now=now, cause=cause)


def cancel_session_as_admin(db: Session, actor: Actor, session_id: uuid.UUID, *, reason: str,
                            now: datetime | None = None) -> MentorshipSession:
    """An administrator cancels someone else's session: as the mentor would, never late, every seat refunded.
    The event's actor is the admin (``admin:<user id>``)."""
    access.require_admin(actor)
    session = db.get(MentorshipSession, session_id, with_for_update=True)
    if session is None:
        raise NotFound("session not found")
    return _cancel(db, session, Role.ADMIN, actor.as_admin(), reason=reason, late=False, now=now or utcnow())


def cancel_without_fee(db: Session, session: MentorshipSession, role: Role, actor: str, *, reason: str,
                       now: datetime) -> MentorshipSession:
    """Cancel on the mentor's account, never late (``workflows.bookings.reschedules``: the mentor asked to move it)."""
    return _cancel(db, session, role, actor, reason=reason, late=False, now=now)


def _cancel(db: Session, session: MentorshipSession, role: Role, actor: str, *, reason: str, late: bool,
            now: datetime, cause: CancelCause = CancelCause.REQUEST) -> MentorshipSession:
    """End the session and its booking (or every seat), recording who and why."""
    cancelled = SESSIONS.apply(session, SessionAction.CANCEL, role)
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
        fee, refunded = end_with_session_cancellation(db, booking, late=late, reason=reason)
        booking.ended_with_session = booking.group_session_id is not None
    session.cancelled_at = now
    session.cancelled_by, session.cancel_cause = CancelledBy(role.value), cause
    session.cancel_reason = reason
    session.cancel_late = late
    session.cancel_fee_cents = fee
    session.credit_refunded = refunded
    db.flush()
    emit_event(db, session, cancelled.event, actor, participants)
    if session.kind == ListingKind.GROUP:
        waitlists.close(db, session, now=now)
    return session


def update_session_details(db: Session, actor: Actor, session_id: uuid.UUID, changes: dict[str, str | None], *,
                           now: datetime | None = None) -> MentorshipSession:
    """The mentor sets or changes where the session meets (``meeting_url``) and its ``agenda``, before it
    starts; the participants are told by ``session.updated``. Nothing is recorded when nothing changed."""
    session, role = SESSIONS.load_to_act(db, actor, session_id)
    if role != Role.MENTOR:
        raise Forbidden("only the mentor can change a session's meeting URL or agenda")
    if session.status != SessionStatus.SCHEDULED or (now or utcnow()) >= session.start_time:
        raise BusinessRuleViolation("a session can be changed only before it starts (it is {status})",
                                    words={"status": session.status})
    changed = {field: value for field, value in changes.items() if getattr(session, field) != value}
    if not changed:
        return session
    for field, value in changed.items():
        setattr(session, field, value)
    db.flush()
    emit_event(db, session, EventType.SESSION_UPDATED, str(actor))
    return session


def _leave_group_session(db: Session, actor: Actor, session: MentorshipSession, *, reason: str, late: bool
                         ) -> MentorshipSession:
    """Give up the actor's seat; the session goes on. The seat's booking records the fee, or the
    forfeited credit, of a late leave, as an individual booking's cancellation does."""
    SESSIONS.check(session, SessionAction.CANCEL, Role.MENTEE)
    seat = meeting_of(db, session, actor.user_id)
    end_with_session_cancellation(db, seat, late=late, reason=reason)
    session.seats_taken -= 1
    db.flush()
    owed.owe(db, [session.id])  # its count, in the title of the event in the mentor's own calendar
    record(db, EventType.BOOKING_CANCELLED, {**booking_payload(seat), "late": late}, actor=str(actor))
    log.info("session.seat_released", session_id=str(session.id), booking_id=str(seat.id), actor=str(actor))
    waitlists.seat_freed(db, session)  # the first in line gets it
    return session
