"""Waitlists of full group sessions: first come, first served, and each freed seat to exactly one person.

A mentee joins the line of a full group session (``POST /sessions/{id}/waitlist``), saying whether a seat freed for
them is taken at once (``take_at_once``) or offered first. When a seat frees (a mentee leaves, the mentor raises the
capacity, an offer ends untaken) the first in line gets it: given at once (their seat booked, ``waitlist.promoted``)
or offered for ``WAITLIST_OFFER_MINUTES`` and never past an hour before the start (``waitlist.offered``); they take
an offered seat by joining the session. An offer not taken in time expires (``waitlist.expired``, by the beat's
sweep) and passes to the next. Less than an hour before the start no offer is made: a freed seat is open to all.

Every step runs under the session's row lock (the lock a join and a leave take) and moves an entry only from the
status it was read in: a seat is offered to one entry, and one seat is held per offer (a join by anyone else counts
the seats offered as taken), however many workers sweep at once or retry after a broker restart.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy import func, or_, select, true, update
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import Booking, BookingStatus, ListingKind, MentorshipSession, SessionStatus, WaitlistEntry, WaitlistStatus
from workflows.actors import Actor
from workflows.bookings import limits as request_limits
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, InvalidTransition, NotFound, add_or_conflict
from workflows.events import EventType, record
from workflows.payloads import WaitlistPayload
from workflows.roles import Role
from workflows.sessions import seats
from workflows.state_machine import StateMachine, move

log = structlog.get_logger(__name__)

OFFER_LEAD = timedelta(hours=1)  # no offer runs past an hour before the start
IN_LINE = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


class PlaceAction(StrEnum):
    OFFER = "offer"
    LEAVE = "leave"
    PROMOTE = "promote"
    EXPIRE = "expire"
    CLOSE = "close"


# A place in line: waiting, then offered a seat held for a while; it ends taken (promoted: by the mentee, or given at
# once by the system), left (or the offer declined), expired (the offer ran out, or the seat could not be given) or
# closed (the session began or was cancelled).
PLACES = StateMachine("place in line", WaitlistEntry, {
    PlaceAction.OFFER: move(WaitlistStatus.WAITING, WaitlistStatus.OFFERED, Role.SYSTEM,
                            event=EventType.WAITLIST_OFFERED),
    PlaceAction.LEAVE: move(set(IN_LINE), WaitlistStatus.LEFT, Role.MENTEE),
    PlaceAction.PROMOTE: move(set(IN_LINE), WaitlistStatus.PROMOTED, Role.MENTEE, Role.SYSTEM,
                              event=EventType.WAITLIST_PROMOTED),
    PlaceAction.EXPIRE: move(set(IN_LINE), WaitlistStatus.EXPIRED, Role.SYSTEM, event=EventType.WAITLIST_EXPIRED),
    PlaceAction.CLOSE: move(set(IN_LINE), WaitlistStatus.CLOSED, Role.SYSTEM, event=EventType.WAITLIST_EXPIRED),
})
SWEEP_SESSIONS = 100


def payload(entry: WaitlistEntry, session: MentorshipSession) -> WaitlistPayload:
    return {
        "id": str(entry.id), "session_id": str(session.id), "listing_id": str(session.listing_id),
        "mentor_profile_id": str(session.mentor_profile_id), "mentee_user_id": str(entry.user_id),
        "start_time": session.start_time.isoformat(), "end_time": session.end_time.isoformat(),
        "status": entry.status.value, "take_at_once": entry.take_at_once,
        "offer_expires_at": entry.offer_expires_at.isoformat() if entry.offer_expires_at else None,
        "booking_id": str(entry.booking_id) if entry.booking_id else None, "reason": entry.note,
    }


def _group_session(db: Session, session_id: uuid.UUID) -> MentorshipSession:
    session = db.get(MentorshipSession, session_id, with_for_update=True)
    if session is None or session.kind != ListingKind.GROUP:
        raise NotFound("group session not found")
    return session


def held_for_others(db: Session, session_id: uuid.UUID, user_id: uuid.UUID | None = None,
                    now: datetime | None = None) -> int:
    """Seats offered to people in line other than ``user_id`` (every seat offered, without one): taken, for anyone
    else's join. The user's own offer, still open, is theirs to take; one that ran out counts as held until the
    sweep passes it on."""
    mine = or_(WaitlistEntry.user_id != user_id, WaitlistEntry.offer_expires_at <= (now or utcnow())) \
        if user_id else true()
    return int(db.scalar(select(func.count()).select_from(WaitlistEntry).where(
        WaitlistEntry.session_id == session_id, WaitlistEntry.status == WaitlistStatus.OFFERED, mine)) or 0)


def lines(db: Session, session_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """Per session: seats offered (held for someone in line), and people waiting; one query."""
    rows = db.execute(select(WaitlistEntry.session_id,
                             func.count().filter(WaitlistEntry.status == WaitlistStatus.OFFERED),
                             func.count().filter(WaitlistEntry.status == WaitlistStatus.WAITING))
                      .where(WaitlistEntry.session_id.in_(session_ids), WaitlistEntry.status.in_(IN_LINE))
                      .group_by(WaitlistEntry.session_id)).all()
    return {session_id: (offered, waiting) for session_id, offered, waiting in rows}


def _entry(db: Session, session_id: uuid.UUID, user_id: uuid.UUID) -> WaitlistEntry | None:
    return db.scalar(select(WaitlistEntry).where(WaitlistEntry.session_id == session_id,
                                                 WaitlistEntry.user_id == user_id,
                                                 WaitlistEntry.status.in_(IN_LINE)).with_for_update())


def join(db: Session, actor: Actor, session_id: uuid.UUID, *, take_at_once: bool = False,
         now: datetime | None = None) -> WaitlistEntry:
    """Join the line of a full group session; 409 when it has a free seat (join it), when the actor holds a seat
    or is in line already."""
    now = now or utcnow()
    session = _group_session(db, session_id)
    if session.mentor_profile_id == actor.mentor_profile_id:
        raise BusinessRuleViolation("you cannot wait for a seat in your own group session")
    if session.status != SessionStatus.SCHEDULED:
        raise InvalidTransition("session", session.status, "wait_for_seat", verb="wait for a seat in")
    if session.start_time <= now:
        raise BusinessRuleViolation("this group session has already started")
    if db.scalar(select(Booking.id).where(Booking.group_session_id == session.id, Booking.mentee_user_id ==
                                          actor.user_id, Booking.status == BookingStatus.ACCEPTED)):
        raise Conflict("you already hold a seat in this session", reason="seat_held_already")
    if session.seats_taken + held_for_others(db, session.id) < (session.capacity or 0):
        raise Conflict("this group session has a free seat: join it", seats_free=True, reason="seat_free")
    entry = WaitlistEntry(id=uuid.uuid4(), session_id=session.id, user_id=actor.user_id, take_at_once=take_at_once,
                          status=WaitlistStatus.WAITING)
    add_or_conflict(db, entry, {"uq_waitlist_entries_in_line": Conflict("you are in line for this session already",
                                                                        reason="in_line_already")})
    log.info("waitlist.joined", session_id=str(session.id), entry_id=str(entry.id), actor=str(actor))
    return entry


def mine(db: Session, actor: Actor, session_id: uuid.UUID) -> WaitlistEntry:
    entry = db.scalar(select(WaitlistEntry).where(WaitlistEntry.session_id == session_id,
                                                  WaitlistEntry.user_id == actor.user_id)
                      .order_by(WaitlistEntry.line.desc()).limit(1))
    if entry is None:
        raise NotFound("you are not in line for this session")
    return entry


def position(db: Session, entry: WaitlistEntry) -> int | None:
    """1 for the next in line; ``None`` once out of the waiting line (offered, or ended)."""
    if entry.status != WaitlistStatus.WAITING:
        return None
    return int(db.scalar(select(func.count()).select_from(WaitlistEntry).where(
        WaitlistEntry.session_id == entry.session_id, WaitlistEntry.status == WaitlistStatus.WAITING,
        WaitlistEntry.line <= entry.line)) or 0)


def leave(db: Session, actor: Actor, session_id: uuid.UUID, *, now: datetime | None = None) -> None:
    """Leave the line, or decline the seat offered: it goes to the next in line."""
    now = now or utcnow()
    session = _group_session(db, session_id)
    entry = _entry(db, session.id, actor.user_id)
    if entry is None:
        raise NotFound("you are not in line for this session")
    was_offered = entry.status == WaitlistStatus.OFFERED
    PLACES.apply(entry, PlaceAction.LEAVE, Role.MENTEE)
    entry.ended_at = now
    db.flush()
    if was_offered:
        seat_freed(db, session, now=now)


def seated(db: Session, session_id: uuid.UUID, user_id: uuid.UUID, seat: Booking, *, now: datetime) -> None:
    """The user took a seat (an offer taken, or a join while in line): out of the line, promoted."""
    entry = _entry(db, session_id, user_id)
    if entry is None:
        return
    PLACES.apply(entry, PlaceAction.PROMOTE, Role.MENTEE)
    entry.booking_id, entry.ended_at = seat.id, now
    db.flush()
    record(db, EventType.WAITLIST_PROMOTED, payload(entry, db.get_one(MentorshipSession, session_id)),
           actor=f"user:{user_id}")


def seat_freed(db: Session, session: MentorshipSession, *, now: datetime | None = None) -> int:
    """Give each seat now free to the next in line, in order: at once or offered. The caller holds the session's
    row lock. How many were given or offered."""
    now = now or utcnow()
    if session.status != SessionStatus.SCHEDULED or session.start_time - OFFER_LEAD <= now:
        return 0  # too late for offers: a freed seat is open to all
    minutes = timedelta(minutes=get_settings().waitlist_offer_minutes)
    moved = 0
    while (offered := held_for_others(db, session.id)) + session.seats_taken < (session.capacity or 0):
        entry = db.scalar(select(WaitlistEntry).where(
            WaitlistEntry.session_id == session.id, WaitlistEntry.status == WaitlistStatus.WAITING)
            .order_by(WaitlistEntry.line).limit(1).with_for_update())
        if entry is None:
            break
        moved += 1
        # Given at once only with the mentee's turn (their requests and accepts in flight seen, the caps exact);
        # their turn busy now, the seat is offered instead: the session's lock is held, so it cannot wait for it.
        if not entry.take_at_once or not request_limits.try_turn(db, entry.user_id):
            PLACES.apply(entry, PlaceAction.OFFER, Role.SYSTEM)
            entry.offered_at = now
            entry.offer_expires_at = min(now + minutes, session.start_time - OFFER_LEAD)
            db.flush()
            record(db, EventType.WAITLIST_OFFERED, payload(entry, session), actor=Role.SYSTEM.value)
            continue
        try:
            with db.begin_nested():
                seat = seats.take_seat(db, session, entry.user_id, actor=Role.SYSTEM.value, now=now,
                                       held_for_others=offered)
        except (Conflict, BusinessRuleViolation) as refusal:  # they hold another commitment then, say
            db.refresh(entry)
            db.refresh(session)
            PLACES.apply(entry, PlaceAction.EXPIRE, Role.SYSTEM)
            entry.ended_at, entry.note = now, refusal.message[:300]
            db.flush()
            record(db, EventType.WAITLIST_EXPIRED, payload(entry, session), actor=Role.SYSTEM.value)
            continue
        PLACES.apply(entry, PlaceAction.PROMOTE, Role.SYSTEM)
        entry.booking_id, entry.ended_at = seat.id, now
        db.flush()
        record(db, EventType.WAITLIST_PROMOTED, payload(entry, session), actor=Role.SYSTEM.value)
    return moved


def expire_offers(db: Session, *, now: datetime | None = None) -> int:
    """The beat's sweep: offers not taken in time expire and pass to the next in line; the lines of sessions that
    began or were cancelled close. A session another sweep holds is left to it (SKIP LOCKED). How many ended."""
    now = now or utcnow()
    due = select(WaitlistEntry.session_id).where(or_(
        (WaitlistEntry.status == WaitlistStatus.OFFERED) & (WaitlistEntry.offer_expires_at <= now),
        (WaitlistEntry.status == WaitlistStatus.WAITING) & WaitlistEntry.session_id.in_(
            select(MentorshipSession.id).where(or_(MentorshipSession.start_time <= now,
                                                   MentorshipSession.status != SessionStatus.SCHEDULED)))))
    session_ids = list(db.scalars(select(MentorshipSession.id).where(MentorshipSession.id.in_(due))
                                  .order_by(MentorshipSession.id).limit(SWEEP_SESSIONS)
                                  .with_for_update(skip_locked=True)))
    ended = 0
    for session_id in session_ids:
        session = db.get_one(MentorshipSession, session_id)
        open_ = session.status == SessionStatus.SCHEDULED and session.start_time > now
        # An open session's lapsed offers expire; the line of one that began or was cancelled closes.
        sources, target = PLACES.moved_by(PlaceAction.EXPIRE if open_ else PlaceAction.CLOSE)
        gone = list(db.scalars(update(WaitlistEntry).where(
            WaitlistEntry.session_id == session_id, WaitlistEntry.status.in_(sources),
            (WaitlistEntry.status == WaitlistStatus.OFFERED) & (WaitlistEntry.offer_expires_at <= now)
            if open_ else true())
            .values(status=target, ended_at=now,
                    note=None if open_ else "the session began or was cancelled before a seat was free")
            .returning(WaitlistEntry).execution_options(populate_existing=True)))
        for entry in gone:
            record(db, EventType.WAITLIST_EXPIRED, payload(entry, session), actor=Role.SYSTEM.value)
        ended += len(gone)
        if open_:
            seat_freed(db, session, now=now)
    return ended


def close(db: Session, session: MentorshipSession, *, now: datetime) -> None:
    """The session was cancelled: its line closes, each told (the caller holds the session's row lock)."""
    sources, closed = PLACES.moved_by(PlaceAction.CLOSE)
    gone = list(db.scalars(update(WaitlistEntry).where(
        WaitlistEntry.session_id == session.id, WaitlistEntry.status.in_(sources))
        .values(status=closed, ended_at=now, note="the session was cancelled")
        .returning(WaitlistEntry).execution_options(populate_existing=True)))
    for entry in gone:
        record(db, EventType.WAITLIST_EXPIRED, payload(entry, session), actor=Role.SYSTEM.value)
