from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, ListingKind, Notification, OutboxEvent
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from workflows.notifications import messages


def start_at(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0).isoformat()


def test_schedule_join_until_full_then_run_the_session(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=2)
    mentor = as_caller(listing.mentor_profile.user)
    created = client.post(f"/api/v1/listings/{listing.id}/group-sessions", json={"start_time": start_at(48)},
                          headers=mentor.headers)
    assert created.status_code == 201
    session = created.get_json()
    assert (session["kind"], session["capacity"], session["seats_taken"], session["seats_left"], session["full"]) \
        == ("group", 2, 0, 2, False)
    first, second, third = (as_caller(UserFactory()) for _ in range(3))
    joined = client.post(f"/api/v1/sessions/{session['id']}/join", headers=first.headers)
    assert joined.status_code == 201 and joined.get_json()["status"] == "accepted"
    assert client.post(f"/api/v1/sessions/{session['id']}/join", headers=first.headers).status_code == 409
    assert client.post(f"/api/v1/sessions/{session['id']}/join", headers=second.headers).status_code == 201
    full = client.post(f"/api/v1/sessions/{session['id']}/join", headers=third.headers)
    assert full.status_code == 409 and "full" in full.get_json()["message"]
    view = client.get(f"/api/v1/sessions/{session['id']}", headers=first.headers).get_json()
    assert (view["seats_taken"], view["full"]) == (2, True)
    assert client.get(f"/api/v1/sessions/{session['id']}", headers=third.headers).status_code == 404
    mine = client.get("/api/v1/sessions?role=mentee", headers=second.headers).get_json()["items"]
    assert [s["id"] for s in mine] == [session["id"]]
    # A mentee's cancellation gives up their seat; the session goes on.
    left = client.post(f"/api/v1/sessions/{session['id']}/cancel", json={"reason": "ill"}, headers=second.headers)
    assert left.status_code == 200 and (left.get_json()["status"], left.get_json()["seats_taken"]) == ("scheduled", 1)
    assert client.post(f"/api/v1/sessions/{session['id']}/join", headers=third.headers).status_code == 201


def test_group_completion_fans_out_to_every_participant(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=5)
    mentor = as_caller(listing.mentor_profile.user)
    soon = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0).isoformat()
    session = client.post(f"/api/v1/listings/{listing.id}/group-sessions", json={"start_time": soon},
                          headers=mentor.headers).get_json()
    mentees = [as_caller(UserFactory()) for _ in range(3)]
    for mentee in mentees:
        assert client.post(f"/api/v1/sessions/{session['id']}/join", headers=mentee.headers).status_code == 201
    assert client.post(f"/api/v1/sessions/{session['id']}/start", headers=mentees[0].headers).status_code == 200
    assert client.post(f"/api/v1/sessions/{session['id']}/complete", headers=mentees[1].headers).status_code == 403
    assert client.post(f"/api/v1/sessions/{session['id']}/complete", headers=mentor.headers).status_code == 200
    event = db.scalars(select(OutboxEvent).where(OutboxEvent.type == "session.completed")).one()
    assert sorted(event.payload["mentee_user_ids"]) == sorted(str(m.user.id) for m in mentees)
    # No individual session is ever created from a seat's booking.
    seats = db.scalars(select(Booking).where(Booking.group_session_id == uuid.UUID(session["id"]))).all()
    assert {seat.status for seat in seats} == {BookingStatus.ACCEPTED}


def test_group_sessions_never_overlap_the_mentors_other_commitments(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=5)
    mentor = as_caller(listing.mentor_profile.user)
    individual = ListingFactory(mentor_profile=listing.mentor_profile)
    url = f"/api/v1/listings/{listing.id}/group-sessions"
    mentee = as_caller(UserFactory())
    # A draft made before the group session was scheduled cannot be accepted over it.
    booking = client.post("/api/v1/bookings", headers=mentee.headers,
                          json={"listing_id": str(individual.id), "start_time": start_at(72)}).get_json()
    assert client.post(url, json={"start_time": start_at(72)}, headers=mentor.headers).status_code == 201
    overlap = client.post(url, json={"start_time": start_at(72)}, headers=mentor.headers)
    assert overlap.status_code == 409
    refused = client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=mentor.headers)
    assert refused.status_code == 409 and "group session" in refused.get_json()["message"]
    # A new request for that time is refused at once (from another mentee: this one's request is pending).
    late = client.post("/api/v1/bookings", headers=as_caller(UserFactory()).headers,
                       json={"listing_id": str(individual.id), "start_time": start_at(72)})
    # The mentee is not told what holds the mentor then: it is the mentor's.
    assert late.status_code == 409 and late.get_json()["errors"] == {"rule": "unavailable"}
    other = client.post("/api/v1/bookings", headers=mentee.headers,
                        json={"listing_id": str(individual.id), "start_time": start_at(96)}).get_json()
    assert client.post(f"/api/v1/bookings/{other['id']}/accept", headers=mentor.headers).status_code == 200
    assert client.post(url, json={"start_time": start_at(96)}, headers=mentor.headers).status_code == 409
    assert client.post(f"/api/v1/listings/{individual.id}/group-sessions", json={"start_time": start_at(120)},
                       headers=mentor.headers).status_code == 400
    assert client.post(url, json={"start_time": start_at(120)},
                       headers=mentee.headers).status_code == 403


def test_a_mentor_cancelling_a_group_session_tells_every_participant_who_can_still_read_it(
        client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=5)
    mentor = as_caller(listing.mentor_profile.user)
    session = client.post(f"/api/v1/listings/{listing.id}/group-sessions", json={"start_time": start_at(48)},
                          headers=mentor.headers).get_json()
    mentees = [as_caller(UserFactory()) for _ in range(3)]
    for mentee in mentees:
        assert client.post(f"/api/v1/sessions/{session['id']}/join", headers=mentee.headers).status_code == 201
    cancelled = client.post(f"/api/v1/sessions/{session['id']}/cancel", json={"reason": "mentor ill"},
                            headers=mentor.headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    event = db.scalars(select(OutboxEvent).where(OutboxEvent.type == "session.cancelled")).one()
    assert sorted(event.payload["mentee_user_ids"]) == sorted(str(m.user.id) for m in mentees)
    messages.handle_event(db, event)  # as the notifications worker does
    told = db.scalars(select(Notification.user_id).where(Notification.type == "session.cancelled")).all()
    assert sorted(told) == sorted([m.user.id for m in mentees] + [mentor.user.id])
    for mentee in mentees:
        seen = client.get(f"/api/v1/sessions/{session['id']}", headers=mentee.headers)
        assert seen.status_code == 200 and seen.get_json()["status"] == "cancelled"
        listed = client.get("/api/v1/sessions?role=mentee", headers=mentee.headers).get_json()["items"]
        assert [s["id"] for s in listed] == [session["id"]]
    assert client.get(f"/api/v1/sessions/{session['id']}", headers=as_caller(UserFactory()).headers
                      ).status_code == 404
    refused = client.post(f"/api/v1/sessions/{session['id']}/join", headers=as_caller(UserFactory()).headers)
    assert refused.status_code == 400


def test_anyone_sees_a_listings_open_group_sessions_with_their_seats(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=2)
    mentor = as_caller(listing.mentor_profile.user)
    later, sooner = (client.post(f"/api/v1/listings/{listing.id}/group-sessions", json={"start_time": start_at(h)},
                                 headers=mentor.headers).get_json() for h in (72, 48))
    stranger = as_caller(UserFactory())
    assert client.post(f"/api/v1/sessions/{sooner['id']}/join", headers=stranger.headers).status_code == 201
    cancelled = client.post(f"/api/v1/sessions/{later['id']}/cancel", json={"reason": "ill"}, headers=mentor.headers)
    assert cancelled.status_code == 200
    response = client.get(f"/api/v1/listings/{listing.id}/group-sessions", headers=as_caller(UserFactory()).headers)
    assert response.status_code == 200
    (only,) = response.get_json()["items"]
    assert (only["id"], only["seats_taken"], only["capacity"], only["full"]) == (sooner["id"], 1, 2, False)
    assert "notes" not in only and "meeting_url" not in only  # what anyone sees: time and seats only
    missing = client.get(f"/api/v1/listings/{uuid.uuid4()}/group-sessions", headers=stranger.headers)
    assert missing.status_code == 404
