"""What waits for someone (`GET /me/waiting`): moves the other side asked them to answer, places in line and seats
offered, requests to answer; each counted on the side that must act, and no one else's."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from models import MentorProfile, WaitlistEntry, WaitlistStatus
from tests.api_calls import future, iso, request_booking
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.factories.programmes import BASE, joined, running_programme
from tests.factories.sessions import group_session
from workflows.clock import utcnow

URL = "/api/v1/me/waiting"


def test_a_move_asked_of_someone_waits_for_them_and_no_one_else(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(title="Code review")
    mentor, mentee, stranger = (as_caller(u) for u in (listing.mentor_profile.user, UserFactory(), UserFactory()))
    _, booking = request_booking(client, mentee, listing.id, future(days=3))
    _, other = request_booking(client, as_caller(UserFactory()), listing.id, future(days=4))
    assert client.get(URL, headers=mentor.headers).get_json()["requests_to_answer"] == 2
    client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=mentor.headers)
    nothing = client.get(URL, headers=mentee.headers).get_json()
    assert (nothing["moves"], nothing["for_mentee"], nothing["for_mentor"]) == ([], 0, 0)

    asked = client.post(f"/api/v1/bookings/{booking['id']}/request-reschedule", json={"reason": "Travel"},
                        headers=mentor.headers).get_json()
    waiting = client.get(URL, headers=mentee.headers).get_json()
    (move,) = waiting["moves"]
    assert (move["proposal"]["id"], move["proposal"]["kind"], move["answer_as"], move["listing_title"]) == (
        asked["id"], "request", "mentee", "Code review")
    assert (move["booking_id"], move["other"]["display_name"]) == (booking["id"], listing.mentor_profile.user
                                                                   .display_name)
    assert waiting["for_mentee"] == 1
    # The mentor asked: it waits for the mentee, not for them; a stranger sees nothing.
    for_mentor = client.get(URL, headers=mentor.headers).get_json()
    assert (for_mentor["moves"], for_mentor["requests_to_answer"], for_mentor["for_mentor"]) == ([], 1, 1)
    assert client.get(URL, headers=stranger.headers).get_json()["moves"] == []
    assert client.get(URL).status_code == 401

    # Answered, it waits no more; a move the mentee proposes then waits for the mentor.
    client.post(f"/api/v1/reschedule-proposals/{asked['id']}/decline", headers=mentee.headers)
    assert client.get(URL, headers=mentee.headers).get_json()["moves"] == []
    client.post(f"/api/v1/bookings/{other['id']}/decline", json={}, headers=mentor.headers)
    _, again = request_booking(client, mentee, listing.id, future(days=5))
    client.post(f"/api/v1/bookings/{again['id']}/accept", headers=mentor.headers)
    client.post(f"/api/v1/bookings/{again['id']}/reschedule-proposals",
                json={"start_times": [iso(future(days=6))]}, headers=mentee.headers)
    for_mentor = client.get(URL, headers=mentor.headers).get_json()
    assert ([m["answer_as"] for m in for_mentor["moves"]], for_mentor["for_mentor"]) == (["mentor"], 1)
    assert client.get(URL, headers=mentee.headers).get_json()["for_mentee"] == 0


def test_places_in_line_and_seats_offered_are_listed_with_their_position(client: FlaskClient, db: Session) -> None:
    session, _ = group_session(db, future(days=5), seats=5)  # full
    ada, bo = as_caller(UserFactory()), as_caller(UserFactory())
    for caller in (bo, ada):
        assert client.post(f"/api/v1/sessions/{session.id}/waitlist", json={},
                           headers=caller.headers).status_code == 201
    (place,) = client.get(URL, headers=ada.headers).get_json()["waitlist"]
    assert (place["session_id"], place["listing_title"], place["status"], place["position"]) == (
        str(session.id), "Design clinic", "waiting", 2)
    assert client.get(URL, headers=ada.headers).get_json()["for_mentee"] == 0  # nothing to do yet
    expires = utcnow() + timedelta(hours=2)
    db.execute(update(WaitlistEntry).where(WaitlistEntry.user_id == ada.user.id)
               .values(status=WaitlistStatus.OFFERED, offered_at=utcnow(), offer_expires_at=expires))
    db.flush()
    waiting = client.get(URL, headers=ada.headers).get_json()
    assert (waiting["waitlist"][0]["status"], waiting["waitlist"][0]["position"], waiting["for_mentee"]) == (
        "offered", None, 1)
    assert client.get(URL, headers=bo.headers).get_json()["waitlist"][0]["position"] == 1


def test_the_requests_count_is_what_the_requests_page_lists_a_series_and_a_proposed_pairing_once_each(
        client: FlaskClient, db: Session) -> None:
    """The menu's count once counted every time of a series (a proposed pairing's six sessions were six): it counts
    each request the Requests page lists, a series as one, and a pairing's series names its programme."""
    coordinator, programme = running_programme(client, session_count=6)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor", capacity=2)
    _, mentee_id = joined(client, coordinator, programme, "mentee")
    made = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers,
                       json={"mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id})
    assert made.status_code == 201, made.get_json()
    waiting = client.get(URL, headers=mentor.headers).get_json()
    assert (waiting["requests_to_answer"], waiting["for_mentor"]) == (1, 1)
    (listed,) = client.get("/api/v1/booking-series?role=mentor&status=requested", headers=mentor.headers
                           ).get_json()["items"]
    assert len([t for t in listed["occurrences"] if t["status"] == "draft"]) == 6
    assert listed["pairing"] == {"id": made.get_json()["id"], "programme_id": programme["id"],
                                 "programme_name": programme["name"], "asked_by_mentee": False}
    # A request of one time beside it: two to answer; the series' own page names the pairing too.
    own = ListingFactory(mentor_profile=db.get(MentorProfile, uuid.UUID(listed["mentor_profile_id"])),
                         title="Office hour")
    status, body = request_booking(client, as_caller(UserFactory()), own.id, future(days=9))
    assert (status, body["status"]) == (201, "draft"), body
    assert client.get(URL, headers=mentor.headers).get_json()["requests_to_answer"] == 2
    assert client.get(f"/api/v1/booking-series/{listed['id']}", headers=mentor.headers
                      ).get_json()["pairing"]["id"] == made.get_json()["id"]
    # Accepted, the series waits no more; the pairing is active.
    accepted = client.post(f"/api/v1/booking-series/{listed['id']}/accept", headers=mentor.headers)
    assert accepted.status_code == 200, accepted.get_json()
    assert client.get(URL, headers=mentor.headers).get_json()["requests_to_answer"] == 1
