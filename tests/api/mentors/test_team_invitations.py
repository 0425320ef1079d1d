"""A listing's team is joined by consent: invited mentors teach only once they accept; members may leave."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import AvailabilityWindow
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory, MentorProfileFactory

DAY = (datetime.now(UTC) + timedelta(days=6)).replace(hour=0, minute=0, second=0, microsecond=0)


def invitations(client: FlaskClient, mentor: object) -> list[dict]:
    return client.get("/api/v1/team-invitations", headers=as_caller(mentor.user).headers).get_json()["items"]


def slot_hours(client: FlaskClient, listing_id: uuid.UUID) -> list[int]:
    window = f"from={DAY:%Y-%m-%dT%H:%M:%SZ}&to={DAY + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}"
    url = f"/api/v1/listings/{listing_id}/slots?{window}"
    return [datetime.fromisoformat(s["start_time"]).hour
            for s in client.get(url, headers=as_caller(UserFactory()).headers).get_json()["items"]]


def test_an_invited_mentor_teaches_only_once_they_accept(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    owner = as_caller(listing.mentor_profile.user)
    invitee = MentorProfileFactory()
    for profile, hour in ((listing.mentor_profile, 9), (invitee, 14)):
        profile.availability.append(AvailabilityWindow(id=uuid.uuid4(), weekday=DAY.weekday(), start_minute=hour * 60,
                                                       end_minute=(hour + 1) * 60))
    db.flush()
    team_url = f"/api/v1/listings/{listing.id}/team"
    put = client.put(team_url, headers=owner.headers,
                     json={"mentor_profile_ids": [str(listing.mentor_profile_id), str(invitee.id)]})
    assert put.status_code == 200
    assert [m["mentor_profile_id"] for m in put.get_json()["members"]] == [str(listing.mentor_profile_id)]
    assert [m["mentor_profile_id"] for m in put.get_json()["invited"]] == [str(invitee.id)]
    assert slot_hours(client, listing.id) == [9]  # not in the slots yet
    mentee = as_caller(UserFactory())
    named = client.post("/api/v1/bookings", headers=mentee.headers, json={
        "listing_id": str(listing.id), "start_time": DAY.replace(hour=14).isoformat(),
        "mentor_profile_id": str(invitee.id)})
    assert named.status_code == 400 and named.get_json()["message"] == "this mentor does not teach this listing"
    assert invitations(client, listing.mentor_profile) == []
    (invitation,) = invitations(client, invitee)
    assert (invitation["listing_id"], invitation["invited_by"], invitation["status"]) == (
        str(listing.id), listing.mentor_profile.user.display_name, "pending")
    notices = client.get("/api/v1/notifications", headers=as_caller(invitee.user).headers).get_json()["items"]
    assert [n["type"] for n in notices] == ["team.invited"]

    accept = f"/api/v1/team-invitations/{invitation['id']}/accept"
    assert client.post(accept, headers=mentee.headers).status_code == 404  # not theirs
    assert client.post(accept, headers=owner.headers).status_code == 404
    accepted = client.post(accept, headers=as_caller(invitee.user).headers)
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert client.post(accept, headers=as_caller(invitee.user).headers).status_code == 400
    assert slot_hours(client, listing.id) == [9, 14]
    booked = client.post("/api/v1/bookings", headers=mentee.headers, json={
        "listing_id": str(listing.id), "start_time": DAY.replace(hour=14).isoformat()})
    assert booked.status_code == 201 and booked.get_json()["mentor_profile_id"] == str(invitee.id)
    owner_notices = client.get("/api/v1/notifications", headers=owner.headers).get_json()["items"]
    assert "team.accepted" in [n["type"] for n in owner_notices]


def test_a_declined_or_withdrawn_invitation_makes_no_member(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    owner = as_caller(listing.mentor_profile.user)
    first, second = MentorProfileFactory(), MentorProfileFactory()
    team_url = f"/api/v1/listings/{listing.id}/team"
    client.put(team_url, headers=owner.headers, json={"mentor_profile_ids": [str(first.id), str(second.id)]})
    (to_decline,) = invitations(client, first)
    declined = client.post(f"/api/v1/team-invitations/{to_decline['id']}/decline",
                           headers=as_caller(first.user).headers)
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    (to_withdraw,) = invitations(client, second)
    client.put(team_url, headers=owner.headers, json={"mentor_profile_ids": []})  # the owner changed their mind
    assert invitations(client, second) == []
    late = client.post(f"/api/v1/team-invitations/{to_withdraw['id']}/accept", headers=as_caller(second.user).headers)
    assert late.status_code == 400 and "withdrawn" in late.get_json()["message"]
    team = client.get(team_url, headers=owner.headers).get_json()
    assert (team["is_team"], team["invited"]) == (False, [])


def test_a_mentor_must_confirm_their_email_before_being_invited(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    owner = as_caller(listing.mentor_profile.user)
    unconfirmed = MentorProfileFactory(user=UserFactory(email_verified_at=None))
    refused = client.put(f"/api/v1/listings/{listing.id}/team", headers=owner.headers,
                         json={"mentor_profile_ids": [str(unconfirmed.id)]})
    assert refused.status_code == 409 and unconfirmed.user.display_name in refused.get_json()["message"]
    assert invitations(client, unconfirmed) == []


def test_a_member_can_leave_and_the_owner_cannot(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    owner = as_caller(listing.mentor_profile.user)
    member = MentorProfileFactory()
    team_url = f"/api/v1/listings/{listing.id}/team"
    client.put(team_url, headers=owner.headers, json={"mentor_profile_ids": [str(listing.mentor_profile_id),
                                                                              str(member.id)]})
    (invitation,) = invitations(client, member)
    client.post(f"/api/v1/team-invitations/{invitation['id']}/accept", headers=as_caller(member.user).headers)
    assert len(client.get(team_url, headers=owner.headers).get_json()["members"]) == 2
    leave = f"/api/v1/listings/{listing.id}/team/leave"
    assert client.post(leave, headers=owner.headers).status_code == 400
    assert client.post(leave, headers=as_caller(member.user).headers).status_code == 204
    assert client.post(leave, headers=as_caller(member.user).headers).status_code == 404
    assert [m["mentor_profile_id"] for m in client.get(team_url, headers=owner.headers).get_json()["members"]] == [
        str(listing.mentor_profile_id)]
    assert client.post(leave, headers=as_caller(UserFactory()).headers).status_code == 404
