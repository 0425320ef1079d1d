"""Group sessions: the mentor puts one on the calendar; mentees take seats (accepted bookings).

Leaving a seat and cancelling the session are in ``workflows.sessions`` (``cancel_session``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, CreditStatus, Listing, ListingKind, MentorshipSession, SessionStatus
from models.bookings import GROUP_SEAT, MENTEE_OVERLAP
from models.sessions import LIVE_OVERLAP
from workflows import request_limits, scheduling
from workflows.actors import Actor
from workflows.bookings import GROUP_SCHEDULED, settle_clashes
from workflows.bundles import reserve_credit
from workflows.clock import utcnow
from workflows.commitments import lock_mentor_schedule
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidTransition, NotFound, add_or_conflict
from workflows.events import EventType, booking_payload, record
from workflows.mentors import normalise_skill
from workflows.pagination import Page, paginate
from workflows.sessions import emit_event

log = structlog.get_logger(__name__)

SEAT_CONFLICTS = {
    GROUP_SEAT: "you already hold a seat in this session",
    MENTEE_OVERLAP: "you already have an accepted booking or a seat at this time",
}
def schedule_group_session(db: Session, actor: Actor, listing_id: uuid.UUID, *, start_time: datetime,
                           now: datetime | None = None) -> MentorshipSession:
    """The mentor puts a group session on the calendar; it never overlaps their other sessions, and honours
    their time off, buffers and limits (``workflows.scheduling``)."""
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
    # The mentor's rules but their hours: time off, buffers around their other commitments, their limits.
    scheduling.check(db, scheduling.Commitment(listing.mentor_profile_id, listing.id, start_time, end_time,
                                               listing.buffer_before_minutes, listing.buffer_after_minutes),
                     hours=False)
    session = MentorshipSession(
        id=uuid.uuid4(), kind=ListingKind.GROUP, listing_id=listing.id,
        mentor_profile_id=listing.mentor_profile_id, start_time=start_time, end_time=end_time,
        status=SessionStatus.SCHEDULED, capacity=listing.capacity, seats_taken=0,
        buffer_before_minutes=listing.buffer_before_minutes, buffer_after_minutes=listing.buffer_after_minutes,
    )
    add_or_conflict(db, session, {LIVE_OVERLAP: "this time overlaps another session of the mentor"})
    emit_event(db, session, EventType.SESSION_SCHEDULED, str(actor))
    settle_clashes(db, start=start_time, end=end_time, now=now, mentor_profile_id=listing.mentor_profile_id,
                   reason=GROUP_SCHEDULED)
    return session


def join_group_session(db: Session, actor: Actor, session_id: uuid.UUID, *,
                       bundle_purchase_id: uuid.UUID | None = None, now: datetime | None = None) -> Booking:
    """Take a seat: a booking accepted at once, paid or with a bundle credit. 409 when full, already
    joined, or the mentee holds another accepted booking or seat at that time.

    The seat count moves with one conditional UPDATE (``seats_taken < capacity``),
    and a check constraint stands behind it, so concurrent joins cannot overfill.
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
    if session.status != SessionStatus.SCHEDULED:
        raise InvalidTransition("session", session.status, "join")
    if session.start_time <= now:
        raise BusinessRuleViolation("this group session has already started")
    listing = db.get(Listing, session.listing_id)
    assert listing is not None
    scheduling.check_mentee(db, scheduling.ListingRules.of(listing), actor.user_id, session.mentor_profile_id, now)
    if bundle_purchase_id is not None:
        reserve_credit(db, actor, bundle_purchase_id, listing.id, now=now, start_time=session.start_time)
    seat = Booking(
        id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=session.mentor_profile_id,
        mentee_user_id=actor.user_id, start_time=session.start_time, end_time=session.end_time,
        status=BookingStatus.ACCEPTED, price_cents=listing.price_cents, currency=listing.currency,
        group_session_id=session.id, decided_at=now, bundle_purchase_id=bundle_purchase_id,
        credit_status=CreditStatus.HELD if bundle_purchase_id else CreditStatus.NONE,
    )
    add_or_conflict(db, seat, SEAT_CONFLICTS)
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
    record(db, EventType.BOOKING_ACCEPTED, booking_payload(seat), actor=str(actor))
    log.info("session.joined", session_id=str(session.id), booking_id=str(seat.id), actor=str(actor))
    settle_clashes(db, start=seat.start_time, end=seat.end_time, now=now, mentee_user_id=actor.user_id)
    return seat



def upcoming_group_sessions(db: Session, listing_id: uuid.UUID, *, limit: int, cursor: str | None,
                            now: datetime | None = None) -> Page[MentorshipSession]:
    """A listing's group sessions still open to join (scheduled, not started), in start order."""
    if db.get(Listing, listing_id) is None:
        raise NotFound("listing not found")
    return find_group_sessions(db, listing_id=listing_id, limit=limit, cursor=cursor, now=now)


def find_group_sessions(db: Session, *, listing_id: uuid.UUID | None = None, skill: str | None = None,
                        start_from: datetime | None = None, start_to: datetime | None = None, limit: int,
                        cursor: str | None, now: datetime | None = None) -> Page[MentorshipSession]:
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
    return paginate(db, query, MentorshipSession.start_time, MentorshipSession.id, limit=limit, cursor=cursor)
