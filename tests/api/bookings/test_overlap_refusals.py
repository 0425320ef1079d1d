"""No impossible requests: a time the mentor or the mentee is already committed at is refused at once,
and a mentee never holds two accepted bookings (seats included) that overlap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Booking, ListingKind
from tests.api_calls import post_accept, post_booking
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory

T = (datetime.now(UTC) + timedelta(days=5)).replace(hour=10, minute=0, second=0, microsecond=0)


def bookings_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Booking)) or 0


def test_requesting_a_time_the_mentor_has_accepted_is_409_at_once(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(slot_step_minutes=30)
    mentor = as_caller(listing.mentor_profile.user)
    first = post_booking(client, as_caller(UserFactory()), listing.id, T).get_json()
    assert post_accept(client, mentor, first["id"]).status_code == 200
    before = bookings_count(db)
    refused = post_booking(client, as_caller(UserFactory()), listing.id, T + timedelta(minutes=30))
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["message"] == "the mentor is not available at that time"  # another's booking
    assert bookings_count(db) == before
    # Drafts do not hold the slot, and adjacent times are free.
    assert post_booking(client, as_caller(UserFactory()), listing.id, T + timedelta(hours=1)).status_code == 201
    assert post_booking(client, as_caller(UserFactory()), listing.id, T + timedelta(hours=1)).status_code == 201


def test_a_mentee_with_an_accepted_booking_cannot_request_that_time_elsewhere(client: FlaskClient, db: Session
                                                                            ) -> None:
    mentee = as_caller(UserFactory())
    first, second = ListingFactory(), ListingFactory(slot_step_minutes=15)
    booking = post_booking(client, mentee, first.id, T).get_json()
    assert post_accept(client, as_caller(first.mentor_profile.user), booking["id"]).status_code == 200
    before = bookings_count(db)
    refused = post_booking(client, mentee, second.id, T + timedelta(minutes=15))
    assert refused.status_code == 409 and "you already have" in refused.get_json()["message"]
    assert bookings_count(db) == before
    assert post_booking(client, mentee, second.id, T - timedelta(hours=1)).status_code == 201


def test_accepting_the_second_of_a_mentees_overlapping_requests_is_409(client: FlaskClient, db: Session) -> None:
    mentee = as_caller(UserFactory())
    first, second = ListingFactory(), ListingFactory(slot_step_minutes=30)
    one = post_booking(client, mentee, first.id, T).get_json()
    other = post_booking(client, mentee, second.id, T + timedelta(minutes=30)).get_json()
    assert post_accept(client, as_caller(first.mentor_profile.user), one["id"]).status_code == 200
    # The first accept withdrew the mentee's other request for that hour (it once stayed a draft).
    after = client.get(f"/api/v1/bookings/{other['id']}", headers=mentee.headers).get_json()
    assert (after["status"], after["cancel_reason"]) == ("cancelled", "you have a session at this time")
    refused = post_accept(client, as_caller(second.mentor_profile.user), other["id"])
    assert refused.status_code == 409
    assert refused.get_json()["message"] == "this request was withdrawn by the system: you have a session at this time"


def test_a_seat_in_a_group_session_counts_for_the_mentee(client: FlaskClient, db: Session) -> None:
    mentee = as_caller(UserFactory())
    individual = ListingFactory()
    early_draft = post_booking(client, mentee, individual.id, T).get_json()
    group = ListingFactory(kind=ListingKind.GROUP.value, capacity=5)
    session = client.post(f"/api/v1/listings/{group.id}/group-sessions", json={"start_time": T.isoformat()},
                          headers=as_caller(group.mentor_profile.user).headers).get_json()
    assert client.post(f"/api/v1/sessions/{session['id']}/join", headers=mentee.headers).status_code == 201
    # Requesting, or accepting a draft made before, over the seat is refused.
    refused = post_booking(client, mentee, ListingFactory(slot_step_minutes=30).id, T + timedelta(minutes=30))
    assert refused.status_code == 409 and "seat" in refused.get_json()["message"]
    assert post_accept(client, as_caller(individual.mentor_profile.user), early_draft["id"]).status_code == 409
    # And a seat over an accepted booking is refused too.
    other = as_caller(UserFactory())
    booking = post_booking(client, other, individual.id, T).get_json()
    assert post_accept(client, as_caller(individual.mentor_profile.user), booking["id"]).status_code == 200
    join = client.post(f"/api/v1/sessions/{session['id']}/join", headers=other.headers)
    assert join.status_code == 409
    assert join.get_json()["message"] == "you already have an accepted booking or a seat at this time"
    seats = client.get(f"/api/v1/sessions/{session['id']}", headers=mentee.headers).get_json()["seats_taken"]
    assert seats == 1
