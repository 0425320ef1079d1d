"""Listings taught by a team: the owner manages it; requests name a member or let the service choose a
free one; slots are the union of the members'; a bundle of the listing pays for any member."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AvailabilityWindow, Booking, ListingKind, MentorProfile
from tests.api_calls import post_booking
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory, MentorProfileFactory

DAY = (datetime.now(UTC) + timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0)
T = DAY.replace(hour=10)


def accept_invitations(client: FlaskClient, *mentors: MentorProfile) -> None:
    for mentor in mentors:
        headers = as_caller(mentor.user).headers
        for invitation in client.get("/api/v1/team-invitations", headers=headers).get_json()["items"]:
            accepted = client.post(f"/api/v1/team-invitations/{invitation['id']}/accept", headers=headers)
            assert accepted.status_code == 200, accepted.get_json()


def team_listing(client: FlaskClient, size: int = 3, step: int | None = None
                 ) -> tuple[uuid.UUID, Caller, list[MentorProfile]]:
    """A listing whose owner set a team of ``size`` members, the owner first, each other member having accepted;
    its slots every ``step`` minutes (its duration by default)."""
    listing = ListingFactory(slot_step_minutes=step)
    owner = as_caller(listing.mentor_profile.user)
    members = [listing.mentor_profile, *(MentorProfileFactory() for _ in range(size - 1))]
    response = client.put(f"/api/v1/listings/{listing.id}/team", headers=owner.headers,
                          json={"mentor_profile_ids": [str(m.id) for m in members]})
    assert response.status_code == 200, response.get_json()
    accept_invitations(client, *members[1:])
    return listing.id, owner, members


def mentor_of(client: FlaskClient, mentee: Caller, listing_id: uuid.UUID, start: datetime) -> str:
    response = post_booking(client, mentee, listing_id, start)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["mentor_profile_id"])


def test_the_owner_manages_the_team(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    owner = as_caller(listing.mentor_profile.user)
    url = f"/api/v1/listings/{listing.id}/team"
    alone = client.get(url, headers=as_caller(UserFactory()).headers).get_json()
    assert alone["is_team"] is False
    assert [m["mentor_profile_id"] for m in alone["members"]] == [str(listing.mentor_profile_id)]
    others = [MentorProfileFactory(), MentorProfileFactory()]
    body = {"mentor_profile_ids": [str(others[1].id), str(others[0].id)]}
    stranger = as_caller(others[0].user)
    assert client.put(url, json=body, headers=stranger.headers).status_code == 403
    assert client.put(f"/api/v1/listings/{uuid.uuid4()}/team", json=body, headers=owner.headers).status_code == 404
    unknown = client.put(url, json={"mentor_profile_ids": [str(uuid.uuid4())]}, headers=owner.headers)
    assert unknown.status_code == 400 and "no such mentor profile" in unknown.get_json()["message"]
    twice = client.put(url, json={"mentor_profile_ids": [str(others[0].id)] * 2}, headers=owner.headers)
    assert twice.status_code == 422 and twice.get_json()["message"]
    assert client.put(url, json={}, headers=owner.headers).status_code == 422
    assert client.get(url, headers=owner.headers).get_json()["is_team"] is False  # nothing changed
    invited = client.put(url, json=body, headers=owner.headers).get_json()
    assert invited["is_team"] is False  # invited, not members until they accept
    assert [m["mentor_profile_id"] for m in invited["invited"]] == body["mentor_profile_ids"]
    accept_invitations(client, *others)
    team = client.get(url, headers=owner.headers).get_json()
    assert team["is_team"] is True and team["invited"] == []
    assert [m["mentor_profile_id"] for m in team["members"]] == body["mentor_profile_ids"]
    assert client.get(url, headers=stranger.headers).get_json() == {**team, "invited": None}
    cleared = client.put(url, json={"mentor_profile_ids": []}, headers=owner.headers).get_json()
    assert cleared["is_team"] is False
    group = ListingFactory(kind=ListingKind.GROUP.value, capacity=3)
    refused = client.put(f"/api/v1/listings/{group.id}/team", json=body,
                         headers=as_caller(group.mentor_profile.user).headers)
    assert refused.status_code == 400 and "individual" in refused.get_json()["message"]


def test_naming_a_member_books_them_and_naming_anyone_else_is_400(client: FlaskClient, db: Session) -> None:
    listing_id, owner, members = team_listing(client)
    mentee = as_caller(UserFactory())
    before = db.scalar(select(func.count()).select_from(Booking))
    outsider = post_booking(client, mentee, listing_id, T, mentor_profile_id=str(MentorProfileFactory().id))
    assert outsider.status_code == 400
    assert outsider.get_json()["message"] == "this mentor does not teach this listing"
    assert post_booking(client, mentee, listing_id, T, mentor_profile_id="nope").status_code == 422
    assert db.scalar(select(func.count()).select_from(Booking)) == before
    named = post_booking(client, mentee, listing_id, T, mentor_profile_id=str(members[2].id)).get_json()
    assert named["mentor_profile_id"] == str(members[2].id)
    # The chosen member is the booking's mentor: they decide, the owner does not take part.
    assert client.post(f"/api/v1/bookings/{named['id']}/accept", headers=owner.headers).status_code == 404
    accepted = client.post(f"/api/v1/bookings/{named['id']}/accept", headers=as_caller(members[2].user).headers)
    assert accepted.status_code == 200
    # A plain listing's owner may be named; nobody else.
    plain = ListingFactory()
    assert post_booking(client, mentee, plain.id, T + timedelta(days=1),
                   mentor_profile_id=str(plain.mentor_profile_id)).status_code == 201
    assert post_booking(client, mentee, plain.id, T + timedelta(days=1),
                   mentor_profile_id=str(members[1].id)).status_code == 400


def test_the_service_prefers_members_without_a_pending_request_then_the_team_order(client: FlaskClient,
                                                                                    db: Session) -> None:
    listing_id, _owner, members = team_listing(client)
    chosen = [mentor_of(client, as_caller(UserFactory()), listing_id, T) for _ in range(6)]
    ids = [str(m.id) for m in members]
    assert chosen == [*ids, *ids]


def test_the_service_prefers_the_member_with_fewest_upcoming_sessions(client: FlaskClient, db: Session) -> None:
    listing_id, _owner, members = team_listing(client)
    for member in members[:2]:  # the first two each have a session coming, at another time
        booking = post_booking(client, as_caller(UserFactory()), listing_id, T - timedelta(hours=3),
                          mentor_profile_id=str(member.id)).get_json()
        client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=as_caller(member.user).headers)
    assert mentor_of(client, as_caller(UserFactory()), listing_id, T) == str(members[2].id)


def test_the_service_never_chooses_a_busy_member_or_one_outside_their_windows(client: FlaskClient,
                                                                              db: Session) -> None:
    listing_id, _owner, members = team_listing(client, step=30)
    # The first member is booked at T; the second only works afternoons.
    busy = post_booking(client, as_caller(UserFactory()), listing_id, T,
                        mentor_profile_id=str(members[0].id)).get_json()
    client.post(f"/api/v1/bookings/{busy['id']}/accept", headers=as_caller(members[0].user).headers)
    members[1].availability.append(AvailabilityWindow(id=uuid.uuid4(), weekday=T.weekday(), start_minute=13 * 60,
                                                      end_minute=18 * 60))
    db.flush()
    assert mentor_of(client, as_caller(UserFactory()), listing_id, T) == str(members[2].id)
    accepted = post_booking(client, as_caller(UserFactory()), listing_id, T + timedelta(minutes=30),
                       mentor_profile_id=str(members[2].id)).get_json()
    client.post(f"/api/v1/bookings/{accepted['id']}/accept", headers=as_caller(members[2].user).headers)
    full = post_booking(client, as_caller(UserFactory()), listing_id, T)
    assert full.status_code == 409 and "no mentor of this listing's team is free" in full.get_json()["message"]
    # At 14:00 all are free; the afternoon member is the one without a session to come.
    assert mentor_of(client, as_caller(UserFactory()), listing_id, T.replace(hour=14)) == str(members[1].id)


def test_a_member_is_never_chosen_to_mentor_themselves(client: FlaskClient, db: Session) -> None:
    listing_id, _owner, members = team_listing(client, step=15)
    member = as_caller(members[1].user)
    # Overlapping times: one mentee asks once per listing and start.
    chosen = [mentor_of(client, member, listing_id, T + timedelta(minutes=step)) for step in (0, 15, 30, 45)]
    assert chosen == [str(members[0].id), str(members[2].id)] * 2
    self_named = post_booking(client, member, listing_id, T + timedelta(days=1), mentor_profile_id=str(members[1].id))
    assert self_named.status_code == 400 and "yourself" in self_named.get_json()["message"]


def test_team_slots_are_the_union_of_the_members(client: FlaskClient, db: Session) -> None:
    listing_id, _owner, members = team_listing(client, size=2)
    for member, hour in zip(members, (9, 14), strict=True):
        member.availability.append(AvailabilityWindow(id=uuid.uuid4(), weekday=DAY.weekday(),
                                                      start_minute=hour * 60, end_minute=(hour + 2) * 60))
    db.flush()
    url = f"/api/v1/listings/{listing_id}/slots?from={DAY.isoformat()}&to={(DAY + timedelta(days=1)).isoformat()}"
    slots = client.get(url.replace("+00:00", "Z"), headers=as_caller(UserFactory()).headers).get_json()["items"]
    assert [datetime.fromisoformat(s["start_time"]).hour for s in slots] == [9, 10, 14, 15]
    # A member's accepted booking takes only their slot away.
    booking = post_booking(client, as_caller(UserFactory()), listing_id, DAY.replace(hour=9)).get_json()
    assert booking["mentor_profile_id"] == str(members[0].id)
    client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=as_caller(members[0].user).headers)
    slots = client.get(url.replace("+00:00", "Z"), headers=as_caller(UserFactory()).headers).get_json()["items"]
    assert [datetime.fromisoformat(s["start_time"]).hour for s in slots] == [10, 14, 15]


def test_a_bundle_of_a_team_listing_pays_for_any_member(client: FlaskClient, db: Session) -> None:
    listing_id, owner, members = team_listing(client)
    bundle = client.post(f"/api/v1/listings/{listing_id}/bundles", headers=owner.headers,
                         json={"sessions_count": 3, "price_cents": 9000, "valid_days": 30}).get_json()
    mentee = as_caller(UserFactory())
    purchase = client.post(f"/api/v1/bundles/{bundle['id']}/purchase", headers=mentee.headers).get_json()
    for index, member in enumerate(members):
        booked = post_booking(client, mentee, listing_id, T + timedelta(hours=index),
                         mentor_profile_id=str(member.id), bundle_purchase_id=purchase["id"])
        assert booked.status_code == 201 and booked.get_json()["bundle_purchase_id"] == purchase["id"]
    left = client.get("/api/v1/bundle-purchases", headers=mentee.headers).get_json()["items"][0]
    assert left["remaining_sessions"] == 0
