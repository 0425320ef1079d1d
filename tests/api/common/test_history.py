"""The history of a booking or session: its events, the part each actor took, for its participants and admins."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.api_calls import future, request_booking
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from workflows.sessions import lifecycle as session_flow


def entries(response: object) -> set[tuple[str, str]]:
    body = response.get_json()  # type: ignore[attr-defined]
    return {(item["type"], item["actor"]) for item in body["items"]}


def test_a_booking_and_its_session_show_their_events_to_participants_and_admins(
        client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    status, booking = request_booking(client, mentee, listing.id, future())
    assert status == 201
    assert client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=mentor.headers).status_code == 200
    url = f"/api/v1/bookings/{booking['id']}/events"
    expected = {("booking.requested", "mentee"), ("booking.accepted", "mentor")}
    admin = as_caller(UserFactory(is_admin=True))
    for caller in (mentee, mentor, admin):
        shown = client.get(url, headers=caller.headers)
        assert shown.status_code == 200 and entries(shown) == expected
    hidden = client.get(url, headers=as_caller(UserFactory()).headers)
    assert hidden.status_code == 404 and hidden.get_json()["message"] == "booking not found"
    assert client.get(f"/api/v1/bookings/{uuid.uuid4()}/events", headers=admin.headers).status_code == 404

    session = session_flow.create_session_from_booking(db, uuid.UUID(booking["id"]))
    assert session is not None
    assert client.patch(f"/api/v1/sessions/{session.id}", json={"agenda": "Joins"},
                        headers=mentor.headers).status_code == 200
    timeline = f"/api/v1/sessions/{session.id}/events"
    shown = client.get(timeline, headers=mentee.headers)
    assert entries(shown) == expected | {("session.scheduled", "system"), ("session.updated", "mentor")}
    assert all(item["at"] and item["id"] for item in shown.get_json()["items"])
    assert client.get(timeline, headers=as_caller(UserFactory()).headers).status_code == 404


def test_a_timeline_pages_through_every_event_once(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    _status, booking = request_booking(client, mentee, listing.id, future())
    client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=mentor.headers)
    session = session_flow.create_session_from_booking(db, uuid.UUID(booking["id"]))
    assert session is not None
    seen, cursor = [], ""
    for _ in range(5):
        page = client.get(f"/api/v1/sessions/{session.id}/events?limit=1{cursor}", headers=mentor.headers).get_json()
        seen += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(seen) == len(set(seen)) == 3
    bad = client.get(f"/api/v1/sessions/{session.id}/events?cursor=nonsense", headers=mentor.headers)
    assert bad.status_code in (400, 422) and bad.get_json()["message"]
