from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from models import AvailabilityWindow, Booking, CalendarConnection, ConnectionStatus, ListingKind, OutboxEvent
from tests.api_calls import future, iso, post_accept, request_booking
from tests.database import counting
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from workflows.sessions import lifecycle as session_flow


@pytest.fixture
def parties(db: Session) -> tuple[Caller, Caller, uuid.UUID]:
    listing = ListingFactory()
    return as_caller(listing.mentor_profile.user), as_caller(UserFactory()), listing.id


def test_request_accept_and_see_session_id(client: FlaskClient, db: Session, parties: tuple) -> None:
    mentor, mentee, listing_id = parties
    status, booking = request_booking(client, mentee, listing_id, future())
    assert status == 201
    assert (booking["status"], booking["session_id"], booking["price_cents"]) == ("draft", None, 5000)
    assert booking["end_time"] == (future() + timedelta(hours=1)).isoformat()
    url = f"/api/v1/bookings/{booking['id']}"
    assert client.post(f"{url}/accept", headers=mentee.headers).status_code == 403
    assert client.get(url, headers=as_caller(UserFactory()).headers).status_code == 404
    accepted = client.post(f"{url}/accept", headers=mentor.headers)
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    again = client.post(f"{url}/accept", headers=mentor.headers)
    assert again.status_code == 400 and again.get_json()["message"] == "cannot accept a booking that is accepted"
    assert client.post(f"{url}/decline", headers=mentor.headers).status_code == 400

    session = session_flow.create_session_from_booking(db, uuid.UUID(booking["id"]))
    assert session is not None
    assert client.get(url, headers=mentee.headers).get_json()["session_id"] == str(session.id)
    assert session_flow.create_session_from_booking(db, uuid.UUID(booking["id"])) is None


def test_request_rules(client: FlaskClient, db: Session, parties: tuple) -> None:
    mentor, mentee, listing_id = parties
    assert request_booking(client, mentor, listing_id, future())[0] == 400  # own listing
    status, body = request_booking(client, mentee, listing_id, datetime.now(UTC) - timedelta(minutes=1))
    assert status == 400 and "future" in body["message"]
    group = ListingFactory(kind=ListingKind.GROUP.value, capacity=5)
    assert request_booking(client, mentee, group.id, future())[0] == 400
    assert request_booking(client, mentee, uuid.uuid4(), future())[0] == 404
    response = client.post("/api/v1/bookings", json={"listing_id": str(listing_id), "start_time": "2030-01-01T10:00"},
                           headers=mentee.headers)
    assert response.status_code == 422  # no offset
    assert db.scalar(select(func.count()).select_from(Booking)) == 0


def _next(weekday: int, month: int) -> datetime:
    """A future date in ``month`` falling on ``weekday``."""
    year = datetime.now(UTC).year + 1
    day = datetime(year, month, 1, tzinfo=UTC)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def test_availability_windows_in_mentor_timezone_across_dst(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory(timezone="Europe/Paris")
    profile.availability.append(AvailabilityWindow(id=uuid.uuid4(), weekday=0, start_minute=9 * 60,
                                                   end_minute=12 * 60))
    listing = ListingFactory(mentor_profile=profile)
    mentee = as_caller(UserFactory())
    winter_monday, summer_monday = _next(0, 1), _next(0, 7)
    # 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer.
    assert request_booking(client, mentee, listing.id, winter_monday.replace(hour=8))[0] == 201
    assert request_booking(client, mentee, listing.id, summer_monday.replace(hour=7))[0] == 201
    # Outside the mentor's hours: 409 naming the rule, as every scheduling rule's refusal.
    assert request_booking(client, mentee, listing.id, summer_monday.replace(hour=10))[0] == 409  # 12:00-13:00
    status, body = request_booking(client, mentee, listing.id, winter_monday.replace(hour=7))
    assert status == 409 and "Europe/Paris" in body["message"] and body["errors"]["rule"] == "hours"
    assert request_booking(client, mentee, listing.id, (winter_monday + timedelta(days=1)).replace(hour=8))[0] == 409


def test_accepting_an_overlapping_draft_is_409_for_the_system_declined_it(
        client: FlaskClient, db: Session, parties: tuple) -> None:
    mentor, mentee, listing_id = parties
    assert client.patch(f"/api/v1/listings/{listing_id}", json={"slot_step_minutes": 30},
                        headers=mentor.headers).status_code == 200  # half past is one of its slots
    first = request_booking(client, mentee, listing_id, future())[1]
    second = request_booking(client, as_caller(UserFactory()), listing_id, future() + timedelta(minutes=30))[1]
    adjacent = request_booking(client, mentee, listing_id, future() + timedelta(hours=1))[1]
    assert client.post(f"/api/v1/bookings/{first['id']}/accept", headers=mentor.headers).status_code == 200
    # The accept declined the overlapping request at once (it once stayed a draft until it expired).
    declined = client.get(f"/api/v1/bookings/{second['id']}", headers=mentor.headers).get_json()
    assert (declined["status"], declined["decline_reason"]) == (
        "declined", "the mentor accepted another request for this time")
    response = client.post(f"/api/v1/bookings/{second['id']}/accept", headers=mentor.headers)
    assert response.status_code == 409 and response.get_json()["message"] == (
        "this request was declined by the system: the mentor accepted another request for this time")
    assert client.post(f"/api/v1/bookings/{adjacent['id']}/accept", headers=mentor.headers).status_code == 200


def test_decline_and_cancel_drafts(client: FlaskClient, db: Session, parties: tuple) -> None:
    mentor, mentee, listing_id = parties
    first = request_booking(client, mentee, listing_id, future())[1]
    declined = client.post(f"/api/v1/bookings/{first['id']}/decline", json={"reason": "away"},
                           headers=mentor.headers)
    assert declined.status_code == 200 and declined.get_json()["decline_reason"] == "away"
    second = request_booking(client, mentee, listing_id, future(days=8))[1]
    assert client.post(f"/api/v1/bookings/{second['id']}/cancel", headers=mentor.headers).status_code == 403
    cancelled = client.post(f"/api/v1/bookings/{second['id']}/cancel", headers=mentee.headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    events = db.scalars(select(OutboxEvent.type).order_by(OutboxEvent.created_at)).all()
    assert sorted(events) == sorted(["booking.requested", "booking.declined", "booking.requested",
                                     "booking.cancelled"])


def test_idempotency_key_replays_and_refuses_other_bodies(client: FlaskClient, db: Session, parties: tuple) -> None:
    _mentor, mentee, listing_id = parties
    first = client.post("/api/v1/bookings", json={"listing_id": str(listing_id), "start_time": iso(future())},
                        headers={**mentee.headers, "Idempotency-Key": "k-1"})
    replay = client.post("/api/v1/bookings", json={"listing_id": str(listing_id), "start_time": iso(future())},
                         headers={**mentee.headers, "Idempotency-Key": "k-1"})
    assert first.status_code == replay.status_code == 201
    assert replay.get_json() == first.get_json() and replay.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/bookings", json={"listing_id": str(listing_id), "start_time": iso(future(days=9))},
                        headers={**mentee.headers, "Idempotency-Key": "k-1"})
    assert other.status_code == 422
    # Keys are per caller: another mentee's k-1 is a new request.
    someone = as_caller(UserFactory())
    assert request_booking(client, someone, listing_id, future(), **{"Idempotency-Key": "k-1"})[0] == 201
    assert db.scalar(select(func.count()).select_from(Booking)) == 2


def test_list_bookings_by_role_and_status(client: FlaskClient, db: Session, parties: tuple) -> None:
    mentor, mentee, listing_id = parties
    ids = [request_booking(client, mentee, listing_id, future(days=d))[1]["id"] for d in (3, 4, 5)]
    # One test transaction gives every row the same now(); spread creation times as real requests would.
    for minutes, booking_id in enumerate(ids):
        db.execute(update(Booking).where(Booking.id == uuid.UUID(booking_id))
                   .values(created_at=func.now() + timedelta(minutes=minutes)))
    client.post(f"/api/v1/bookings/{ids[0]}/accept", headers=mentor.headers)
    as_mentee = client.get("/api/v1/bookings?role=mentee&limit=2", headers=mentee.headers).get_json()
    assert [b["id"] for b in as_mentee["items"]] == [ids[2], ids[1]]  # newest first
    rest = client.get(f"/api/v1/bookings?role=mentee&limit=2&cursor={as_mentee['next_cursor']}",
                      headers=mentee.headers).get_json()
    assert [b["id"] for b in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    accepted = client.get("/api/v1/bookings?role=mentor&status=accepted", headers=mentor.headers).get_json()
    assert [b["id"] for b in accepted["items"]] == [ids[0]]
    assert client.get("/api/v1/bookings?role=mentor", headers=mentee.headers).get_json()["items"] == []
    assert client.get("/api/v1/bookings?status=bogus", headers=mentee.headers).status_code == 422


def test_the_booking_policy_in_force_is_stated_to_signed_in_users(
    client: FlaskClient, db: Session, session_factory: sessionmaker[Session],
) -> None:
    caller = as_caller(UserFactory())
    assert client.get("/api/v1/bookings/policy", headers=caller.headers).get_json() == {
        "min_notice_minutes": 0, "start_early_minutes": 15, "cancellation_window_hours": 24,
        "cancellation_fee_percent": 50, "max_reschedules_per_booking": 2, "reschedule_fee_cents": 0,
        "reschedule_request_ttl_hours": 48, "no_show_grace_minutes": 10, "no_show_dispute_hours": 48}
    assert client.get("/api/v1/bookings/policy").status_code == 401
    # What the service is configured with, not the defaults.
    from api import create_app

    strict = dataclasses.replace(get_settings(), cancellation_window_hours=48, cancellation_fee_percent=100,
                                 min_notice_minutes=120, start_early_minutes=5, max_reschedules_per_booking=1,
                                 no_show_grace_minutes=5)
    stated = create_app(strict, session_factory=session_factory).test_client().get(
        "/api/v1/bookings/policy", headers=caller.headers).get_json()
    assert stated == {"min_notice_minutes": 120, "start_early_minutes": 5, "cancellation_window_hours": 48,
                      "cancellation_fee_percent": 100, "max_reschedules_per_booking": 1, "reschedule_fee_cents": 0,
                      "reschedule_request_ttl_hours": 48, "no_show_grace_minutes": 5, "no_show_dispute_hours": 48}


def test_a_series_accept_reads_a_fresh_calendar_with_its_turns_and_answers_with_what_it_read(
        client: FlaskClient, db: Session, connection: Connection, parties: tuple) -> None:
    mentor, mentee, listing_id = parties
    db.add(CalendarConnection(id=uuid.uuid4(), mentor_profile_id=mentor.user.mentor_profile.id, kind="ics",
                              host="calendar.example.com", credentials="sealed", status=ConnectionStatus.ACTIVE,
                              synced_at=datetime.now(UTC) - timedelta(minutes=1)))
    db.commit()
    made = client.post("/api/v1/booking-series", headers=mentee.headers, json={
        "listing_id": str(listing_id), "first_start": iso(future()), "every": 1, "count": 3})
    assert made.status_code == 201, made.get_json()
    read: list[str] = []

    def seen(*args: object) -> None:
        read.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", seen)
    try:
        accepted = client.post(f"/api/v1/booking-series/{made.get_json()['id']}/accept", headers=mentor.headers)
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert accepted.status_code == 200, accepted.get_json()
    assert sum("calendar_connections" in text for text in read) == 1  # the turns' statement reads them
    # The answer shows the times the accept locked and the names its turns read: neither is read again.
    assert sum("bookings.series_id" in text for text in read) == 2  # its first pending time, its times locked
    assert not [text for text in read if "AS kind" in text]  # no query of names
    answer = accepted.get_json()
    assert (answer["accepted_count"], len(answer["occurrences"])) == (3, 3)
    assert (answer["mentor"]["display_name"], answer["mentee"]["display_name"]) == (
        mentor.user.display_name, mentee.user.display_name)


def test_an_accept_is_six_statements_and_reads_a_fresh_calendar_with_its_locks(
        client: FlaskClient, db: Session, connection: Connection, parties: tuple) -> None:
    # Who signed in, then the accept's turn with the mentor's calendars and the answer's names, the booking, the
    # rules' check, the update and the event (here between the test's savepoint and its release, where a request
    # begins and commits): a calendar read a minute ago costs no statement of its own.
    mentor, mentee, listing_id = parties
    synced = datetime.now(UTC) - timedelta(minutes=1)
    db.add(CalendarConnection(id=uuid.uuid4(), mentor_profile_id=mentor.user.mentor_profile.id, kind="ics",
                              host="calendar.example.com", credentials="sealed", status=ConnectionStatus.ACTIVE,
                              synced_at=synced))
    db.commit()
    _, booking = request_booking(client, mentee, listing_id, future())
    with counting(connection) as count:
        accepted = post_accept(client, mentor, booking["id"])
        assert count() == 2 + 6
    assert accepted.status_code == 200, accepted.get_json()
    assert datetime.fromisoformat(accepted.headers["Calendar-Synced-At"]) == synced
    assert accepted.get_json()["mentee"]["display_name"] == mentee.user.display_name
