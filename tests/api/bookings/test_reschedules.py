"""Moving a booking by agreement over HTTP: who may propose and answer, the bounds of a proposal (422), and the
answer of an accept (the new booking, linked to the one it replaced)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.api_calls import future, iso, request_booking
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory


def test_a_move_proposed_by_the_mentee_and_accepted_by_the_mentor(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor, mentee, stranger = as_caller(listing.mentor_profile.user), as_caller(UserFactory()), as_caller(
        UserFactory())
    status, booking = request_booking(client, mentee, listing.id, future(days=3))
    assert status == 201
    assert client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=mentor.headers).status_code == 200
    url = f"/api/v1/bookings/{booking['id']}/reschedule-proposals"
    later = [iso(future(days=4)), iso(future(days=5))]
    for bad in ({"start_times": []}, {"start_times": [iso(future(days=d)) for d in range(4, 8)]},
                {"start_times": ["tomorrow"]}, {"start_times": later, "message": "x" * 1001}):
        assert client.post(url, json=bad, headers=mentee.headers).status_code == 422, bad
    assert client.post(url, json={"start_times": later}, headers=stranger.headers).status_code == 404
    made = client.post(url, json={"start_times": later, "message": "Can we move it?"}, headers=mentee.headers)
    assert made.status_code == 201, made.get_json()
    proposal = made.get_json()
    assert (proposal["status"], proposal["proposed_by"]) == ("open", "mentee")
    assert client.post(url, json={"start_times": later}, headers=mentor.headers).status_code == 409  # one open
    assert [p["id"] for p in client.get(url, headers=mentor.headers).get_json()["items"]] == [proposal["id"]]
    accept = f"/api/v1/reschedule-proposals/{proposal['id']}/accept"
    assert client.post(accept, json={"start_time": later[0]}, headers=mentee.headers).status_code == 400  # own
    assert client.post(accept, json={"start_time": iso(future(days=9))}, headers=mentor.headers).status_code == 422
    moved = client.post(accept, json={"start_time": later[1]}, headers=mentor.headers)
    assert moved.status_code == 200, moved.get_json()
    new = moved.get_json()
    assert (new["status"], new["rescheduled_from_booking_id"], new["reschedule_count"]) == ("accepted",
                                                                                          booking["id"], 1)
    old = client.get(f"/api/v1/bookings/{booking['id']}", headers=mentee.headers).get_json()
    assert old["status"] == "rescheduled"
    shown = client.get(f"/api/v1/reschedule-proposals/{proposal['id']}", headers=mentee.headers).get_json()
    assert (shown["status"], shown["new_booking_id"]) == ("accepted", new["id"])
    assert client.get(f"/api/v1/reschedule-proposals/{proposal['id']}", headers=stranger.headers).status_code == 404


def test_the_mentor_asks_the_mentee_to_choose(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    _status, booking = request_booking(client, mentee, listing.id, future(days=3))
    client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=mentor.headers)
    url = f"/api/v1/bookings/{booking['id']}/request-reschedule"
    assert client.post(url, json={}, headers=mentor.headers).status_code == 422
    assert client.post(url, json={"reason": "Travel"}, headers=mentee.headers).status_code == 403
    asked = client.post(url, json={"reason": "Travel"}, headers=mentor.headers)
    assert asked.status_code == 201, asked.get_json()
    assert (asked.get_json()["kind"], asked.get_json()["start_times"]) == ("request", [])
    chosen = client.post(f"/api/v1/reschedule-proposals/{asked.get_json()['id']}/accept",
                         json={"start_time": iso(future(days=6, hour=15))}, headers=mentee.headers)
    assert (chosen.status_code, chosen.get_json()["rescheduled_from_booking_id"]) == (200, booking["id"])
