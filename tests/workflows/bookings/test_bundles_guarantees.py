"""Concurrent purchases of one bundle by one mentee make one purchase (they take turns on the bundle's row)."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Bundle, BundlePurchase
from tests.concurrency import concurrently
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.servers import live_app


def test_concurrent_purchases_of_one_bundle_by_one_mentee_make_one(
        seed: Session, committed: sessionmaker[Session]) -> None:
    listing = ListingFactory()
    bundle = Bundle(id=uuid.uuid4(), listing_id=listing.id, sessions_count=3, price_cents=100, currency="USD",
                    valid_days=30)
    seed.add(bundle)
    mentee = as_caller(UserFactory())
    seed.commit()
    app = live_app(committed)
    headers = mentee.headers

    def buy() -> int:
        return app.test_client().post(f"/api/v1/bundles/{bundle.id}/purchase", headers=headers).status_code

    statuses = concurrently([buy] * 8)
    assert Counter(statuses) == {201: 1, 409: 7}, statuses
    with committed() as db:
        assert db.scalar(select(func.count()).where(BundlePurchase.bundle_id == bundle.id)) == 1
