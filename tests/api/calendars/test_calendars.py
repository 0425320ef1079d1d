"""The private calendar feed: created, rotated and revoked from /me; opened by its token alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy.orm import Session

from models import CalendarFeed, Listing, ListingKind
from tests.api_calls import feed_url
from tests.factories.accounts import PASSWORD, Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import make_session


def feed_events(client: FlaskClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.get_data())
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_the_feed_lists_my_sessions_as_mentor_and_mentee_with_stable_uids(client: FlaskClient, db: Session) -> None:
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    mentor, mentee, session = make_session(db, start)
    mentor.user.display_name = "Grace Hopper"
    mentee.user.display_name = "Ada Lovelace"
    db.flush()
    _other_mentor, _other_mentee, unrelated = make_session(db, start + timedelta(hours=3))

    path = feed_url(client, mentee)
    assert f"DTSTART:{start:%Y%m%dT%H%M%S}Z" in client.get(path).get_data(as_text=True)  # in UTC
    mine = feed_events(client, path)
    uid = f"{session.booking_id}@mentorship"
    assert set(mine) == {uid}
    event = mine[uid]
    assert event["SUMMARY"] == "Code review with Grace Hopper"
    assert event["DTSTART"].dt == start and event["DTSTART"].dt.utcoffset() == timedelta(0)
    assert event["DTEND"].dt == start + timedelta(hours=1)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]) == str(event["URL"]) == f"https://meet.jit.si/mentorship-{session.meeting_room}"
    assert f"{unrelated.booking_id}@mentorship" not in mine

    as_mentor = feed_events(client, feed_url(client, mentor))
    assert as_mentor[uid]["SUMMARY"] == "Code review with Ada Lovelace"


def test_sequence_rises_when_the_session_changes_and_cancelled_sessions_stay(client: FlaskClient, db: Session) -> None:
    mentor, mentee, session = make_session(db, datetime.now(UTC) + timedelta(days=3))
    path = feed_url(client, mentee)
    uid = f"{session.booking_id}@mentorship"
    before = int(feed_events(client, path)[uid]["SEQUENCE"])
    cancelled = client.post(f"/api/v1/sessions/{session.id}/cancel", json={"reason": "ill"}, headers=mentor.headers)
    assert cancelled.status_code == 200
    after = feed_events(client, path)[uid]
    assert str(after["STATUS"]) == "CANCELLED"
    assert int(after["SEQUENCE"]) > before

    session.start_time += timedelta(minutes=30)  # any change of time raises it too (the trigger)
    session.end_time += timedelta(minutes=30)
    db.flush()
    assert int(feed_events(client, path)[uid]["SEQUENCE"]) > int(after["SEQUENCE"])


def test_group_seats_are_in_the_feed(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=3, title="Design clinic")
    mentor = as_caller(listing.mentor_profile.user)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
    group = client.post(f"/api/v1/listings/{listing.id}/group-sessions", json={"start_time": start},
                        headers=mentor.headers).get_json()
    seated = as_caller(UserFactory())
    assert client.post(f"/api/v1/sessions/{group['id']}/join", headers=seated.headers).status_code == 201
    assert set(feed_events(client, feed_url(client, seated))) == {f"{group['id']}@mentorship"}
    (event,) = feed_events(client, feed_url(client, mentor)).values()
    assert event["SUMMARY"] == "Design clinic with 1 participant"  # one, in the singular (changed on purpose)


def test_a_rotated_or_revoked_or_wrong_token_opens_nothing(client: FlaskClient, db: Session) -> None:
    _mentor, mentee, _session = make_session(db, datetime.now(UTC) + timedelta(days=1))
    first = feed_url(client, mentee)
    second = feed_url(client, mentee)  # rotating: the first URL stops working
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert client.get(second[:-5] + "x.ics").status_code == 404
    # The bearer token is no feed token, in the path or in the header.
    access_token = mentee.headers["Authorization"].removeprefix("Bearer ")
    assert client.get(f"/api/v1/calendar/{access_token}.ics").status_code == 404
    assert client.get("/api/v1/calendar/nothing.ics", headers=mentee.headers).status_code == 404

    assert client.delete("/api/v1/me/calendar-token", headers=mentee.headers).status_code == 204
    assert client.get(second).status_code == 404
    assert client.delete("/api/v1/me/calendar-token", headers=mentee.headers).status_code == 204
    assert client.post("/api/v1/me/calendar-token").status_code == 401


def test_only_a_hash_of_the_token_is_stored(client: FlaskClient, db: Session) -> None:
    caller = as_caller(UserFactory())
    token = feed_url(client, caller).removeprefix("/api/v1/calendar/").removesuffix(".ics")
    stored = db.get_one(CalendarFeed, caller.user.id)
    assert token not in stored.token_hash and len(stored.token_hash) == 64


def test_the_feed_shows_the_meeting_link_the_session_shows(client: FlaskClient, db: Session) -> None:
    mentor, mentee, session = make_session(db, datetime.now(UTC) + timedelta(days=1))
    uid = f"{session.booking_id}@mentorship"
    path = feed_url(client, mentee)
    db.get(Listing, session.listing_id).location = "https://rooms.example.com/review"
    db.flush()
    assert str(feed_events(client, path)[uid]["URL"]) == "https://rooms.example.com/review"
    changed = client.patch(f"/api/v1/sessions/{session.id}", headers=mentor.headers,
                           json={"meeting_url": "https://meet.example.com/grace"})
    assert changed.status_code == 200 and changed.get_json()["meeting_url"] == "https://meet.example.com/grace"
    assert str(feed_events(client, path)[uid]["URL"]) == "https://meet.example.com/grace"


def _feed_status(client: FlaskClient, caller: Caller) -> dict[str, Any]:
    response = client.get("/api/v1/me/calendar-token", headers=caller.headers)
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def test_a_password_change_revokes_the_feed_and_says_so(client: FlaskClient, db: Session) -> None:
    _mentor, mentee, _session = make_session(db, datetime.now(UTC) + timedelta(days=1))
    path = feed_url(client, mentee)
    assert _feed_status(client, mentee)["active"] is True
    changed = client.post("/api/v1/me/password", headers=mentee.headers,
                          json={"current_password": PASSWORD, "new_password": "a brand new passphrase"})
    assert changed.status_code == 200
    assert client.get(path).status_code == 404
    fresh = {"Authorization": f"Bearer {changed.get_json()['access_token']}"}
    status = client.get("/api/v1/me/calendar-token", headers=fresh).get_json()
    assert (status["active"], status["revoked_reason"]) == (False, "password_changed") and status["revoked_at"]
    notices = client.get("/api/v1/notifications", headers=fresh).get_json()["items"]
    assert "calendar_feed.revoked" in [n["type"] for n in notices]
    renewed = client.post("/api/v1/me/calendar-token", headers=fresh)
    assert renewed.status_code == 201
    assert client.get(renewed.get_json()["url"].removeprefix("http://localhost")).status_code == 200
    assert client.get("/api/v1/me/calendar-token", headers=fresh).get_json()["active"] is True


def test_deleting_the_account_ends_its_feed(client: FlaskClient, db: Session) -> None:
    _mentor, mentee, _session = make_session(db, datetime.now(UTC) + timedelta(days=1))
    path = feed_url(client, mentee)
    deleted = client.delete("/api/v1/me", headers=mentee.headers, json={"current_password": PASSWORD})
    assert deleted.status_code == 204
    assert client.get(path).status_code == 404


def test_the_feed_of_a_deleted_user_answers_404_whatever_its_token(client: FlaskClient, db: Session) -> None:
    _mentor, mentee, _session = make_session(db, datetime.now(UTC) + timedelta(days=1))
    path = feed_url(client, mentee)
    mentee.user.deleted_at = datetime.now(UTC)  # the token row left in place: the user's state decides
    db.flush()
    assert client.get(path).status_code == 404


def test_a_session_downloads_as_an_ics_file_for_its_participants_only(client: FlaskClient, db: Session) -> None:
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    mentor, mentee, session = make_session(db, start)
    url = f"/api/v1/sessions/{session.id}/calendar.ics"
    for caller in (mentee, mentor):
        response = client.get(url, headers=caller.headers)
        assert response.status_code == 200 and response.mimetype == "text/calendar"
        assert "attachment" in response.headers["Content-Disposition"]
        (event,) = Calendar.from_ical(response.data).walk("VEVENT")
        assert event.decoded("dtstart") == start and str(event["status"]) == "CONFIRMED"
        assert Calendar.from_ical(response.data)["method"] == "PUBLISH"
    assert client.get(url, headers=as_caller(UserFactory()).headers).status_code == 404
    assert client.get(f"/api/v1/sessions/{uuid.uuid4()}/calendar.ics", headers=mentee.headers).status_code == 404
    assert client.get(url).status_code == 401
