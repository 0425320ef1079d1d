"""Bundle offers: withdrawal, one bundle, paginated lists, validity from a start, no second live
purchase; seats: their session, bundle credits, and the late-leave fee as a 1:1 cancellation has."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import Bundle, BundlePurchase, ListingKind
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from workflows.sessions import lifecycle as session_flow


def at(hours: float) -> datetime:
    """On the hour (a listing's slot), about ``hours`` from now."""
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def offer(client: FlaskClient, mentor: Caller, listing_id: uuid.UUID, count: int = 2) -> dict:
    created = client.post(f"/api/v1/listings/{listing_id}/bundles", headers=mentor.headers,
                          json={"sessions_count": count, "price_cents": 9000, "valid_days": 30})
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def buy(client: FlaskClient, mentee: Caller, bundle_id: str, **body: str):
    return client.post(f"/api/v1/bundles/{bundle_id}/purchase", headers=mentee.headers, json=body or None)


def purchases(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(BundlePurchase)) or 0


def test_a_withdrawn_bundle_cannot_be_bought_and_purchases_keep_their_credits(client: FlaskClient, db: Session
                                                                             ) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    bundle = offer(client, mentor, listing.id)
    purchase = buy(client, mentee, bundle["id"]).get_json()
    url = f"/api/v1/bundles/{bundle['id']}"
    assert client.post(f"{url}/withdraw", headers=mentee.headers).status_code == 403
    assert client.post(f"/api/v1/bundles/{uuid.uuid4()}/withdraw", headers=mentor.headers).status_code == 404
    withdrawn = client.post(f"{url}/withdraw", headers=mentor.headers)
    assert withdrawn.status_code == 200
    assert (withdrawn.get_json()["active"], withdrawn.get_json()["withdrawn_at"] is not None) == (False, True)
    again = client.post(f"{url}/withdraw", headers=mentor.headers)
    assert again.status_code == 400 and "already withdrawn" in again.get_json()["message"]
    before = purchases(db)
    refused = buy(client, as_caller(UserFactory()), bundle["id"])
    assert refused.status_code == 409 and "withdrawn" in refused.get_json()["message"]
    assert purchases(db) == before
    shown = client.get(url, headers=mentee.headers)
    assert shown.status_code == 200 and shown.get_json()["active"] is False
    assert client.get(f"/api/v1/bundles/{uuid.uuid4()}", headers=mentee.headers).status_code == 404
    booked = client.post("/api/v1/bookings", headers=mentee.headers, json={
        "listing_id": str(listing.id), "start_time": at(72).isoformat(), "bundle_purchase_id": purchase["id"]})
    assert booked.status_code == 201


def test_bundle_lists_are_paginated_and_hide_withdrawn_offers(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor = as_caller(listing.mentor_profile.user)
    ids = [offer(client, mentor, listing.id, count)["id"] for count in (1, 2, 3)]
    # One test transaction gives every row the same now(); spread creation times as real requests would.
    for minutes, bundle_id in enumerate(ids):
        db.execute(update(Bundle).where(Bundle.id == uuid.UUID(bundle_id))
                   .values(created_at=func.now() + timedelta(minutes=minutes)))
    client.post(f"/api/v1/bundles/{ids[1]}/withdraw", headers=mentor.headers)
    url = f"/api/v1/listings/{listing.id}/bundles"
    everyone = as_caller(UserFactory()).headers
    first = client.get(f"{url}?limit=1", headers=everyone).get_json()
    rest = client.get(f"{url}?limit=1&cursor={first['next_cursor']}", headers=everyone).get_json()
    assert [b["id"] for b in first["items"] + rest["items"]] == [ids[0], ids[2]]
    assert rest["next_cursor"] is None
    full = client.get(f"{url}?include_withdrawn=true&limit=100", headers=everyone).get_json()
    assert [b["id"] for b in full["items"]] == ids
    assert client.get(f"{url}?limit=0", headers=everyone).status_code == 422
    assert client.get(f"{url}?cursor=nonsense", headers=everyone).status_code == 422


def test_a_second_purchase_while_one_is_live_is_409(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    bundle = offer(client, mentor, listing.id, count=1)
    first = buy(client, mentee, bundle["id"]).get_json()
    before = purchases(db)
    twice = buy(client, mentee, bundle["id"])
    assert twice.status_code == 409 and "already hold this bundle" in twice.get_json()["message"]
    assert purchases(db) == before
    assert buy(client, as_caller(UserFactory()), bundle["id"]).status_code == 201  # another mentee may
    # Once its credits are spent (or it expires), the mentee may buy it again.
    db.execute(update(BundlePurchase).where(BundlePurchase.id == uuid.UUID(first["id"])).values(remaining_sessions=0))
    assert buy(client, mentee, bundle["id"]).status_code == 201


def test_credits_pay_only_for_sessions_within_the_validity(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    bundle = offer(client, mentor, listing.id)
    starts = at(24 * 10).replace(minute=0)
    purchase = buy(client, mentee, bundle["id"], valid_from=starts.isoformat())
    assert purchase.status_code == 201
    body = purchase.get_json()
    assert datetime.fromisoformat(body["valid_from"]) == starts
    assert datetime.fromisoformat(body["valid_until"]) == starts + timedelta(days=30)

    def book(start: datetime):
        return client.post("/api/v1/bookings", headers=mentee.headers, json={
            "listing_id": str(listing.id), "start_time": start.isoformat(), "bundle_purchase_id": body["id"]})

    early = book(starts - timedelta(days=1))
    assert early.status_code == 409 and "pays for sessions starting from" in early.get_json()["message"]
    assert book(starts + timedelta(days=30)).status_code == 409
    assert book(starts + timedelta(days=1)).status_code == 201
    other = as_caller(UserFactory())
    far = buy(client, other, bundle["id"], valid_from=at(24 * 400).isoformat())
    assert far.status_code == 400 and "a year" in far.get_json()["message"]
    assert buy(client, other, bundle["id"], valid_from="tomorrow").status_code == 422


def join(client: FlaskClient, mentee: Caller, session_id: str, purchase_id: str | None = None):
    return client.post(f"/api/v1/sessions/{session_id}/join", headers=mentee.headers,
                       json={"bundle_purchase_id": purchase_id} if purchase_id else None)


@pytest.fixture
def group(client: FlaskClient, db: Session) -> tuple[Caller, uuid.UUID]:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=5, price_cents=6000)
    return as_caller(listing.mentor_profile.user), listing.id


def schedule(client: FlaskClient, mentor: Caller, listing_id: uuid.UUID, hours: float) -> dict:
    created = client.post(f"/api/v1/listings/{listing_id}/group-sessions", headers=mentor.headers,
                          json={"start_time": at(hours).isoformat()})
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def test_a_seat_shows_its_session(client: FlaskClient, group: tuple) -> None:
    mentor, listing_id = group
    session = schedule(client, mentor, listing_id, 48)
    mentee = as_caller(UserFactory())
    seat = join(client, mentee, session["id"]).get_json()
    assert (seat["session_id"], seat["group_session_id"]) == (session["id"], session["id"])
    shown = client.get(f"/api/v1/bookings/{seat['id']}", headers=mentee.headers).get_json()
    assert (shown["session_id"], shown["group_session_id"]) == (session["id"], session["id"])
    listed = client.get("/api/v1/bookings?role=mentee", headers=mentee.headers).get_json()["items"]
    assert [(b["session_id"], b["group_session_id"]) for b in listed] == [(session["id"], session["id"])]


@pytest.mark.parametrize(("hours", "late", "fee"), [(3, True, 3000), (72, False, 0)])
def test_leaving_a_group_session_records_the_fee_as_a_cancellation_does(
        client: FlaskClient, group: tuple, hours: float, late: bool, fee: int) -> None:
    mentor, listing_id = group
    session = schedule(client, mentor, listing_id, hours)
    mentee = as_caller(UserFactory())
    seat = join(client, mentee, session["id"]).get_json()
    left = client.post(f"/api/v1/sessions/{session['id']}/cancel", json={"reason": "ill"}, headers=mentee.headers)
    assert left.status_code == 200 and left.get_json()["seats_taken"] == 0
    shown = client.get(f"/api/v1/bookings/{seat['id']}", headers=mentee.headers).get_json()
    assert (shown["status"], shown["cancel_late"], shown["cancel_fee_cents"]) == ("cancelled", late, fee)
    assert shown["cancel_reason"] == "ill"


@pytest.mark.parametrize(("hours", "remaining_after"), [(3, 1), (72, 2)])
def test_a_bundle_seat_left_late_forfeits_its_credit(client: FlaskClient, group: tuple, hours: float,
                                                     remaining_after: int) -> None:
    mentor, listing_id = group
    bundle = offer(client, mentor, listing_id)
    mentee = as_caller(UserFactory())
    purchase = buy(client, mentee, bundle["id"]).get_json()
    session = schedule(client, mentor, listing_id, hours)
    seat = join(client, mentee, session["id"], purchase["id"])
    assert seat.status_code == 201 and seat.get_json()["bundle_purchase_id"] == purchase["id"]
    left = client.get("/api/v1/bundle-purchases", headers=mentee.headers).get_json()["items"][0]
    assert left["remaining_sessions"] == 1
    client.post(f"/api/v1/sessions/{session['id']}/cancel", json={"reason": "x"}, headers=mentee.headers)
    shown = client.get(f"/api/v1/bookings/{seat.get_json()['id']}", headers=mentee.headers).get_json()
    assert (shown["cancel_late"], shown["cancel_fee_cents"]) == (hours < 24, 0)
    left = client.get("/api/v1/bundle-purchases", headers=mentee.headers).get_json()["items"][0]
    assert left["remaining_sessions"] == remaining_after


def test_a_seat_with_a_foreign_or_empty_purchase_is_refused_and_takes_nothing(client: FlaskClient, db: Session,
                                                                             group: tuple) -> None:
    mentor, listing_id = group
    session = schedule(client, mentor, listing_id, 48)
    mentee = as_caller(UserFactory())
    assert join(client, mentee, session["id"], str(uuid.uuid4())).status_code == 404
    other = ListingFactory()
    purchase = buy(client, mentee, offer(client, as_caller(other.mentor_profile.user), other.id)["id"]).get_json()
    wrong = join(client, mentee, session["id"], purchase["id"])
    assert wrong.status_code == 400 and "another listing" in wrong.get_json()["message"]
    assert client.post(f"/api/v1/sessions/{session['id']}/join", headers=mentee.headers,
                       json={"bundle_purchase_id": "x"}).status_code == 422
    assert client.get(f"/api/v1/sessions/{session['id']}", headers=mentor.headers).get_json()["seats_taken"] == 0


def test_an_individual_cancellation_records_its_fee_on_the_booking(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(price_cents=8000)
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    booking = client.post("/api/v1/bookings", headers=mentee.headers,
                          json={"listing_id": str(listing.id), "start_time": at(5).isoformat()}).get_json()
    client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=mentor.headers)
    session = session_flow.create_session_from_booking(db, uuid.UUID(booking["id"]))
    assert session is not None
    cancelled = client.post(f"/api/v1/sessions/{session.id}/cancel", json={"reason": "x"}, headers=mentee.headers)
    assert cancelled.get_json()["cancellation"]["fee_cents"] == 4000
    shown = client.get(f"/api/v1/bookings/{booking['id']}", headers=mentee.headers).get_json()
    assert (shown["cancel_late"], shown["cancel_fee_cents"]) == (True, 4000)
