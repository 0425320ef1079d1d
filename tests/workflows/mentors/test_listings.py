"""Listings (``workflows/mentors/listings.py``), called directly: who may offer and change one, the rule of capacities,
and who learns where a listing's sessions meet. Searching by free slot is the API tests'
(``tests/api/mentors/test_discovery.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from models import Listing, ListingKind, ListingMember
from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from workflows.actors import Actor
from workflows.errors import BusinessRuleViolation, Forbidden
from workflows.mentors import listings
from workflows.mentors.listings import LocationKind


def create(db: Session, actor: Actor, **fields: Any) -> Listing:
    values: dict[str, Any] = {"title": " Code review ", "description": "", "skill": "Python", "duration_minutes": 30,
                              "price_cents": 4000, "currency": "eur", "kind": "individual", "capacity": None}
    return listings.create_listing(db, actor, **{**values, **fields})


def test_a_mentor_offers_a_listing_with_its_title_trimmed_and_currency_upper_cased(db: Session) -> None:
    profile = MentorProfileFactory()
    listing = create(db, actor_of(profile.user))
    assert (listing.mentor_profile_id, listing.title, listing.currency, listing.skill.name, listing.active) == (
        profile.id, "Code review", "EUR", "python", True)


def test_only_a_mentor_offers_listings(db: Session) -> None:
    error = refused(db, Forbidden, lambda: create(db, actor_of(UserFactory())))
    assert error.message == "only mentors can do this: create a mentor profile first"


@pytest.mark.parametrize(("kind", "capacity", "message"), [
    ("group", None, "a group listing needs a capacity (2-500)"),
    ("individual", 5, "only group listings have a capacity"),
])
def test_a_group_listing_has_a_capacity_and_an_individual_one_none(
        db: Session, kind: str, capacity: int | None, message: str) -> None:
    mentor = actor_of(MentorProfileFactory().user)
    error = refused(db, BusinessRuleViolation, lambda: create(db, mentor, kind=kind, capacity=capacity))
    assert error.message == message
    assert create(db, mentor, kind="group", capacity=2).capacity == 2


def test_only_its_mentor_changes_a_listing_and_only_its_editable_fields(db: Session) -> None:
    listing = ListingFactory()
    owner = actor_of(listing.mentor_profile.user)
    listings.update_listing(db, owner, listing.id, {"currency": "gbp", "skill": " Go ", "active": False})
    assert (listing.currency, listing.skill.name, listing.active) == ("GBP", "go", False)
    stranger = refused(db, Forbidden, lambda: listings.update_listing(
        db, actor_of(UserFactory()), listing.id, {"title": "mine"}))
    assert stranger.message == "only the listing's mentor can change it"
    fixed = refused(db, BusinessRuleViolation, lambda: listings.update_listing(
        db, owner, listing.id, {"kind": ListingKind.GROUP, "mentor_profile_id": None}))
    assert fixed.message == "these fields cannot be changed: kind, mentor_profile_id"
    capacity = refused(db, BusinessRuleViolation, lambda: listings.update_listing(
        db, owner, listing.id, {"capacity": 10}))
    assert capacity.message == "only group listings have a capacity"


def test_a_listings_place_is_shown_to_its_mentors_and_only_whether_it_is_online_to_anyone_else(db: Session) -> None:
    in_person = ListingFactory(location="Room 4, Main Street 1")
    online = ListingFactory(location="https://meet.example.com/x", mentor_profile=in_person.mentor_profile)
    nowhere = ListingFactory()
    member = MentorProfileFactory()
    db.add(ListingMember(listing_id=in_person.id, mentor_profile_id=member.id, position=0))
    db.flush()
    shown = {(v.listing.id, v.location, v.location_kind) for v in listings.as_seen_by(
        db, actor_of(UserFactory()), [in_person, online, nowhere])}
    assert shown == {(in_person.id, None, LocationKind.IN_PERSON), (online.id, None, LocationKind.ONLINE),
                     (nowhere.id, None, None)}
    to_owner = listings.as_seen_by(db, actor_of(in_person.mentor_profile.user), [in_person, online])
    assert [v.location for v in to_owner] == ["Room 4, Main Street 1", "https://meet.example.com/x"]
    to_member = listings.as_seen_by(db, actor_of(member.user), [in_person, online])
    assert [v.location for v in to_member] == ["Room 4, Main Street 1", None]
