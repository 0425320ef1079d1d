"""Booking requests and the mentor's decisions.

A draft does not hold the slot; accepting does, and the database's exclusion
constraint is what refuses a second accepted booking over the same time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from infra.config import get_settings
from models import Booking, BookingStatus, CreditStatus, Listing, ListingKind, MentorshipSession
from models.bookings import ACCEPTED_OVERLAP, MENTEE_OVERLAP
from workflows import request_limits
from workflows.actors import Actor
from workflows.bundles import release_credit, reserve_credit
from workflows.clock import utcnow
from workflows.commitments import lock_mentor_schedule, mentee_is_busy, overlapping_group_session
from workflows.errors import BusinessRuleViolation, Conflict, NotFound, violated_constraint
from workflows.events import record_booking_event
from workflows.pagination import Page, paginate
from workflows.roles import Role, participation
from workflows.state_machine import StateMachine, move
from workflows.teams import assign_mentor

log = structlog.get_logger(__name__)

# The booking state machine: action -> (allowed from, goes to, who may do it).
BOOKINGS = StateMachine("booking", Booking, {
    "accept": move(BookingStatus.DRAFT, BookingStatus.ACCEPTED, Role.MENTOR),
    "decline": move(BookingStatus.DRAFT, BookingStatus.DECLINED, Role.MENTOR),
    "cancel": move(BookingStatus.DRAFT, BookingStatus.CANCELLED, Role.MENTEE),
    "expire": move(BookingStatus.DRAFT, BookingStatus.EXPIRED, Role.SYSTEM),
    # An accepted booking ends with its session's cancellation (see workflows.sessions).
    "cancel_session": move(BookingStatus.ACCEPTED, BookingStatus.CANCELLED, Role.SYSTEM),
})

EVENT_BY_ACTION = {
    "accept": "booking.accepted",
    "decline": "booking.declined",
    "cancel": "booking.cancelled",
    "expire": "booking.expired",
}


get_visible_booking = BOOKINGS.get_visible


def request_booking(
    db: Session,
    actor: Actor,
    *,
    listing_id: uuid.UUID,
    start_time: datetime,
    notes: str = "",
    bundle_purchase_id: uuid.UUID | None = None,
    mentor_profile_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Booking:
    """A draft with the mentor named, or chosen among the listing's team (``workflows.teams``).

    A time the mentor or the mentee is already committed at is refused now (409): such a draft could
    never be accepted. So is a request beyond the mentee's pending caps, or a repeat of a pending one
    (``workflows.request_limits``).
    """
    now = now or utcnow()
    listing = db.execute(
        select(Listing).where(Listing.id == listing_id).options(joinedload(Listing.mentor_profile))
    ).scalar_one_or_none()
    if listing is None:
        raise NotFound("listing not found")
    if not listing.active:
        raise BusinessRuleViolation("this listing is not taking bookings")
    if listing.kind == ListingKind.GROUP:
        raise BusinessRuleViolation("group listings are joined through their group sessions, not booked")
    if listing.mentor_profile.user_id == actor.user_id:
        raise BusinessRuleViolation("you cannot book your own listing")
    earliest = now + timedelta(minutes=get_settings().min_notice_minutes)
    if start_time < earliest:
        raise BusinessRuleViolation(
            "a booking must start in the future" if start_time < now else "a booking needs more notice",
            earliest_start=earliest.isoformat(),
        )
    end_time = start_time + timedelta(minutes=listing.duration_minutes)
    request_limits.take_turn(db, actor.user_id)
    mentor = assign_mentor(db, actor, listing, requested=mentor_profile_id, start=start_time, end=end_time, now=now)
    request_limits.refuse_repeat(db, actor.user_id, listing.id, start_time)
    request_limits.refuse_beyond_caps(db, actor.user_id, mentor.id)
    if mentee_is_busy(db, actor.user_id, start_time, end_time):
        raise Conflict("you already have an accepted booking or a seat at that time")
    if bundle_purchase_id is not None:
        reserve_credit(db, actor, bundle_purchase_id, listing.id, now=now, start_time=start_time)
    booking = Booking(
        id=uuid.uuid4(),
        bundle_purchase_id=bundle_purchase_id,
        credit_status=CreditStatus.HELD if bundle_purchase_id else CreditStatus.NONE,
        listing_id=listing.id,
        mentor_profile_id=mentor.id,
        mentee_user_id=actor.user_id,
        start_time=start_time,
        end_time=end_time,
        status=BookingStatus.DRAFT,
        price_cents=listing.price_cents,
        currency=listing.currency,
        notes=notes,
    )
    db.add(booking)
    db.flush()
    record_booking_event(db, "booking.requested", booking, actor=str(actor))
    log.info("booking.requested", booking_id=str(booking.id), actor=str(actor))
    return booking


_ACCEPT_CONFLICTS = {
    ACCEPTED_OVERLAP: "this time overlaps another accepted booking of the mentor",
    MENTEE_OVERLAP: "the mentee already has an accepted booking or a seat at this time",
}


def _decide(db: Session, actor: Actor, booking_id: uuid.UUID, action: str, *, reason: str | None = None,
            now: datetime | None = None) -> Booking:
    booking, role = BOOKINGS.load_to_act(db, actor, booking_id)
    now = now or utcnow()
    BOOKINGS.check(booking, action, role)
    if action == "accept":
        # Before the status changes, so no autoflush can hit the exclusion constraint early.
        lock_mentor_schedule(db, booking.mentor_profile_id)
        if overlapping_group_session(db, booking.mentor_profile_id, booking.start_time, booking.end_time):
            raise Conflict("this time overlaps one of the mentor's group sessions")
    BOOKINGS.apply(booking, action, role)
    if action == "accept":
        if booking.start_time <= now:
            raise BusinessRuleViolation("this booking's start time has passed")
        booking.decided_at = now
        # No savepoint: a refused accept ends the transaction anyway (the caller rolls back), so
        # the flush that meets the exclusion constraint needs no way to carry on after it.
        try:
            db.flush()
        except IntegrityError as exc:
            message = _ACCEPT_CONFLICTS.get(violated_constraint(exc) or "")
            if message is None:
                raise
            raise Conflict(message) from None
    elif action == "decline":
        booking.decline_reason = reason
        booking.decided_at = now
        release_credit(db, booking, refund=True)
    elif action == "cancel":
        booking.cancel_reason = reason
        release_credit(db, booking, refund=True)
    db.flush()
    record_booking_event(db, EVENT_BY_ACTION[action], booking, actor=str(actor))
    log.info(EVENT_BY_ACTION[action], booking_id=str(booking.id), actor=str(actor))
    return booking


def accept_booking(db: Session, actor: Actor, booking_id: uuid.UUID) -> Booking:
    return _decide(db, actor, booking_id, "accept")


def decline_booking(db: Session, actor: Actor, booking_id: uuid.UUID, reason: str | None = None) -> Booking:
    return _decide(db, actor, booking_id, "decline", reason=reason)


def cancel_booking(db: Session, actor: Actor, booking_id: uuid.UUID, reason: str | None = None) -> Booking:
    return _decide(db, actor, booking_id, "cancel", reason=reason)


def end_with_session_cancellation(db: Session, booking: Booking, *, late: bool, reason: str) -> tuple[int, bool]:
    """End an accepted booking (or a seat) because its session is cancelled, or its mentee leaves.

    The cancellation policy (docs/PRIMER.md), in one place: a late mentee forfeits the bundle credit the booking holds,
    or else pays ``CANCELLATION_FEE_PERCENT`` of its price; anyone else is refunded. Returns
    ``(fee_cents, credit_refunded)``, also recorded on the booking.
    """
    fee, refunded = 0, False
    if booking.credit_status == CreditStatus.HELD:
        refunded = release_credit(db, booking, refund=not late)
    elif late:
        fee = booking.price_cents * get_settings().cancellation_fee_percent // 100
    BOOKINGS.apply(booking, "cancel_session", Role.SYSTEM)
    booking.cancel_reason = reason
    booking.cancel_late = late
    booking.cancel_fee_cents = fee
    return fee, refunded


def expire_stale_drafts(db: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Drafts whose start has passed become ``expired``. Safe to run twice at once (SKIP LOCKED)."""
    now = now or utcnow()
    drafts = db.execute(
        select(Booking)
        .where(Booking.status == BookingStatus.DRAFT, Booking.start_time <= now)
        .order_by(Booking.start_time)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    for booking in drafts:
        BOOKINGS.apply(booking, "expire", Role.SYSTEM)
        release_credit(db, booking, refund=True)
        record_booking_event(db, "booking.expired", booking, actor=Role.SYSTEM.value)
        log.info("booking.expired", booking_id=str(booking.id), actor=Role.SYSTEM.value)
    db.flush()
    return len(drafts)


@dataclass(frozen=True)
class BookingView:
    booking: Booking
    session_id: uuid.UUID | None


def view_booking(db: Session, actor: Actor, booking_id: uuid.UUID) -> BookingView:
    booking = get_visible_booking(db, actor, booking_id)
    return BookingView(booking, session_ids_for(db, [booking]).get(booking.id))


def list_bookings(
    db: Session, actor: Actor, *, role: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[Booking]:
    """The actor's bookings, newest first, as mentee, mentor or both."""
    mine = participation(role, actor, Booking.mentor_profile_id == actor.mentor_profile_id,
                         Booking.mentee_user_id == actor.user_id)
    if mine is None:
        return Page(items=[], next_cursor=None)
    query = select(Booking).where(mine)
    if status:
        query = query.where(Booking.status == BookingStatus(status))
    return paginate(db, query, Booking.created_at, Booking.id, limit=limit, cursor=cursor, descending=True)


def session_ids_for(db: Session, bookings: list[Booking]) -> dict[uuid.UUID, uuid.UUID]:
    """booking id -> its session: the group session of a seat, else the session made from it."""
    seats = {b.id: b.group_session_id for b in bookings if b.group_session_id is not None}
    individual = [b.id for b in bookings if b.group_session_id is None]
    if not individual:
        return seats
    rows = db.execute(
        select(MentorshipSession.booking_id, MentorshipSession.id).where(MentorshipSession.booking_id.in_(individual))
    ).all()
    return {**seats, **{booking_id: session_id for booking_id, session_id in rows if booking_id is not None}}
