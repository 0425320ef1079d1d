"""A seat of a group session taken: the accepted booking it is, and the count it moves.

Taken by a mentee joining (``workflows.sessions.group``) or given from the waitlist (``workflows.sessions.waitlists``);
the caller holds the session's row lock.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from sqlalchemy import update
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, CreditStatus, Listing, MentorshipSession, SessionStatus
from models.bookings.bookings import GROUP_SEAT, MENTEE_OVERLAP
from workflows import calendar_owed as owed
from workflows.actors import Actor
from workflows.bookings.bundles import reserve_credit
from workflows.bookings.lifecycle import settle_clashes
from workflows.errors import BusinessRuleViolation, Conflict, InvalidTransition, add_or_conflict
from workflows.events import EventType, record
from workflows.payloads import booking_payload
from workflows.scheduling import checks
from workflows.scheduling import rules as scheduling

log = structlog.get_logger(__name__)

SEAT_CONFLICTS = {
    GROUP_SEAT: Conflict("you already hold a seat in this session", reason="seat_held_already"),
    MENTEE_OVERLAP: Conflict("you already have an accepted booking or a seat at this time", reason="mentee_busy"),
}


def take_seat(db: Session, session: MentorshipSession, user_id: uuid.UUID, *, actor: str, now: datetime,
              bundle_purchase_id: uuid.UUID | None = None, held_for_others: int = 0) -> Booking:
    """The user's seat in the session (locked by the caller), with its ``booking.accepted``; 409 when the session
    is full (``held_for_others``: seats offered to others in line count as taken), or the user holds a seat in it
    or another commitment then."""
    if session.status != SessionStatus.SCHEDULED:
        raise InvalidTransition("session", session.status, "join")
    if session.start_time <= now:
        raise BusinessRuleViolation("this group session has already started")
    listing = db.get_one(Listing, session.listing_id)
    checks.check_mentee(db, scheduling.ListingRules.of(listing), user_id, session.mentor_profile_id, now)
    if bundle_purchase_id is not None:  # the purchase must be the user's: reserve_credit checks it
        reserve_credit(db, Actor(user_id=user_id), bundle_purchase_id, listing.id, now=now,
                       start_time=session.start_time)
    seat = Booking(
        id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=session.mentor_profile_id,
        mentee_user_id=user_id, start_time=session.start_time, end_time=session.end_time,
        status=BookingStatus.ACCEPTED, price_cents=listing.price_cents, currency=listing.currency,
        group_session_id=session.id, decided_at=now, bundle_purchase_id=bundle_purchase_id,
        credit_status=CreditStatus.HELD if bundle_purchase_id else CreditStatus.NONE,
    )
    add_or_conflict(db, seat, SEAT_CONFLICTS)
    taken = db.execute(
        update(MentorshipSession)
        .where(MentorshipSession.id == session.id,
               MentorshipSession.seats_taken + held_for_others < MentorshipSession.capacity,
               MentorshipSession.status == SessionStatus.SCHEDULED)
        .values(seats_taken=MentorshipSession.seats_taken + 1)
        .returning(MentorshipSession.seats_taken)
    ).scalar_one_or_none()
    if taken is None:
        raise Conflict("this group session is full", full=True, reason="session_full")
    db.refresh(session)
    owed.owe(db, [session.id])  # its count, in the title of the event in the mentor's own calendar
    record(db, EventType.BOOKING_ACCEPTED, booking_payload(seat), actor=actor)
    log.info("session.joined", session_id=str(session.id), booking_id=str(seat.id), actor=actor)
    settle_clashes(db, start=seat.start_time, end=seat.end_time, now=now, mentee_user_id=user_id)
    return seat
