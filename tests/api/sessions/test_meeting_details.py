"""Where a session meets: the listing's location, the mentor's meeting URL and agenda, and who may change them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import OutboxEvent, OutboxHandler
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import make_session

TEMPLATE_URL = "https://meet.jit.si/mentorship-{}"


def soon(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


def updates(db: Session) -> list[OutboxEvent]:
    return list(db.scalars(select(OutboxEvent).where(OutboxEvent.type == "session.updated")))


def test_the_mentor_sets_the_meeting_url_and_agenda_and_the_participants_are_told(
        client: FlaskClient, db: Session) -> None:
    mentor, mentee, session = make_session(db, soon(days=2))
    url = f"/api/v1/sessions/{session.id}"
    changed = client.patch(url, json={"meeting_url": "https://meet.example.com/abc", "agenda": "Caching"},
                           headers=mentor.headers)
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["meeting_url"], changed.get_json()["agenda"]) == ("https://meet.example.com/abc",
                                                                                 "Caching")
    seen = client.get(url, headers=mentee.headers).get_json()
    assert (seen["meeting_url"], seen["agenda"]) == ("https://meet.example.com/abc", "Caching")
    (event,) = updates(db)
    assert (event.aggregate_id, event.actor) == (session.id, f"user:{mentor.user.id}")
    assert (event.payload["meeting_url"], event.payload["agenda"]) == ("https://meet.example.com/abc", "Caching")
    handlers = set(db.scalars(select(OutboxHandler.handler).where(OutboxHandler.event_id == event.id)))
    assert handlers == {"notifications.notify", "webhooks.fan_out", "calendars.follow_sessions"}  # and its calendar
    # The same values again change nothing and tell nobody.
    assert client.patch(url, json={"agenda": "Caching"}, headers=mentor.headers).status_code == 200
    assert len(updates(db)) == 1
    # Cleared: the template applies again.
    cleared = client.patch(url, json={"meeting_url": None}, headers=mentor.headers).get_json()
    assert cleared["meeting_url"] == TEMPLATE_URL.format(session.meeting_room)


def test_only_the_mentor_may_change_a_session_before_it_starts(client: FlaskClient, db: Session) -> None:
    mentor, mentee, session = make_session(db, soon(minutes=5))
    url = f"/api/v1/sessions/{session.id}"
    refused = client.patch(url, json={"agenda": "mine"}, headers=mentee.headers)
    assert refused.status_code == 403 and "only the mentor" in refused.get_json()["message"]
    hidden = client.patch(url, json={"agenda": "mine"}, headers=as_caller(UserFactory()).headers)
    assert hidden.status_code == 404 and hidden.get_json()["message"] == "session not found"
    assert client.post(f"{url}/start", headers=mentor.headers).status_code == 200
    started = client.patch(url, json={"agenda": "late"}, headers=mentor.headers)
    assert started.status_code == 400 and "before it starts" in started.get_json()["message"]
    db.refresh(session)
    assert session.agenda is None and updates(db) == []


def test_a_session_cannot_be_changed_once_its_start_time_has_passed(client: FlaskClient, db: Session) -> None:
    mentor, _mentee, session = make_session(db, soon(minutes=-5))
    refused = client.patch(f"/api/v1/sessions/{session.id}", json={"agenda": "x"}, headers=mentor.headers)
    assert refused.status_code == 400 and "before it starts" in refused.get_json()["message"]


def test_malformed_details_are_refused(client: FlaskClient, db: Session) -> None:
    mentor, _mentee, session = make_session(db, soon(days=2))
    url = f"/api/v1/sessions/{session.id}"
    for body in ({}, {"meeting_url": "http://meet.example.com/x"}, {"meeting_url": "javascript:alert(1)"},
                 {"meeting_url": "https://meet.example.com/" + "a" * 500}, {"agenda": "a" * 5001},
                 {"agenda": "a\x00b"}, {"meeting_url": "https://meet.example.com/a\x00b"}):
        refused = client.patch(url, json=body, headers=mentor.headers)
        assert refused.status_code == 422 and refused.get_json()["message"], body
    db.refresh(session)
    assert (session.meeting_url, session.agenda) == (None, None) and updates(db) == []


def test_the_meeting_url_comes_from_the_mentor_then_the_listing_location_then_the_template(
        client: FlaskClient, db: Session) -> None:
    mentor, mentee, session = make_session(db, soon(days=2))
    url = f"/api/v1/sessions/{session.id}"
    listing = f"/api/v1/listings/{session.listing_id}"
    default = TEMPLATE_URL.format(session.meeting_room)
    assert client.get(url, headers=mentee.headers).get_json()["meeting_url"] == default
    placed = client.patch(listing, json={"location": "Room 4, 12 Main Street"}, headers=mentor.headers)
    assert placed.status_code == 200 and placed.get_json()["location"] == "Room 4, 12 Main Street"
    body = client.get(url, headers=mentee.headers).get_json()
    assert (body["meeting_url"], body["location"]) == (default, "Room 4, 12 Main Street")
    assert client.patch(listing, json={"location": "https://meet.example.com/room"},
                        headers=mentor.headers).status_code == 200
    assert client.get(url, headers=mentee.headers).get_json()["meeting_url"] == "https://meet.example.com/room"
    client.patch(url, json={"meeting_url": "https://meet.example.com/own"}, headers=mentor.headers)
    assert client.get(url, headers=mentee.headers).get_json()["meeting_url"] == "https://meet.example.com/own"


def test_a_listing_location_is_set_on_create_and_must_be_an_https_url_or_a_place(
        client: FlaskClient, db: Session) -> None:
    mentor = as_caller(ListingFactory().mentor_profile.user)
    listing = {"title": "Review", "skill": "python", "duration_minutes": 60, "price_cents": 100}
    created = client.post("/api/v1/listings", json={**listing, "location": "https://meet.example.com/me"},
                          headers=mentor.headers)
    assert created.status_code == 201 and created.get_json()["location"] == "https://meet.example.com/me"
    for location in ("http://meet.example.com/me", "ftp://x.example.com", "", "x" * 501):
        refused = client.post("/api/v1/listings", json={**listing, "location": location}, headers=mentor.headers)
        assert refused.status_code == 422 and refused.get_json()["message"], location
        patched = client.patch(f"/api/v1/listings/{created.get_json()['id']}", json={"location": location},
                               headers=mentor.headers)
        assert patched.status_code == 422, location
    assert client.get(f"/api/v1/listings/{created.get_json()['id']}",
                      headers=mentor.headers).get_json()["location"] == "https://meet.example.com/me"


def test_the_default_meeting_room_is_a_secret_no_public_id_reveals(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(kind="group", capacity=4)
    mentor = as_caller(listing.mentor_profile.user)
    group = client.post(f"/api/v1/listings/{listing.id}/group-sessions", headers=mentor.headers,
                        json={"start_time": soon(days=2).replace(microsecond=0).isoformat()}).get_json()
    stranger = as_caller(UserFactory())
    listed = client.get("/api/v1/group-sessions", headers=stranger.headers).get_json()["items"]
    public_text = repr(listed) + repr(client.get(f"/api/v1/listings/{listing.id}", headers=stranger.headers).json)
    assert group["id"] in public_text

    seat = as_caller(UserFactory())
    assert client.post(f"/api/v1/sessions/{group['id']}/join", headers=seat.headers).status_code == 201
    room_url = client.get(f"/api/v1/sessions/{group['id']}", headers=seat.headers).get_json()["meeting_url"]
    room = room_url.removeprefix("https://meet.jit.si/mentorship-")
    assert room != room_url and group["id"] not in room_url
    assert len(room) * 4 >= 128 and int(room, 16) >= 0  # hex: at least 128 bits
    assert room not in public_text
    _m, _e, other = make_session(db, soon(days=3))
    other_url = client.get(f"/api/v1/sessions/{other.id}", headers=_e.headers).get_json()["meeting_url"]
    assert other_url != room_url and str(other.id) not in other_url


def test_a_listing_location_is_shown_to_its_mentors_only(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor = as_caller(listing.mentor_profile.user)
    url = f"/api/v1/listings/{listing.id}"
    mentee = as_caller(UserFactory())
    for location, kind in (("Room 4, 12 Main Street", "in_person"), ("https://meet.example.com/room", "online"),
                           (None, None)):
        assert client.patch(url, json={"location": location}, headers=mentor.headers).status_code == 200
        own = client.get(url, headers=mentor.headers).get_json()
        assert (own["location"], own["location_kind"]) == (location, kind)
        search = f"/api/v1/listings?mentor_profile_id={listing.mentor_profile_id}"
        for seen in (client.get(url, headers=mentee.headers).get_json(),
                     *client.get(search, headers=mentee.headers).get_json()["items"]):
            assert (seen["location"], seen["location_kind"]) == (None, kind)
