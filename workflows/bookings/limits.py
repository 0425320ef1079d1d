"""How many booking requests a mentee may keep open, so that nobody floods a mentor or mails them at will.

A mentee holds at most ``MAX_PENDING_REQUESTS_PER_MENTOR`` pending requests to one mentor (on a team
listing, the member the request goes to), ``MAX_PENDING_REQUESTS`` in all (a series pending is one request),
and never two for the same listing and start. One mentee's requests are decided one after the other (a lock on
their user row, taken in the request's transaction), so the counts hold exactly however many arrive at once; the
unique index on a mentee's pending (listing, start) is the database's own guard behind the first rule.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import Booking, BookingStatus, User
from workflows.errors import Conflict

# FOR NO KEY UPDATE: it conflicts with itself, not with the key-share locks of rows referencing the user.
_LOCK_MENTEE = select(User.id).where(User.id == bindparam("user_id")).with_for_update(key_share=True)
# A transaction-scoped advisory lock per mentee (in memory: no row written), exclusive for the mentee's own
# requests, shared for accepts of their bookings; keyed by a 64-bit hash of the user id.
_REQUESTS = text("SELECT pg_advisory_xact_lock(hashtextextended(CAST(:user_id AS text), 0))")
# One round trip for an accept: the shared lock of its booking's mentee (computed below the row lock), then
# its mentor's schedule (``workflows.scheduling.commitments``' lock, FOR NO KEY UPDATE of the mentor's row).
_ACCEPTS = text("SELECT m.id AS mentor_profile_id, "
                "pg_advisory_xact_lock_shared(hashtextextended(CAST(b.mentee_user_id AS text), 0)) "
                "FROM bookings b JOIN mentor_profiles m ON m.id = b.mentor_profile_id WHERE b.id = :booking_id "
                "FOR NO KEY UPDATE OF m")


def take_turn(db: Session, mentee_user_id: uuid.UUID) -> None:
    """Wait for the mentee's other requests in flight, and for accepts of their bookings: what they wrote is
    then seen by the checks below."""
    db.execute(_LOCK_MENTEE, {"user_id": mentee_user_id})
    db.execute(_REQUESTS, {"user_id": str(mentee_user_id)})


_TRY_LOCK_MENTEE = select(User.id).where(User.id == bindparam("user_id")).with_for_update(key_share=True,
                                                                                          skip_locked=True)
_TRY_REQUESTS = text("SELECT pg_try_advisory_xact_lock(hashtextextended(CAST(:user_id AS text), 0))")


def try_turn(db: Session, mentee_user_id: uuid.UUID) -> bool:
    """:func:`take_turn` if the mentee's turn is free now, without waiting; ``False`` when it is not (a caller
    holding other locks, the system giving a seat, does something else rather than wait in the wrong order)."""
    if db.execute(_TRY_LOCK_MENTEE, {"user_id": mentee_user_id}).first() is None:
        return False
    return bool(db.scalar(_TRY_REQUESTS, {"user_id": str(mentee_user_id)}))


def accept_turns(db: Session, booking_id: uuid.UUID) -> bool:
    """Before an accept locks its booking: wait for the requests in flight of its mentee (holding new ones off
    until this transaction ends, but not other accepts: accepts of one mentee's bookings by different mentors
    run at once), then lock its mentor's schedule. ``False`` when there is no such booking."""
    return db.execute(_ACCEPTS, {"booking_id": booking_id}).first() is not None


def refuse_repeat(db: Session, mentee_user_id: uuid.UUID, listing_id: uuid.UUID, start_time: datetime) -> None:
    """409 when the mentee already asked for this listing at this start and the request is pending."""
    existing = db.scalar(select(Booking.id).where(
        Booking.mentee_user_id == mentee_user_id, Booking.listing_id == listing_id, Booking.start_time == start_time,
        Booking.status == BookingStatus.DRAFT))
    if existing is not None:
        raise Conflict(f"you already asked for this time: request {existing} is pending", existing_booking_id=existing)


def refuse_beyond_caps(db: Session, mentee_user_id: uuid.UUID, mentor_profile_id: uuid.UUID) -> None:
    """409 when one more request would exceed the mentee's pending requests to this mentor, or in all."""
    settings = get_settings()
    one = func.coalesce(Booking.series_id, Booking.id)  # a series' pending times are one request
    total, to_mentor = db.execute(
        select(func.count(one.distinct()),
               func.count(one.distinct()).filter(Booking.mentor_profile_id == mentor_profile_id))
        .where(Booking.mentee_user_id == mentee_user_id, Booking.status == BookingStatus.DRAFT)
    ).one()
    if to_mentor >= settings.max_pending_requests_per_mentor:
        raise Conflict(f"you have {to_mentor} pending requests to this mentor already: wait for an answer, or "
                       "withdraw one, before asking again", limit=settings.max_pending_requests_per_mentor)
    if total >= settings.max_pending_requests:
        raise Conflict(f"you have {total} pending requests already: wait for answers, or withdraw some, before "
                       "asking again", limit=settings.max_pending_requests)
