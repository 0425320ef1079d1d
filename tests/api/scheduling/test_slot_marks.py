"""Free slots as their viewer sees them (times they cannot take, times others asked for), requests that collide,
and the first free time of a listing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, TimeOff
from tests.api_calls import future, iso, request_booking
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory


def slots_of(client: FlaskClient, caller: object, listing_id: uuid.UUID, day: datetime) -> dict[int, dict]:
    """The day's slots by UTC hour."""
    url = f"/api/v1/listings/{listing_id}/slots?from={iso(day)}&to={iso(day + timedelta(days=1))}"
    response = client.get(url, headers=caller.headers)  # type: ignore[attr-defined]
    assert response.status_code == 200
    return {datetime.fromisoformat(s["start_time"]).hour: s for s in response.get_json()["items"]}


def test_a_slot_the_viewer_already_has_a_meeting_in_is_marked_busy_for_them_only(client: FlaskClient,
                                                                                   db: Session) -> None:
    listing, elsewhere = ListingFactory(), ListingFactory()  # no windows: bookable at any time
    alex, bo = UserFactory(), UserFactory()
    day = future(days=9, hour=0)
    db.add(Booking(id=uuid.uuid4(), listing_id=elsewhere.id, mentor_profile_id=elsewhere.mentor_profile_id,
                   mentee_user_id=alex.id, start_time=day.replace(hour=10, minute=30),
                   end_time=day.replace(hour=11, minute=30), status=BookingStatus.ACCEPTED, price_cents=1,
                   currency="USD"))
    db.flush()
    for_alex = slots_of(client, as_caller(alex), listing.id, day)
    assert [h for h, s in sorted(for_alex.items()) if s["viewer_busy"]] == [10, 11]
    assert not any(s["viewer_busy"] for s in slots_of(client, as_caller(bo), listing.id, day).values())
    # The other listing's mentor is busy then too, as a mentor: their own bookings count for them.
    as_mentor = slots_of(client, as_caller(elsewhere.mentor_profile.user), listing.id, day)
    assert [h for h, s in sorted(as_mentor.items()) if s["viewer_busy"]] == [10, 11]
    # And the request it marks is the one the API refuses.
    status, body = request_booking(client, as_caller(alex), listing.id, day.replace(hour=10))
    assert status == 409, body


def test_others_requests_are_counted_on_the_slot_and_on_each_colliding_request(client: FlaskClient,
                                                                                 db: Session) -> None:
    listing = ListingFactory()
    mentor, alex, bo, cy = (as_caller(u) for u in (listing.mentor_profile.user, UserFactory(), UserFactory(),
                                                     UserFactory()))
    day = future(days=9, hour=0)
    status, alexs = request_booking(client, alex, listing.id, day.replace(hour=12))
    assert status == 201 and alexs["competing_requests"] == 0
    # Bo sees that someone (not who) asked for 12:00, and only that slot; Alex does not count himself.
    for_bo = slots_of(client, bo, listing.id, day)
    assert {h: s["requested_by_others"] for h, s in for_bo.items() if s["requested_by_others"]} == {12: 1}
    assert not any(s["requested_by_others"] for s in slots_of(client, alex, listing.id, day).values())
    status, bos = request_booking(client, bo, listing.id, day.replace(hour=12))
    assert status == 201 and bos["competing_requests"] == 1
    assert "alex" not in str(bos).lower() and alexs["mentee"]["display_name"] not in str(bos)
    # A request at another time collides with neither.
    status, cys = request_booking(client, cy, listing.id, day.replace(hour=14))
    assert status == 201 and cys["competing_requests"] == 0
    pending = client.get("/api/v1/bookings?role=mentor&status=draft", headers=mentor.headers).get_json()["items"]
    assert {b["id"]: b["competing_requests"] for b in pending} == {alexs["id"]: 1, bos["id"]: 1, cys["id"]: 0}
    # The mentor accepts Alex: Bo's request is declined, and nothing collides any more.
    assert client.post(f"/api/v1/bookings/{alexs['id']}/accept", headers=mentor.headers).status_code == 200
    bo_now = client.get(f"/api/v1/bookings/{bos['id']}", headers=bo.headers).get_json()
    assert (bo_now["status"], bo_now["competing_requests"]) == ("declined", 0)
    assert client.get(f"/api/v1/bookings/{alexs['id']}", headers=alex.headers).get_json()["competing_requests"] == 0


def test_the_first_free_time_is_found_beyond_one_range_and_within_the_horizon(client: FlaskClient,
                                                                            db: Session) -> None:
    listing = ListingFactory()  # no windows: any time, on the hour
    caller = as_caller(UserFactory())
    now = datetime.now(UTC)
    away_until = (now + timedelta(days=100)).replace(minute=0, second=0, microsecond=0)
    db.add(TimeOff(id=uuid.uuid4(), mentor_profile_id=listing.mentor_profile_id, start_time=now - timedelta(days=1),
                   end_time=away_until))
    db.flush()
    url = f"/api/v1/listings/{listing.id}/slots/first"
    first = client.get(url, headers=caller.headers)
    assert first.status_code == 200
    assert first.get_json()["slot"]["start_time"] == away_until.isoformat()
    later = client.get(f"{url}?from={iso(away_until + timedelta(days=3, minutes=5))}", headers=caller.headers)
    assert later.get_json()["slot"]["start_time"] == (away_until + timedelta(days=3, hours=1)).isoformat()
    # Inside a 30-day horizon there is none.
    listing.max_days_ahead = 30
    db.flush()
    assert client.get(url, headers=caller.headers).get_json() == {"slot": None}
    assert client.get(f"{url}?from=soon", headers=caller.headers).status_code == 422
    assert client.get(f"{url}?from=2098-12-31T00:00:00Z", headers=caller.headers).get_json() == {"slot": None}
    assert client.get(f"/api/v1/listings/{uuid.uuid4()}/slots/first", headers=caller.headers).status_code == 404
    assert client.get(url).status_code == 401
