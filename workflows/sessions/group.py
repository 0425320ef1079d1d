"""Group sessions: the mentor puts one on the calendar; mentees take seats (accepted bookings).

Leaving a seat and cancelling the session are in ``workflows.sessions.lifecycle`` (``cancel_session``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Booking, Listing, ListingKind, MentorshipSession, SessionStatus
from models.sessions.sessions import LIVE_OVERLAP
from workflows.actors import Actor
from workflows.bookings import limits as request_limits
from workflows.bookings.lifecycle import GROUP_SCHEDULED, settle_clashes
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidTransition, NotFound, add_or_conflict
from workflows.events import EventType
from workflows.lookups import listing_or_404, own_listing
from workflows.pagination import Page, paginate
from workflows.scheduling import checks
from workflows.scheduling.commitments import lock_mentor_schedule
from workflows.sessions import seats, waitlists
from workflows.sessions.lifecycle import emit_event
from workflows.skills import normalise_skill

log = structlog.get_logger(__name__)


def schedule_group_session(db: Session, actor: Actor, listing_id: uuid.UUID, *, start_time: datetime,
                           now: datetime | None = None) -> MentorshipSession:
    """The mentor puts a group session on the calendar; it never overlaps their other sessions, and honours
    their time off, buffers and limits (``workflows.scheduling.rules``)."""
    listing = own_listing(db, actor, listing_id, to="schedule its group sessions")
    if listing.kind != ListingKind.GROUP:
        raise BusinessRuleViolation("only group listings have group sessions")
    if not listing.active:
        raise BusinessRuleViolation("this listing is not active")
    now = now or utcnow()
    if start_time <= now:
        raise BusinessRuleViolation("a group session must start in the future")
    end_time = start_time + timedelta(minutes=listing.duration_minutes)
    lock_mentor_schedule(db, listing.mentor_profile_id)
    # The mentor's rules but their hours: time off, buffers around their other commitments, their limits.
    checks.check(db, checks.Commitment(listing.mentor_profile_id, listing.id, start_time, end_time,
                                               listing.buffer_before_minutes, listing.buffer_after_minutes),
                     hours=False)
    session = MentorshipSession(
        id=uuid.uuid4(), kind=ListingKind.GROUP, listing_id=listing.id, programme_id=listing.programme_id,
        mentor_profile_id=listing.mentor_profile_id, start_time=start_time, end_time=end_time,
        status=SessionStatus.SCHEDULED, capacity=listing.capacity, seats_taken=0,
        buffer_before_minutes=listing.buffer_before_minutes, buffer_after_minutes=listing.buffer_after_minutes,
    )
    add_or_conflict(db, session, {LIVE_OVERLAP: Conflict("this time overlaps another session of the mentor",
                                                         reason="mentor_busy")})
    emit_event(db, session, EventType.SESSION_SCHEDULED, str(actor))
    settle_clashes(db, start=start_time, end=end_time, now=now, mentor_profile_id=listing.mentor_profile_id,
                   reason=GROUP_SCHEDULED)
    return session


def join_group_session(db: Session, actor: Actor, session_id: uuid.UUID, *,
                       bundle_purchase_id: uuid.UUID | None = None, now: datetime | None = None) -> Booking:
    """Take a seat: a booking accepted at once, paid or with a bundle credit. 409 when full (a seat offered to
    someone in line counts as taken), already joined, or the mentee holds another accepted booking or seat at that
    time. The mentee offered a seat from the waitlist takes it here too (``workflows.sessions.waitlists``).

    The seat count moves with one conditional UPDATE (``seats_taken < capacity``, less the seats offered to
    others), and a check constraint stands behind it, so concurrent joins cannot overfill.
    """
    # The mentee's turn, as their requests take it: a request in flight sees the seat, or is withdrawn by it.
    request_limits.take_turn(db, actor.user_id)
    # The row lock orders a join with a cancellation: a join that waited sees the session cancelled.
    session = db.get(MentorshipSession, session_id, with_for_update=True)
    if session is None or session.kind != ListingKind.GROUP:
        raise NotFound("group session not found")
    if session.mentor_profile_id == actor.mentor_profile_id:
        raise BusinessRuleViolation("you cannot join your own group session")
    now = now or utcnow()
    seat = seats.take_seat(db, session, actor.user_id, actor=str(actor), bundle_purchase_id=bundle_purchase_id,
                           now=now, held_for_others=waitlists.held_for_others(db, session.id, actor.user_id, now))
    waitlists.seated(db, session.id, actor.user_id, seat, now=now)
    return seat


def set_capacity(db: Session, actor: Actor, session_id: uuid.UUID, capacity: int, *,
                 now: datetime | None = None) -> MentorshipSession:
    """The mentor changes a group session's seats: never below those taken; a raise offers the new seats to the
    first in line (``workflows.sessions.waitlists``)."""
    now = now or utcnow()
    session = db.get(MentorshipSession, session_id, with_for_update=True)
    if session is None or session.kind != ListingKind.GROUP:
        raise NotFound("group session not found")
    if session.mentor_profile_id != actor.mentor_profile_id:
        raise Forbidden("only the session's mentor can change its seats")
    if session.status != SessionStatus.SCHEDULED:
        raise InvalidTransition("session", session.status, "change_seats", verb="change the seats of")
    held = waitlists.held_for_others(db, session.id)
    if capacity < session.seats_taken + held:
        raise Conflict("{seats_taken} seats are taken and {held} offered: the session needs at least {needed}",
                       words={"seats_taken": session.seats_taken, "held": held, "needed": session.seats_taken + held},
                       seats_taken=session.seats_taken, seats_offered=held,
                       reason="capacity_below_seats")
    raised = capacity > (session.capacity or 0)
    session.capacity = capacity  # no session.updated: that tells the mentees of a new link or agenda
    db.flush()
    if raised:
        waitlists.seat_freed(db, session, now=now)
    return session


@dataclass(frozen=True)
class OpenSession:
    """A group session open to join, with its line: seats offered to people in line count as taken."""

    session: MentorshipSession
    seats_offered: int
    waiting: int

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    @property
    def seats_left(self) -> int:
        return max(0, (self.session.capacity or 0) - self.session.seats_taken - self.seats_offered)


def upcoming_group_sessions(db: Session, listing_id: uuid.UUID, *, limit: int, cursor: str | None,
                            now: datetime | None = None) -> Page[OpenSession]:
    """A listing's group sessions still open to join (scheduled, not started), in start order."""
    listing_or_404(db, listing_id)
    return find_group_sessions(db, listing_id=listing_id, limit=limit, cursor=cursor, now=now)


def find_group_sessions(db: Session, *, listing_id: uuid.UUID | None = None, skill: str | None = None,
                        start_from: datetime | None = None, start_to: datetime | None = None, limit: int,
                        cursor: str | None, now: datetime | None = None) -> Page[OpenSession]:
    """Group sessions still open to join (scheduled, not started), across listings, in start order:
    of one listing, of a skill, starting in [start_from, start_to)."""
    query = select(MentorshipSession).where(
        MentorshipSession.kind == ListingKind.GROUP, MentorshipSession.status == SessionStatus.SCHEDULED,
        MentorshipSession.start_time > (now or utcnow()),
    )
    if start_from is not None:
        query = query.where(MentorshipSession.start_time >= start_from)
    if start_to is not None:
        query = query.where(MentorshipSession.start_time < start_to)
    if listing_id is not None:
        query = query.where(MentorshipSession.listing_id == listing_id)
    if skill:
        query = query.where(MentorshipSession.listing_id.in_(
            select(Listing.id).where(Listing.skill.has(name=normalise_skill(skill)))))
    page = paginate(db, query, MentorshipSession.start_time, MentorshipSession.id, limit=limit, cursor=cursor)
    lines = waitlists.lines(db, [s.id for s in page.items])
    return Page([OpenSession(s, *lines.get(s.id, (0, 0))) for s in page.items], page.next_cursor)
