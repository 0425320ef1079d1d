"""A mentee's request for a time of a listing: who may ask, the rules the time must pass (checked at once, under
the mentor's schedule lock), the team member it goes to, and the draft booking the mentor then answers
(``workflows.bookings.lifecycle``), or the system accepts at once when the listing is booked instantly."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.orm import Session, joinedload

from models import Booking, BookingStatus, CreditStatus, Listing, ListingKind
from workflows import questions
from workflows.actors import Actor
from workflows.bookings import lifecycle
from workflows.bookings import limits as request_limits
from workflows.bookings.bundles import reserve_credit
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden
from workflows.events import EventType, record
from workflows.lookups import books_within_pairing, visible_listing
from workflows.payloads import booking_payload
from workflows.roles import Role
from workflows.scheduling import checks
from workflows.scheduling import rules as scheduling
from workflows.scheduling.commitments import lock_mentor_schedule, mentee_is_busy
from workflows.scheduling.hours import weekly_hours
from workflows.scheduling.teams import assign_mentor

log = structlog.get_logger(__name__)


def bookable_listing(db: Session, actor: Actor, listing_id: uuid.UUID) -> Listing:
    """The listing, with its mentor, if the actor may request it: 404 unknown (or a programme's, to anyone outside
    it); 400 inactive, a group listing (its sessions are joined), or the actor's own."""
    listing = visible_listing(db, actor, listing_id, options=[joinedload(Listing.mentor_profile)])
    if not listing.active:
        raise BusinessRuleViolation("this listing is not taking bookings")
    if listing.kind == ListingKind.GROUP:
        raise BusinessRuleViolation("group listings are joined through their group sessions, not booked")
    if listing.mentor_profile.user_id == actor.user_id:
        raise BusinessRuleViolation("you cannot book your own listing")
    if not books_within_pairing(db, actor, listing):
        raise Forbidden("your programme keeps your sessions to your pairing: book your own mentor's listing")
    return listing


def request_booking(
    db: Session,
    actor: Actor,
    *,
    listing_id: uuid.UUID,
    start_time: datetime,
    notes: str = "",
    bundle_purchase_id: uuid.UUID | None = None,
    mentor_profile_id: uuid.UUID | None = None,
    answers: Sequence[dict[str, Any]] = (),
    now: datetime | None = None,
) -> Booking:
    """A draft with the mentor named, or chosen among the listing's team (``workflows.scheduling.teams``).

    A time that breaks one of the scheduling rules (``workflows.scheduling.rules``), or the mentee is already
    committed at, is refused now (409): such a draft could never be accepted. So is a request beyond the
    mentee's pending caps or instant cap, or a repeat of a pending one (``workflows.bookings.limits``).
    """
    now = now or utcnow()
    listing = bookable_listing(db, actor, listing_id)
    rules = scheduling.ListingRules.of(listing)
    scheduling.check_request_time(rules, start_time, now)
    kept = questions.answered(questions.form_of(db, listing.id), answers)
    end_time = start_time + rules.duration
    request_limits.take_turn(db, actor.user_id)
    with scheduling.seen_by_others():  # the mentee is told the mentor's private reasons as "unavailable"
        mentor = assign_mentor(db, actor, listing, rules, requested=mentor_profile_id, start=start_time,
                               end=end_time, now=now)
        # After an accept of this mentor in flight, which settles the requests it can see: this one must see it.
        # Under the lock, the mentor's rules decide as they do for an accept.
        lock_mentor_schedule(db, mentor.id)
        checks.check(db, checks.Commitment(mentor.id, listing.id, start_time, end_time, rules.before,
                                                   rules.after, step=rules.step),
                         weekly=weekly_hours(mentor.availability))
    request_limits.refuse_repeat(db, actor.user_id, listing.id, start_time)
    request_limits.refuse_beyond_caps(db, actor.user_id, mentor.id)
    if listing.instant_booking:
        request_limits.refuse_beyond_instant_cap(db, actor.user_id, mentor.id, cap=rules.max_instant, asking=1, now=now)
    checks.check_mentee(db, rules, actor.user_id, mentor.id, now)
    if mentee_is_busy(db, actor.user_id, start_time, end_time):
        raise Conflict("you already have an accepted booking or a seat at that time", rule="mentee_busy")
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
        buffer_before_minutes=rules.before,
        buffer_after_minutes=rules.after,
        instant=listing.instant_booking,
        answers=kept,
    )
    db.add(booking)
    db.flush()
    record(db, EventType.BOOKING_REQUESTED, booking_payload(booking), actor=str(actor))
    log.info(EventType.BOOKING_REQUESTED, booking_id=str(booking.id), actor=str(actor))
    if booking.instant:
        # Booked instantly: accepted now by the system, through the accept's own guard, under the locks this request
        # holds (the mentee's turn, then the mentor's schedule, as an accept takes them).
        lifecycle.accept_in_series(db, booking, actor=Role.SYSTEM.value, now=now, role=Role.SYSTEM)
    return booking
