"""People by name: mentor profiles, bookings and sessions name their participants; a group's
participants are shown to its mentor only; no email leaves /me; lists read names in batches."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, ListingKind, OutboxEvent, User
from tests.database import counting
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from tests.factories.sessions import make_session
from workflows.notifications import messages
from workflows.sessions import lifecycle as session_flow
from workflows.sessions import reviews


def person(user: User, id_: uuid.UUID | None = None) -> dict[str, str]:
    return {"id": str(id_ or user.id), "display_name": user.display_name}


def test_bookings_and_sessions_name_their_mentor_and_mentee(client: FlaskClient, db: Session) -> None:
    mentor, mentee, session = make_session(db, datetime.now(UTC) + timedelta(days=1))
    mentor_person = person(mentor.user, session.mentor_profile_id)  # the mentor's id is their profile's
    for caller in (mentor, mentee):
        booking = client.get(f"/api/v1/bookings/{session.booking_id}", headers=caller.headers).get_json()
        assert (booking["mentor"], booking["mentee"]) == (mentor_person, person(mentee.user))
        shown = client.get(f"/api/v1/sessions/{session.id}", headers=caller.headers).get_json()
        assert (shown["mentor"], shown["mentee"], shown["participants"]) == (mentor_person, person(mentee.user), None)
        (listed,) = client.get("/api/v1/sessions", headers=caller.headers).get_json()["items"]
        assert listed == shown
    profile = client.get(f"/api/v1/mentor-profiles/{session.mentor_profile_id}", headers=mentee.headers).get_json()
    assert profile["display_name"] == mentor.user.display_name and profile["avatar_url"] is None


def test_a_group_sessions_participants_are_shown_to_its_mentor_only(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=4)
    mentor = as_caller(listing.mentor_profile.user)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
    group = client.post(f"/api/v1/listings/{listing.id}/group-sessions", json={"start_time": start},
                        headers=mentor.headers).get_json()
    assert group["participants"] == [] and group["seats_taken"] == 0
    first, second = as_caller(UserFactory()), as_caller(UserFactory())
    for mentee in (first, second):
        seat = client.post(f"/api/v1/sessions/{group['id']}/join", headers=mentee.headers).get_json()
        assert seat["mentee"] == person(mentee.user)
    url = f"/api/v1/sessions/{group['id']}"
    theirs = client.get(url, headers=mentor.headers).get_json()
    by_id = sorted([person(first.user), person(second.user)], key=lambda p: p["id"])
    assert sorted(theirs["participants"], key=lambda p: p["id"]) == by_id
    assert (theirs["seats_taken"], theirs["mentee"]) == (2, None)
    assert client.get("/api/v1/sessions?role=mentor", headers=mentor.headers).get_json()["items"] == [theirs]
    for mentee, other in ((first, second), (second, first)):
        mine = client.get(url, headers=mentee.headers).get_json()
        assert (mine["participants"], mine["seats_taken"], mine["full"]) == (None, 2, False)
        assert str(other.user.id) not in json.dumps(mine) and other.user.display_name not in json.dumps(mine)
    # Cancelled by the mentor: the mentor still sees whose seats it ended.
    client.post(f"{url}/cancel", json={"reason": "ill"}, headers=mentor.headers)
    after = client.get(url, headers=mentor.headers).get_json()["participants"]
    assert sorted(after, key=lambda p: p["id"]) == by_id


def test_lists_read_names_in_batches_not_per_row(client: FlaskClient, db: Session, connection: Connection) -> None:
    listing = ListingFactory()
    mentor = as_caller(listing.mentor_profile.user)
    starts = (datetime(2031, 1, 6, 9, tzinfo=UTC) + timedelta(days=day) for day in range(100))

    def add_bookings(count: int) -> None:
        for _ in range(count):
            start = next(starts)
            booking = Booking(id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
                              mentee_user_id=UserFactory().id, start_time=start, end_time=start + timedelta(hours=1),
                              status=BookingStatus.ACCEPTED, price_cents=1,
                              currency="USD")
            db.add(booking)
            db.flush()
            session_flow.create_session_from_booking(db, booking.id)
            MentorProfileFactory()
        db.flush()

    def statements(url: str) -> int:
        with counting(connection) as count:
            response = client.get(url, headers=mentor.headers)
            assert response.status_code == 200
            return count()

    add_bookings(2)
    urls = ("/api/v1/bookings?role=mentor", "/api/v1/sessions?role=mentor", "/api/v1/mentor-profiles?limit=100")
    few = [statements(url) for url in urls]
    add_bookings(8)
    assert len(client.get(urls[0], headers=mentor.headers).get_json()["items"]) == 10
    assert [statements(url) for url in urls] == few


def test_no_response_of_a_booking_journey_shows_an_email(client: FlaskClient, db: Session) -> None:
    """Every JSON body of a journey (profiles, listings, bookings, sessions, reviews, notifications, group
    sessions), as each participant sees it: no email address of anyone, outside /me."""
    listing = ListingFactory(mentor_profile=MentorProfileFactory(avatar_url="https://images.example.com/m.png"))
    group_listing = ListingFactory(mentor_profile=listing.mentor_profile, kind=ListingKind.GROUP.value, capacity=5)
    mentor, mentee, other = as_caller(listing.mentor_profile.user), as_caller(UserFactory()), as_caller(UserFactory())
    people = (mentor, mentee, other)
    bodies: list[tuple[str, Any]] = []

    def call(method: str, url: str, caller: Caller, **kwargs: Any) -> Any:
        response = client.open(url, method=method, headers=caller.headers, **kwargs)
        assert response.status_code < 300, (method, url, response.get_json())
        body = response.get_json(silent=True)
        bodies.append((f"{method} {url}", body))
        return body

    soon = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0)
    listing.slot_step_minutes = 15  # the next quarter hour is one of its slots
    db.flush()
    start = (soon + timedelta(minutes=-soon.minute % 15)).isoformat()
    booking = call("POST", "/api/v1/bookings", mentee, json={"listing_id": str(listing.id), "start_time": start})
    call("POST", f"/api/v1/bookings/{booking['id']}/accept", mentor)
    session = session_flow.create_session_from_booking(db, uuid.UUID(booking["id"]))
    assert session is not None
    call("POST", f"/api/v1/sessions/{session.id}/start", mentee)
    call("POST", f"/api/v1/sessions/{session.id}/complete", mentor, json={"notes": "good"})
    group_start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0).isoformat()
    group = call("POST", f"/api/v1/listings/{group_listing.id}/group-sessions", mentor,
                 json={"start_time": group_start})
    for joiner in (mentee, other):
        call("POST", f"/api/v1/sessions/{group['id']}/join", joiner)
    for recorded in db.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at, OutboxEvent.id)):
        messages.handle_event(db, recorded)
        reviews.handle_event(db, recorded)
    call("POST", f"/api/v1/sessions/{session.id}/review", mentee, json={"rating": 5, "comment": "Thanks"})
    profile = listing.mentor_profile_id
    for caller in people:
        for url in ("/api/v1/bookings", f"/api/v1/bookings/{booking['id']}", "/api/v1/sessions",
                    f"/api/v1/sessions/{group['id']}", "/api/v1/mentor-profiles", f"/api/v1/mentor-profiles/{profile}",
                    f"/api/v1/mentor-profiles/{profile}/reviews", f"/api/v1/mentor-profiles/{profile}/stats",
                    "/api/v1/listings", f"/api/v1/listings/{listing.id}", "/api/v1/notifications"):
            if caller is other and url.startswith("/api/v1/bookings/"):
                continue  # not theirs: 404
            call("GET", url, caller)
        call("GET", f"/api/v1/sessions/{session.id}", caller) if caller is not other else None
    assert len(bodies) > 40
    assert any(body["items"] for url, body in bodies if url.endswith("/notifications"))
    emails = {caller.user.email for caller in people}
    for where, body in bodies:
        text = json.dumps(body)
        assert not [email for email in emails if email in text], where
        assert "@example.com" not in text, where
    # /me shows the caller's own email, and only there.
    assert client.get("/api/v1/me", headers=mentee.headers).get_json()["email"] == mentee.user.email
