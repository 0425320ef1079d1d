"""Bundles of sessions and the credits their purchases hold.

A credit is taken with one conditional UPDATE (``remaining_sessions > 0``), so
concurrent bookings on one purchase can never overspend it; the check
constraint ``remaining_sessions >= 0`` stands behind that.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Booking, Bundle, BundlePurchase, Listing, MentorProfile
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from workflows.pagination import Page, paginate

log = structlog.get_logger(__name__)


def create_bundle(db: Session, actor: Actor, listing_id: uuid.UUID, *, sessions_count: int, price_cents: int,
                  valid_days: int) -> Bundle:
    listing = db.get(Listing, listing_id)
    if listing is None:
        raise NotFound("listing not found")
    owner = db.scalar(select(MentorProfile.user_id).where(MentorProfile.id == listing.mentor_profile_id))
    if owner != actor.user_id:
        raise Forbidden("only the listing's mentor can offer bundles of it")
    if listing.kind != "individual":
        raise BusinessRuleViolation("bundles are for individual listings")
    bundle = Bundle(id=uuid.uuid4(), listing_id=listing.id, sessions_count=sessions_count,
                    price_cents=price_cents, currency=listing.currency, valid_days=valid_days)
    db.add(bundle)
    db.flush()
    log.info("bundle.created", bundle_id=str(bundle.id), listing_id=str(listing.id), actor=str(actor))
    return bundle


def list_bundles(db: Session, listing_id: uuid.UUID) -> list[Bundle]:
    if db.get(Listing, listing_id) is None:
        raise NotFound("listing not found")
    return list(db.scalars(select(Bundle).where(Bundle.listing_id == listing_id, Bundle.active.is_(True))
                           .order_by(Bundle.created_at, Bundle.id)))


def purchase_bundle(db: Session, actor: Actor, bundle_id: uuid.UUID, *, now: datetime | None = None
                    ) -> BundlePurchase:
    """Record a purchase (no payment processing): the mentee holds ``sessions_count`` credits."""
    bundle = db.get(Bundle, bundle_id)
    if bundle is None or not bundle.active:
        raise NotFound("bundle not found")
    listing = db.get(Listing, bundle.listing_id)
    assert listing is not None
    owner = db.scalar(select(MentorProfile.user_id).where(MentorProfile.id == listing.mentor_profile_id))
    if owner == actor.user_id:
        raise BusinessRuleViolation("you cannot buy your own bundle")
    now = now or utcnow()
    purchase = BundlePurchase(id=uuid.uuid4(), bundle_id=bundle.id, mentee_user_id=actor.user_id,
                              remaining_sessions=bundle.sessions_count, price_cents=bundle.price_cents,
                              currency=bundle.currency, valid_until=now + timedelta(days=bundle.valid_days))
    db.add(purchase)
    db.flush()
    log.info("bundle.purchased", purchase_id=str(purchase.id), bundle_id=str(bundle.id), actor=str(actor))
    return purchase


def list_purchases(db: Session, actor: Actor, *, limit: int, cursor: str | None) -> Page[BundlePurchase]:
    query = select(BundlePurchase).where(BundlePurchase.mentee_user_id == actor.user_id)
    return paginate(db, query, BundlePurchase.created_at, BundlePurchase.id, limit=limit, cursor=cursor,
                    descending=True)


def reserve_credit(db: Session, actor: Actor, purchase_id: uuid.UUID, listing_id: uuid.UUID,
                   now: datetime) -> None:
    """Take one credit for a booking request, or refuse: unknown → 404, expired or empty → 409."""
    taken = db.execute(
        update(BundlePurchase)
        .where(BundlePurchase.id == purchase_id, BundlePurchase.mentee_user_id == actor.user_id,
               BundlePurchase.remaining_sessions > 0, BundlePurchase.valid_until > now)
        .values(remaining_sessions=BundlePurchase.remaining_sessions - 1)
        .returning(BundlePurchase.bundle_id)
    ).scalar_one_or_none()
    if taken is None:
        purchase = db.get(BundlePurchase, purchase_id)
        if purchase is None or purchase.mentee_user_id != actor.user_id:
            raise NotFound("bundle purchase not found")
        if purchase.valid_until <= now:
            raise Conflict("this bundle purchase has expired")
        raise Conflict("no credits left on this bundle purchase")
    bundle_listing = db.scalar(select(Bundle.listing_id).where(Bundle.id == taken))
    if bundle_listing != listing_id:
        raise BusinessRuleViolation("this bundle is for another listing")


def release_credit(db: Session, booking: Booking, *, refund: bool) -> bool:
    """End the booking's hold on its credit: give it back, or forfeit it. ``True`` when refunded."""
    if booking.credit_status != "held" or booking.bundle_purchase_id is None:
        return False
    if refund:
        db.execute(
            update(BundlePurchase)
            .where(BundlePurchase.id == booking.bundle_purchase_id)
            .values(remaining_sessions=BundlePurchase.remaining_sessions + 1)
        )
        booking.credit_status = "returned"
    else:
        booking.credit_status = "forfeited"
    log.info("bundle.credit_released", credit_status=booking.credit_status, booking_id=str(booking.id),
             purchase_id=str(booking.bundle_purchase_id))
    return refund
