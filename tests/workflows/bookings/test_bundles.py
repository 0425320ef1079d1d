"""Bundles and their credits (``workflows/bookings/bundles.py``), called directly: who offers, withdraws and buys them,
how long a purchase pays for sessions, and when a credit can be taken."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from models import Bundle, BundlePurchase, Listing, User
from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.mentors import ListingFactory
from workflows.bookings import bundles
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound

NOW = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)


def offer(db: Session, listing: Listing, *, sessions: int = 3, valid_days: int = 30) -> Bundle:
    return bundles.create_bundle(db, actor_of(listing.mentor_profile.user), listing.id, sessions_count=sessions,
                                 price_cents=12_000, valid_days=valid_days)


def buy(db: Session, bundle: Bundle, mentee: User, **options: object) -> BundlePurchase:
    return bundles.purchase_bundle(db, actor_of(mentee), bundle.id, **{"now": NOW, **options})


def take(db: Session, purchase: BundlePurchase, mentee: User, start: datetime, listing_id: uuid.UUID | None = None
         ) -> None:
    listing = listing_id or db.get_one(Bundle, purchase.bundle_id).listing_id
    bundles.reserve_credit(db, actor_of(mentee), purchase.id, listing, now=NOW, start_time=start)


def test_only_the_listings_mentor_offers_a_bundle_of_it_in_the_listings_currency(db: Session) -> None:
    listing = ListingFactory(currency="EUR")
    bundle = offer(db, listing, sessions=5, valid_days=60)
    assert (bundle.listing_id, bundle.sessions_count, bundle.price_cents, bundle.currency, bundle.valid_days,
            bundle.active) == (listing.id, 5, 12_000, "EUR", 60, True)
    stranger = refused(db, Forbidden, lambda: bundles.create_bundle(
        db, actor_of(UserFactory()), listing.id, sessions_count=5, price_cents=1, valid_days=1))
    assert stranger.message == "only the listing's mentor can offer bundles of it"
    unknown = refused(db, NotFound, lambda: bundles.create_bundle(
        db, actor_of(UserFactory()), uuid.uuid4(), sessions_count=5, price_cents=1, valid_days=1))
    assert unknown.message == "listing not found"


def test_only_the_mentor_withdraws_an_offer_and_only_once(db: Session) -> None:
    listing = ListingFactory()
    bundle = offer(db, listing)
    stranger = refused(db, Forbidden, lambda: bundles.withdraw_bundle(db, actor_of(UserFactory()), bundle.id))
    assert stranger.message == "only the listing's mentor can withdraw its bundles"
    mentor = actor_of(listing.mentor_profile.user)
    bundles.withdraw_bundle(db, mentor, bundle.id, now=NOW)
    assert (bundle.active, bundle.withdrawn_at) == (False, NOW)
    again = refused(db, BusinessRuleViolation, lambda: bundles.withdraw_bundle(db, mentor, bundle.id))
    assert again.message == "this bundle offer is already withdrawn"


def test_a_purchase_holds_every_credit_for_the_bundles_days_from_now_or_from_a_later_start(db: Session) -> None:
    bundle = offer(db, ListingFactory(), sessions=4, valid_days=30)
    now_on = buy(db, bundle, UserFactory(), valid_from=NOW - timedelta(days=3))  # never before now
    assert (now_on.remaining_sessions, now_on.price_cents, now_on.valid_from, now_on.valid_until) == (
        4, 12_000, NOW, NOW + timedelta(days=30))
    later = buy(db, bundle, UserFactory(), valid_from=NOW + timedelta(days=365))
    assert (later.valid_from, later.valid_until) == (NOW + timedelta(days=365), NOW + timedelta(days=395))


def test_a_purchase_starts_within_a_year(db: Session) -> None:
    bundle = offer(db, ListingFactory())
    error = refused(db, BusinessRuleViolation, lambda: buy(
        db, bundle, UserFactory(), valid_from=NOW + timedelta(days=365, microseconds=1)))
    assert error.message == "valid_from may be at most a year ahead"


def test_a_withdrawn_offer_and_ones_own_cannot_be_bought(db: Session) -> None:
    listing = ListingFactory()
    own = refused(db, BusinessRuleViolation, lambda: buy(db, offer(db, listing), listing.mentor_profile.user))
    assert own.message == "you cannot buy your own bundle"
    withdrawn = offer(db, listing)
    bundles.withdraw_bundle(db, actor_of(listing.mentor_profile.user), withdrawn.id)
    error = refused(db, Conflict, lambda: buy(db, withdrawn, UserFactory()))
    assert error.message == "this bundle offer has been withdrawn"


def test_a_mentee_buys_a_bundle_again_only_once_the_first_is_spent_or_expired(db: Session) -> None:
    bundle = offer(db, ListingFactory(), sessions=1, valid_days=10)
    mentee = UserFactory()
    first = buy(db, bundle, mentee)
    error = refused(db, Conflict, lambda: buy(db, bundle, mentee))
    until = first.valid_until.isoformat()
    assert error.message == f"you already hold this bundle with credits left, valid until {until}"
    take(db, first, mentee, NOW + timedelta(days=1))
    second = buy(db, bundle, mentee)  # the first is spent
    assert buy(db, bundle, mentee, now=second.valid_until).remaining_sessions == 1  # the second has expired


def test_a_credit_pays_for_a_session_starting_from_the_first_day_until_before_the_last(db: Session) -> None:
    listing, mentee = ListingFactory(), UserFactory()
    purchase = buy(db, offer(db, listing, sessions=3), mentee, valid_from=NOW + timedelta(days=2))
    take(db, purchase, mentee, purchase.valid_from)
    for start in (purchase.valid_from - timedelta(microseconds=1), purchase.valid_until):
        error = refused(db, Conflict, lambda start=start: take(db, purchase, mentee, start))
        assert error.message == ("this bundle purchase pays for sessions starting from "
                                 f"{purchase.valid_from.isoformat()} until {purchase.valid_until.isoformat()}")
    db.refresh(purchase)
    assert purchase.remaining_sessions == 2


def test_an_empty_expired_foreign_or_unknown_purchase_gives_no_credit(db: Session) -> None:
    listing, mentee = ListingFactory(), UserFactory()
    purchase = buy(db, offer(db, listing, sessions=1), mentee)
    start = NOW + timedelta(days=1)
    take(db, purchase, mentee, start)
    empty = refused(db, Conflict, lambda: take(db, purchase, mentee, start))
    assert empty.message == "no credits left on this bundle purchase"
    for someone, purchase_id in ((UserFactory(), purchase.id), (mentee, uuid.uuid4())):
        unknown = refused(db, NotFound, lambda who=someone, pid=purchase_id: bundles.reserve_credit(
            db, actor_of(who), pid, listing.id, now=NOW, start_time=start))
        assert unknown.message == "bundle purchase not found"
    other = buy(db, offer(db, listing, sessions=1), mentee)
    expired = refused(db, Conflict, lambda: bundles.reserve_credit(
        db, actor_of(mentee), other.id, listing.id, now=other.valid_until, start_time=other.valid_until))
    assert expired.message == "this bundle purchase has expired"


def test_a_credit_pays_only_for_its_bundles_listing(db: Session) -> None:
    listing, mentee = ListingFactory(), UserFactory()
    purchase = buy(db, offer(db, listing), mentee)
    error = refused(db, BusinessRuleViolation, lambda: take(db, purchase, mentee, NOW + timedelta(days=1),
                                                            ListingFactory().id))
    assert error.message == "this bundle is for another listing"
    db.refresh(purchase)
    assert purchase.remaining_sessions == 3


@pytest.mark.parametrize("include_withdrawn", [False, True])
def test_a_listings_offers_are_listed_in_order_withdrawn_ones_only_when_asked(
        db: Session, include_withdrawn: bool) -> None:
    listing = ListingFactory()
    kept, withdrawn = offer(db, listing), offer(db, listing)
    bundles.withdraw_bundle(db, actor_of(listing.mentor_profile.user), withdrawn.id)
    page = bundles.list_bundles(db, actor_of(UserFactory()), listing.id, include_withdrawn=include_withdrawn, limit=10,
                                cursor=None)
    assert {b.id for b in page.items} == ({kept.id, withdrawn.id} if include_withdrawn else {kept.id})
