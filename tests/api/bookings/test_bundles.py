from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from models import BundlePurchase
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from workflows.bookings import lifecycle as booking_flow
from workflows.sessions import lifecycle as session_flow


def future(days: int, hour: int = 10) -> datetime:
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def bundle_setup(client: FlaskClient, db: Session) -> tuple[Caller, Caller, uuid.UUID, dict]:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    bundle = client.post(f"/api/v1/listings/{listing.id}/bundles", headers=mentor.headers,
                         json={"sessions_count": 2, "price_cents": 9000, "valid_days": 30})
    assert bundle.status_code == 201
    purchase = client.post(f"/api/v1/bundles/{bundle.get_json()['id']}/purchase", headers=mentee.headers)
    assert purchase.status_code == 201
    assert purchase.get_json()["remaining_sessions"] == 2
    return mentor, mentee, listing.id, purchase.get_json()


def remaining(client: FlaskClient, caller: Caller) -> int:
    return client.get("/api/v1/bundle-purchases", headers=caller.headers).get_json()["items"][0]["remaining_sessions"]


def book(client: FlaskClient, mentee: Caller, listing_id: uuid.UUID, purchase_id: str, start: datetime):
    return client.post("/api/v1/bookings", headers=mentee.headers, json={
        "listing_id": str(listing_id), "start_time": start.isoformat(), "bundle_purchase_id": purchase_id})


def test_credit_reserved_then_returned_by_decline_and_draft_cancel(client: FlaskClient, bundle_setup: tuple) -> None:
    mentor, mentee, listing_id, purchase = bundle_setup
    first = book(client, mentee, listing_id, purchase["id"], future(3))
    assert first.status_code == 201 and first.get_json()["bundle_purchase_id"] == purchase["id"]
    assert remaining(client, mentee) == 1
    client.post(f"/api/v1/bookings/{first.get_json()['id']}/decline", headers=mentor.headers)
    assert remaining(client, mentee) == 2
    second = book(client, mentee, listing_id, purchase["id"], future(4)).get_json()
    assert remaining(client, mentee) == 1
    client.post(f"/api/v1/bookings/{second['id']}/cancel", headers=mentee.headers)
    assert remaining(client, mentee) == 2


def test_empty_expired_or_foreign_purchases_are_refused(client: FlaskClient, db: Session, bundle_setup: tuple) -> None:
    _mentor, mentee, listing_id, purchase = bundle_setup
    assert book(client, mentee, listing_id, purchase["id"], future(3)).status_code == 201
    assert book(client, mentee, listing_id, purchase["id"], future(4)).status_code == 201
    empty = book(client, mentee, listing_id, purchase["id"], future(5))
    assert empty.status_code == 409 and "no credits" in empty.get_json()["message"]
    stranger = as_caller(UserFactory())
    assert book(client, stranger, listing_id, purchase["id"], future(5)).status_code == 404
    other_listing = ListingFactory()
    db.execute(update(BundlePurchase).where(BundlePurchase.id == uuid.UUID(purchase["id"]))
               .values(remaining_sessions=1))
    assert book(client, mentee, other_listing.id, purchase["id"], future(6)).status_code == 400
    db.execute(update(BundlePurchase).where(BundlePurchase.id == uuid.UUID(purchase["id"]))
               .values(valid_from=datetime.now(UTC) - timedelta(days=31),
                       valid_until=datetime.now(UTC) - timedelta(days=1)))
    expired = book(client, mentee, listing_id, purchase["id"], future(7))
    assert expired.status_code == 409 and "expired" in expired.get_json()["message"]


@pytest.mark.parametrize(("who", "hours_before", "refunded"), [("mentor", 3, True), ("mentee", 3, False),
                                                                ("mentee", 48, True)])
def test_session_cancellation_returns_or_forfeits_the_credit(
    client: FlaskClient, db: Session, bundle_setup: tuple, who: str, hours_before: int, refunded: bool
) -> None:
    mentor, mentee, listing_id, purchase = bundle_setup
    start = (datetime.now(UTC) + timedelta(hours=hours_before)).replace(minute=0, second=0, microsecond=0)
    booking = book(client, mentee, listing_id, purchase["id"], start).get_json()
    client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=mentor.headers)
    session = session_flow.create_session_from_booking(db, uuid.UUID(booking["id"]))
    assert session is not None
    caller = mentor if who == "mentor" else mentee
    cancelled = client.post(f"/api/v1/sessions/{session.id}/cancel", json={"reason": "x"}, headers=caller.headers)
    cancellation = cancelled.get_json()["cancellation"]
    assert (cancellation["credit_refunded"], cancellation["fee_cents"]) == (refunded, 0)
    assert remaining(client, mentee) == (2 if refunded else 1)


def test_expired_draft_returns_its_credit(client: FlaskClient, db: Session, bundle_setup: tuple) -> None:
    _mentor, mentee, listing_id, purchase = bundle_setup
    book(client, mentee, listing_id, purchase["id"], future(1))
    assert remaining(client, mentee) == 1
    assert booking_flow.expire_stale_drafts(db, now=future(2)) == 1
    assert remaining(client, mentee) == 2


def test_only_the_mentor_offers_bundles(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    response = client.post(f"/api/v1/listings/{listing.id}/bundles", headers=as_caller(UserFactory()).headers,
                           json={"sessions_count": 2, "price_cents": 1, "valid_days": 30})
    assert response.status_code == 403
