"""Booking requests and the mentor's decisions.

A draft does not hold the slot; accepting does, and the database's exclusion
constraint is what refuses a second accepted booking over the same time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from models import Booking, BookingStatus, Listing, ListingKind, MentorProfile, MentorshipSession
from workflows.actors import Actor
from workflows.availability import fits_windows
from workflows.bundles import release_credit, reserve_credit
from workflows.clock import utcnow
from workflows.config import get_settings
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidTransition, NotFound
from workflows.outbox import record_event
from workflows.pagination import Page, paginate
from workflows.roles import Role, participation

log = structlog.get_logger(__name__)

EXCLUSION_CONSTRAINT = "ex_bookings_mentor_accepted_overlap"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[BookingStatus]
    target: BookingStatus
    by: Role


# The booking state machine: action -> (allowed from, goes to, who may do it).
TRANSITIONS: dict[str, Transition] = {
    "accept": Transition(frozenset({BookingStatus.DRAFT}), BookingStatus.ACCEPTED, Role.MENTOR),
    "decline": Transition(frozenset({BookingStatus.DRAFT}), BookingStatus.DECLINED, Role.MENTOR),
    "cancel": Transition(frozenset({BookingStatus.DRAFT}), BookingStatus.CANCELLED, Role.MENTEE),
    "expire": Transition(frozenset({BookingStatus.DRAFT}), BookingStatus.EXPIRED, Role.SYSTEM),
    # An accepted booking ends with its session's cancellation (see workflows.sessions).
    "cancel_session": Transition(frozenset({BookingStatus.ACCEPTED}), BookingStatus.CANCELLED, Role.SYSTEM),
}

EVENT_BY_ACTION = {
    "accept": "booking.accepted",
    "decline": "booking.declined",
    "cancel": "booking.cancelled",
    "expire": "booking.expired",
}


def booking_payload(booking: Booking) -> dict[str, Any]:
    """What an event says about a booking: ids and times, JSON-ready."""
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


def role_of(actor: Actor, booking: Booking) -> Role | None:
    if actor.mentor_profile_id is not None and booking.mentor_profile_id == actor.mentor_profile_id:
        return Role.MENTOR
    if booking.mentee_user_id == actor.user_id:
        return Role.MENTEE
    return None


def apply_transition(booking: Booking, action: str, role: Role) -> None:
    """Move the booking, or refuse: wrong party → 403, wrong state → 400 naming the state."""
    transition = TRANSITIONS[action]
    if role != transition.by:
        raise Forbidden(f"only the {transition.by.value} can {action} this booking")
    if booking.status not in transition.sources:
        raise InvalidTransition("booking", booking.status, action)
    booking.status = transition.target


# Statements built once, run with bind parameters.
_BOOKING = select(Booking).where(Booking.id == bindparam("booking_id"))
_LOCKED_BOOKING = _BOOKING.with_for_update()
_LOCK_MENTOR = select(MentorProfile.id).where(MentorProfile.id == bindparam("mentor_profile_id")).with_for_update()
_GROUP_SESSION_OVERLAP = select(MentorshipSession.id).where(
    MentorshipSession.mentor_profile_id == bindparam("mentor_profile_id"),
    MentorshipSession.kind == ListingKind.GROUP.value,
    MentorshipSession.status.in_(["scheduled", "in_progress"]),
    MentorshipSession.start_time < bindparam("end"),
    MentorshipSession.end_time > bindparam("start"),
).limit(1)


def _load(db: Session, booking_id: uuid.UUID, *, lock: bool) -> Booking | None:
    return db.execute(_LOCKED_BOOKING if lock else _BOOKING, {"booking_id": booking_id}).scalar_one_or_none()


def get_visible_booking(db: Session, actor: Actor, booking_id: uuid.UUID, *, lock: bool = False) -> Booking:
    """The booking if the actor takes part in it (or is an admin reading); else 404, no existence leak."""
    booking = _load(db, booking_id, lock=lock)
    if booking is None or (role_of(actor, booking) is None and not (actor.is_admin and not lock)):
        raise NotFound("booking not found")
    return booking


def lock_mentor_schedule(db: Session, mentor_profile_id: uuid.UUID) -> None:
    """Serialise changes to one mentor's calendar that two tables share.

    Accepted individual bookings and group sessions live in different tables,
    each with its own exclusion constraint; this row lock makes the check
    between them race-free.
    """
    db.execute(_LOCK_MENTOR, {"mentor_profile_id": mentor_profile_id})


def overlapping_group_session(db: Session, mentor_profile_id: uuid.UUID, start: datetime, end: datetime) -> bool:
    found = db.scalar(_GROUP_SESSION_OVERLAP, {"mentor_profile_id": mentor_profile_id, "start": start, "end": end})
    return found is not None


def request_booking(
    db: Session,
    actor: Actor,
    *,
    listing_id: uuid.UUID,
    start_time: datetime,
    notes: str = "",
    bundle_purchase_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Booking:
    now = now or utcnow()
    listing = db.execute(
        select(Listing)
        .where(Listing.id == listing_id)
        .options(selectinload(Listing.mentor_profile).selectinload(MentorProfile.availability))
    ).scalar_one_or_none()
    if listing is None:
        raise NotFound("listing not found")
    if not listing.active:
        raise BusinessRuleViolation("this listing is not taking bookings")
    if listing.kind == ListingKind.GROUP:
        raise BusinessRuleViolation("group listings are joined through their group sessions, not booked")
    profile = listing.mentor_profile
    if profile.user_id == actor.user_id:
        raise BusinessRuleViolation("you cannot book your own listing")
    earliest = now + timedelta(minutes=get_settings().min_notice_minutes)
    if start_time < earliest:
        raise BusinessRuleViolation(
            "a booking must start in the future" if start_time < now else "a booking needs more notice",
            earliest_start=earliest.isoformat(),
        )
    end_time = start_time + timedelta(minutes=listing.duration_minutes)
    if not fits_windows(profile.availability, profile.timezone, start_time, end_time):
        raise BusinessRuleViolation(
            f"outside the mentor's availability (windows are in {profile.timezone})", timezone=profile.timezone
        )
    if bundle_purchase_id is not None:
        reserve_credit(db, actor, bundle_purchase_id, listing.id, now)
    booking = Booking(
        id=uuid.uuid4(),
        bundle_purchase_id=bundle_purchase_id,
        credit_status="held" if bundle_purchase_id else "none",
        listing_id=listing.id,
        mentor_profile_id=listing.mentor_profile_id,
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
    record_event(db, "booking.requested", aggregate_type="booking", aggregate_id=booking.id,
                 payload=booking_payload(booking), actor=str(actor))
    log.info("booking.requested", booking_id=str(booking.id), actor=str(actor))
    return booking


def _decide(db: Session, actor: Actor, booking_id: uuid.UUID, action: str, *, reason: str | None = None,
            now: datetime | None = None) -> Booking:
    booking = get_visible_booking(db, actor, booking_id, lock=True)
    role = role_of(actor, booking)
    assert role is not None  # get_visible_booking refused everyone else
    now = now or utcnow()
    if action == "accept" and role == Role.MENTOR and booking.status == BookingStatus.DRAFT:
        # Before the status changes, so no autoflush can hit the exclusion constraint early.
        lock_mentor_schedule(db, booking.mentor_profile_id)
        if overlapping_group_session(db, booking.mentor_profile_id, booking.start_time, booking.end_time):
            raise Conflict("this time overlaps one of the mentor's group sessions")
    apply_transition(booking, action, role)
    if action == "accept":
        if booking.start_time <= now:
            raise BusinessRuleViolation("this booking's start time has passed")
        booking.decided_at = now
        # No savepoint: a refused accept ends the transaction anyway (the caller rolls back), so
        # the flush that meets the exclusion constraint needs no way to carry on after it.
        try:
            db.flush()
        except IntegrityError as exc:
            if EXCLUSION_CONSTRAINT in str(exc.orig):
                raise Conflict("this time overlaps another accepted booking of the mentor") from None
            raise
    elif action == "decline":
        booking.decline_reason = reason
        booking.decided_at = now
        release_credit(db, booking, refund=True)
    elif action == "cancel":
        booking.cancel_reason = reason
        release_credit(db, booking, refund=True)
    db.flush()
    record_event(db, EVENT_BY_ACTION[action], aggregate_type="booking", aggregate_id=booking.id,
                 payload=booking_payload(booking), actor=str(actor))
    log.info(EVENT_BY_ACTION[action], booking_id=str(booking.id), actor=str(actor))
    return booking


def accept_booking(db: Session, actor: Actor, booking_id: uuid.UUID) -> Booking:
    return _decide(db, actor, booking_id, "accept")


def decline_booking(db: Session, actor: Actor, booking_id: uuid.UUID, reason: str | None = None) -> Booking:
    return _decide(db, actor, booking_id, "decline", reason=reason)


def cancel_booking(db: Session, actor: Actor, booking_id: uuid.UUID, reason: str | None = None) -> Booking:
    return _decide(db, actor, booking_id, "cancel", reason=reason)


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
        apply_transition(booking, "expire", Role.SYSTEM)
        release_credit(db, booking, refund=True)
        record_event(db, "booking.expired", aggregate_type="booking", aggregate_id=booking.id,
                     payload=booking_payload(booking), actor=Role.SYSTEM.value)
        log.info("booking.expired", booking_id=str(booking.id), actor=Role.SYSTEM.value)
    db.flush()
    return len(drafts)


@dataclass(frozen=True)
class BookingView:
    booking: Booking
    session_id: uuid.UUID | None


def view_booking(db: Session, actor: Actor, booking_id: uuid.UUID) -> BookingView:
    booking = get_visible_booking(db, actor, booking_id)
    session_id = db.scalar(select(MentorshipSession.id).where(MentorshipSession.booking_id == booking.id))
    return BookingView(booking, session_id)


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
        query = query.where(Booking.status == status)
    return paginate(db, query, Booking.created_at, Booking.id, limit=limit, cursor=cursor, descending=True)


def session_ids_for(db: Session, bookings: list[Booking]) -> dict[uuid.UUID, uuid.UUID]:
    if not bookings:
        return {}
    rows = db.execute(
        select(MentorshipSession.booking_id, MentorshipSession.id).where(
            MentorshipSession.booking_id.in_([b.id for b in bookings])
        )
    ).all()
    return {booking_id: session_id for booking_id, session_id in rows if booking_id is not None}
