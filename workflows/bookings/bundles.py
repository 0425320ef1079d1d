"""Bundles of sessions and the credits their purchases hold.

A credit is taken with one conditional UPDATE (``remaining_sessions > 0``), so
concurrent bookings on one purchase can never overspend it; the check
constraint ``remaining_sessions >= 0`` stands behind that. A purchase pays for
sessions starting in [valid_from, valid_until). Purchases and withdrawal of one
bundle take turns on its row, so a withdrawn offer is never bought and a mentee
never ends with two live purchases of it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Booking, Bundle, BundlePurchase, CreditStatus, Listing, MentorProfile
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, NotFound
from workflows.lookups import own_listing, visible_listing
from workflows.pagination import Page, paginate

log = structlog.get_logger(__name__)

MAX_VALIDITY_DELAY = timedelta(days=365)


def create_bundle(db: Session, actor: Actor, listing_id: uuid.UUID, *, sessions_count: int, price_cents: int,
                  valid_days: int) -> Bundle:
    listing = own_listing(db, actor, listing_id, to="offer bundles of it")
    bundle = Bundle(id=uuid.uuid4(), listing_id=listing.id, sessions_count=sessions_count,
                    price_cents=price_cents, currency=listing.currency, valid_days=valid_days)
    db.add(bundle)
    db.flush()
    log.info("bundle.created", bundle_id=str(bundle.id), listing_id=str(listing.id), actor=str(actor))
    return bundle


def list_bundles(db: Session, actor: Actor, listing_id: uuid.UUID, *, include_withdrawn: bool, limit: int,
                 cursor: str | None) -> Page[Bundle]:
    """A listing's bundles in the order they were offered; withdrawn ones only when asked for."""
    visible_listing(db, actor, listing_id)
    query = select(Bundle).where(Bundle.listing_id == listing_id)
    if not include_withdrawn:
        query = query.where(Bundle.active.is_(True))
    return paginate(db, query, Bundle.created_at, Bundle.id, limit=limit, cursor=cursor)


def get_bundle(db: Session, bundle_id: uuid.UUID) -> Bundle:
    """Any bundle, withdrawn ones too: their buyers still hold credits of them."""
    bundle = db.get(Bundle, bundle_id)
    if bundle is None:
        raise NotFound("bundle not found")
    return bundle


def _listing_owner(db: Session, listing_id: uuid.UUID) -> uuid.UUID | None:
    return db.scalar(select(MentorProfile.user_id).join(Listing, Listing.mentor_profile_id == MentorProfile.id)
                     .where(Listing.id == listing_id))


def withdraw_bundle(db: Session, actor: Actor, bundle_id: uuid.UUID, *, now: datetime | None = None) -> Bundle:
    """Stop selling a bundle (the listing's mentor). Purchases made keep their credits."""
    bundle = db.get(Bundle, bundle_id, with_for_update={"key_share": True})
    if bundle is None:
        raise NotFound("bundle not found")
    own_listing(db, actor, bundle.listing_id, to="withdraw its bundles")
    if not bundle.active:
        raise BusinessRuleViolation("this bundle offer is already withdrawn")
    bundle.active = False
    bundle.withdrawn_at = now or utcnow()
    db.flush()
    log.info("bundle.withdrawn", bundle_id=str(bundle.id), actor=str(actor))
    return bundle


def purchase_bundle(db: Session, actor: Actor, bundle_id: uuid.UUID, *, valid_from: datetime | None = None,
                    now: datetime | None = None) -> BundlePurchase:
    """Record a purchase (no payment processing): the mentee holds ``sessions_count`` credits for
    sessions starting from ``valid_from`` (now unless later) for ``valid_days``.

    409 when the offer is withdrawn, or the mentee still holds a purchase of it with credits left.
    """
    bundle = db.get(Bundle, bundle_id, with_for_update={"key_share": True})
    if bundle is None:
        raise NotFound("bundle not found")
    if not bundle.active:
        raise Conflict("this bundle offer has been withdrawn", reason="bundle_withdrawn")
    if _listing_owner(db, bundle.listing_id) == actor.user_id:
        raise BusinessRuleViolation("you cannot buy your own bundle")
    now = now or utcnow()
    starts = max(valid_from or now, now)
    if starts > now + MAX_VALIDITY_DELAY:
        raise BusinessRuleViolation("valid_from may be at most a year ahead")
    held = db.scalar(select(BundlePurchase.valid_until).where(
        BundlePurchase.bundle_id == bundle.id, BundlePurchase.mentee_user_id == actor.user_id,
        BundlePurchase.remaining_sessions > 0, BundlePurchase.valid_until > now).limit(1))
    if held is not None:
        raise Conflict("you already hold this bundle with credits left, valid until {held}",
                       words={"held": held.isoformat()},
                       reason="bundle_held_already")
    purchase = BundlePurchase(id=uuid.uuid4(), bundle_id=bundle.id, mentee_user_id=actor.user_id,
                              remaining_sessions=bundle.sessions_count, price_cents=bundle.price_cents,
                              currency=bundle.currency, valid_from=starts,
                              valid_until=starts + timedelta(days=bundle.valid_days))
    db.add(purchase)
    db.flush()
    log.info("bundle.purchased", purchase_id=str(purchase.id), bundle_id=str(bundle.id), actor=str(actor))
    return purchase


def list_purchases(db: Session, actor: Actor, *, limit: int, cursor: str | None) -> Page[BundlePurchase]:
    query = select(BundlePurchase).where(BundlePurchase.mentee_user_id == actor.user_id)
    return paginate(db, query, BundlePurchase.created_at, BundlePurchase.id, limit=limit, cursor=cursor,
                    descending=True)


def reserve_credit(db: Session, actor: Actor, purchase_id: uuid.UUID, listing_id: uuid.UUID, *,
                   now: datetime, start_time: datetime) -> None:
    """Take one credit for a session starting at ``start_time``, or refuse: unknown → 404; expired,
    not valid at that time, or empty → 409; another listing's → 400."""
    taken = db.execute(
        update(BundlePurchase)
        .where(BundlePurchase.id == purchase_id, BundlePurchase.mentee_user_id == actor.user_id,
               BundlePurchase.remaining_sessions > 0, BundlePurchase.valid_until > now,
               BundlePurchase.valid_from <= start_time, BundlePurchase.valid_until > start_time)
        .values(remaining_sessions=BundlePurchase.remaining_sessions - 1)
        .returning(BundlePurchase.bundle_id)
    ).scalar_one_or_none()
    if taken is None:
        purchase = db.get(BundlePurchase, purchase_id)
        if purchase is None or purchase.mentee_user_id != actor.user_id:
            raise NotFound("bundle purchase not found")
        if purchase.valid_until <= now:
            raise Conflict("this bundle purchase has expired", reason="bundle_expired")
        if purchase.remaining_sessions <= 0:
            raise Conflict("no credits left on this bundle purchase", reason="bundle_used_up")
        raise Conflict("this bundle purchase pays for sessions starting from {valid_from} until {valid_until}",
                       words={"valid_from": purchase.valid_from.isoformat(),
                              "valid_until": purchase.valid_until.isoformat()},
                       reason="bundle_not_valid_then")
    bundle_listing = db.scalar(select(Bundle.listing_id).where(Bundle.id == taken))
    if bundle_listing != listing_id:
        raise BusinessRuleViolation("this bundle is for another listing")


def release_credit(db: Session, booking: Booking, *, refund: bool) -> bool:
    """End the booking's hold on its credit: give it back, or forfeit it. ``True`` when refunded."""
    if booking.credit_status != CreditStatus.HELD or booking.bundle_purchase_id is None:
        return False
    if refund:
        db.execute(
            update(BundlePurchase)
            .where(BundlePurchase.id == booking.bundle_purchase_id)
            .values(remaining_sessions=BundlePurchase.remaining_sessions + 1)
        )
        booking.credit_status = CreditStatus.RETURNED
    else:
        booking.credit_status = CreditStatus.FORFEITED
    log.info("bundle.credit_released", credit_status=booking.credit_status, booking_id=str(booking.id),
             purchase_id=str(booking.bundle_purchase_id))
    return refund


def settle_credit(db: Session, booking: Booking, want: CreditStatus) -> bool:
    """Set a booking's spent credit to ``want``: ``held`` (used by the meeting), ``forfeited`` (used by an
    absence) or ``returned`` (given back), from whichever of those it is in (an attendance found, then corrected).

    Giving one back adds it to the purchase; taking a returned one again needs it unspent there (one conditional
    UPDATE, as a booking takes one): ``False`` when the mentee has used it since, and the credit stays returned.
    """
    spent = {CreditStatus.HELD, CreditStatus.FORFEITED}
    current = booking.credit_status
    if booking.bundle_purchase_id is None or current == want or current not in spent | {CreditStatus.RETURNED}:
        return current == want
    if current in spent and want in spent:
        booking.credit_status = want
        return True
    step = 1 if want == CreditStatus.RETURNED else -1
    taken = db.execute(
        update(BundlePurchase)
        .where(BundlePurchase.id == booking.bundle_purchase_id, BundlePurchase.remaining_sessions + step >= 0)
        .values(remaining_sessions=BundlePurchase.remaining_sessions + step).returning(BundlePurchase.id)
    ).scalar_one_or_none()
    if taken is None:
        return False
    booking.credit_status = want
    log.info("bundle.credit_settled", credit_status=want, booking_id=str(booking.id),
             purchase_id=str(booking.bundle_purchase_id))
    return True
