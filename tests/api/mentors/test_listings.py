from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory, MentorProfileFactory

LISTING = {"title": "Mock interview", "skill": "System Design", "duration_minutes": 60, "price_cents": 8000,
           "currency": "eur"}


def test_only_mentors_create_listings(client: FlaskClient, db: Session) -> None:
    response = client.post("/api/v1/listings", json=LISTING, headers=as_caller(UserFactory()).headers)
    assert response.status_code == 403
    mentor = as_caller(MentorProfileFactory().user)
    response = client.post("/api/v1/listings", json=LISTING, headers=mentor.headers)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["skill"], body["currency"], body["kind"], body["capacity"], body["active"]) == (
        "system design", "EUR", "individual", None, True)


def test_listing_rules(client: FlaskClient, db: Session) -> None:
    mentor = as_caller(MentorProfileFactory().user)
    group_without_capacity = client.post("/api/v1/listings", json={**LISTING, "kind": "group"},
                                         headers=mentor.headers)
    assert group_without_capacity.status_code == 400
    assert client.post("/api/v1/listings", json={**LISTING, "capacity": 5},
                       headers=mentor.headers).status_code == 400
    group = client.post("/api/v1/listings", json={**LISTING, "kind": "group", "capacity": 8},
                        headers=mentor.headers)
    assert group.status_code == 201 and group.get_json()["capacity"] == 8
    for field, value in (("duration_minutes", 10), ("duration_minutes", 481), ("price_cents", -1),
                         ("currency", "EURO"), ("kind", "party")):
        response = client.post("/api/v1/listings", json={**LISTING, field: value}, headers=mentor.headers)
        assert response.status_code == 422, (field, value)


def test_patch_listing_owner_only(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    owner = as_caller(listing.mentor_profile.user)
    other_mentor = as_caller(MentorProfileFactory().user)
    url = f"/api/v1/listings/{listing.id}"
    response = client.patch(url, json={"price_cents": 9900, "active": False}, headers=owner.headers)
    assert response.status_code == 200
    assert (response.get_json()["price_cents"], response.get_json()["active"]) == (9900, False)
    assert client.patch(url, json={"price_cents": 1}, headers=other_mentor.headers).status_code == 403
    assert client.patch(url, json={}, headers=owner.headers).status_code == 422
    assert client.patch(url, json={"kind": "group"}, headers=owner.headers).status_code == 422
    assert client.get(url, headers=other_mentor.headers).get_json()["price_cents"] == 9900


def test_list_listings_filters(client: FlaskClient, db: Session) -> None:
    first = ListingFactory()
    ListingFactory()
    caller = as_caller(UserFactory())
    mine = client.get(f"/api/v1/listings?mentor_profile_id={first.mentor_profile_id}", headers=caller.headers)
    assert [item["id"] for item in mine.get_json()["items"]] == [str(first.id)]
    by_skill = client.get("/api/v1/listings?skill=python&limit=100", headers=caller.headers).get_json()
    assert {str(first.id)} <= {item["id"] for item in by_skill["items"]}
    assert client.get("/api/v1/listings?limit=101", headers=caller.headers).status_code == 422
    assert client.get("/api/v1/listings/00000000-0000-0000-0000-000000000000",
                      headers=caller.headers).status_code == 404


def test_a_withdrawn_listing_is_listed_to_its_mentors_and_admins_only(client: FlaskClient, db: Session) -> None:
    withdrawn = ListingFactory(active=False)
    mentee, admin = as_caller(UserFactory()), as_caller(UserFactory(is_admin=True))
    owner = as_caller(withdrawn.mentor_profile.user)

    def listed(caller: Any, query: str) -> set[str]:
        return {item["id"] for item in client.get(f"/api/v1/listings?{query}&limit=100",
                                                  headers=caller.headers).get_json()["items"]}

    mentor_filter = f"mentor_profile_id={withdrawn.mentor_profile_id}"
    assert str(withdrawn.id) not in listed(mentee, "active=false") | listed(mentee, mentor_filter)
    assert str(withdrawn.id) in listed(owner, "active=false") & listed(owner, mentor_filter)
    assert str(withdrawn.id) in listed(admin, "active=false")


def test_listing_creation_honours_idempotency_key(client: FlaskClient, db: Session) -> None:
    mentor = as_caller(MentorProfileFactory().user)
    headers = {**mentor.headers, "Idempotency-Key": "listing-1"}
    first = client.post("/api/v1/listings", json=LISTING, headers=headers)
    again = client.post("/api/v1/listings", json=LISTING, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    mine = client.get(f"/api/v1/listings?mentor_profile_id={first.get_json()['mentor_profile_id']}",
                      headers=mentor.headers).get_json()
    assert len(mine["items"]) == 1
