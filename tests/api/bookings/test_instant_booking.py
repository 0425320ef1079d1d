"""Listings booked instantly: a request for a free time is accepted in its own transaction by the system, through the
accept's checks (events `booking.requested` then `booking.accepted`); of concurrent requests for one time, one wins
and the others get 409 and no booking; a series follows the same rule; both sides are told once, in those words."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from models import Booking, BookingStatus, Notification, OutboxEvent
from tests.api_calls import future, iso, request_booking
from tests.concurrency import concurrently
from tests.database import events_of, notifications_read
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.servers import live_app
from workflows.bookings.lifecycle import ANOTHER_ACCEPTED
from workflows.notifications import messages
from workflows.sessions.lifecycle import create_session_from_booking


def events(db: Session, aggregate_id: str) -> list[tuple[str, str | None]]:
    """(type, actor) of the aggregate's events, sorted: one transaction's events share its timestamp."""
    return events_of(db, uuid.UUID(aggregate_id))


def test_a_request_on_an_instant_listing_is_accepted_at_once_by_the_system(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(instant_booking=True, title="Code review")
    mentor, mentee, rival = (as_caller(u) for u in (listing.mentor_profile.user, UserFactory(), UserFactory()))
    # Someone else had asked for that time on an approval listing of the same mentor: settled by the instant accept.
    elsewhere = ListingFactory(mentor_profile=listing.mentor_profile)
    _, waiting = request_booking(client, rival, elsewhere.id, future(days=3))
    status, booked = request_booking(client, mentee, listing.id, future(days=3))
    assert status == 201, booked
    assert (booked["status"], booked["competing_requests"]) == ("accepted", 0)
    actor = f"user:{mentee.user.id}"
    assert events(db, booked["id"]) == [("booking.accepted", "system"), ("booking.requested", actor)]
    settled = client.get(f"/api/v1/bookings/{waiting['id']}", headers=rival.headers).get_json()
    assert (settled["status"], settled["decline_reason"]) == ("declined", ANOTHER_ACCEPTED)
    # The session is made from the accept, as for any other.
    session = create_session_from_booking(db, uuid.UUID(booked["id"]))
    assert session is not None and session.start_time == future(days=3)
    # Told once each, as a booking (not a request and its answer).
    messages.handle_events(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.aggregate_id == uuid.UUID(booked["id"])))))
    told = {(n.user_id, n.title): n.body for n in notifications_read(db, Notification.type.like("booking.%"))
            if n.data.get("resource", {}).get("id") == booked["id"] or booked["id"] in str(n.data)}
    assert set(told) == {(mentee.user.id, "Booking confirmed"), (mentor.user.id, "New booking")}, told
    name = mentee.user.display_name
    assert told[(mentor.user.id, "New booking")].startswith(f"{name} booked \u201cCode review\u201d")
    # An approval listing is unchanged: a draft for the mentor to answer.
    status, asked = request_booking(client, mentee, elsewhere.id, future(days=4))
    assert (status, asked["status"]) == (201, "draft")
    # The mentor turns instant booking on and off.
    changed = client.patch(f"/api/v1/listings/{elsewhere.id}", json={"instant_booking": True},
                           headers=mentor.headers)
    assert (changed.status_code, changed.get_json()["instant_booking"]) == (200, True)
    assert client.patch(f"/api/v1/listings/{elsewhere.id}", json={"instant_booking": "soon"},
                        headers=mentor.headers).status_code == 422


def test_a_taken_time_is_refused_with_nothing_written(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(instant_booking=True)
    first, second = as_caller(UserFactory()), as_caller(UserFactory())
    assert request_booking(client, first, listing.id, future(days=3))[0] == 201
    status, body = request_booking(client, second, listing.id, future(days=3, hour=10) + timedelta(minutes=0))
    assert status == 409, body
    assert db.scalar(select(func.count()).select_from(Booking).where(
        Booking.mentee_user_id == second.user.id)) == 0


def test_of_concurrent_instant_requests_for_one_time_one_wins_and_the_others_get_409(
        seed: Session, committed: sessionmaker[Session]) -> None:
    rounds = []
    start = (datetime.now(UTC) + timedelta(days=5)).replace(hour=9, minute=0, second=0, microsecond=0)
    for day in range(5):
        listing = ListingFactory(instant_booking=True)
        rounds.append((listing.id, start + timedelta(days=day), [as_caller(UserFactory()) for _ in range(4)]))
    seed.commit()
    app = live_app(committed)

    def asking(app: Flask, headers: dict[str, str], listing_id: uuid.UUID, at: datetime) -> object:
        def run() -> int:
            return app.test_client().post("/api/v1/bookings", headers=headers, json={
                "listing_id": str(listing_id), "start_time": iso(at)}).status_code
        return run

    outcomes: Counter[int] = Counter()
    for listing_id, at, mentees in rounds:
        got = concurrently([asking(app, m.headers, listing_id, at) for m in mentees])  # type: ignore[misc]
        assert sorted(got) == [201, 409, 409, 409], got
        outcomes.update(got)
        with committed() as db:
            made = db.execute(select(Booking.status, func.count()).where(Booking.listing_id == listing_id)
                              .group_by(Booking.status)).all()
            assert made == [(BookingStatus.ACCEPTED, 1)], made
    assert outcomes == {201: 5, 409: 15}


def test_a_series_on_an_instant_listing_is_accepted_with_its_request(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(instant_booking=True)
    mentee = as_caller(UserFactory())
    made = client.post("/api/v1/booking-series", headers=mentee.headers, json={
        "listing_id": str(listing.id), "first_start": iso(future(days=3)), "every": 1, "count": 3})
    assert made.status_code == 201, made.get_json()
    series = made.get_json()
    assert series["status"] == "accepted"
    assert [t["status"] for t in series["occurrences"]] == ["accepted"] * 3
    assert events(db, series["id"]) == [("booking_series.accepted", "system"),
                                        ("booking_series.requested", f"user:{mentee.user.id}")]


CAP_RULE = "max_instant_bookings_per_mentor"


def test_an_unconfirmed_account_holds_one_upcoming_instant_booking_with_a_mentor(
        client: FlaskClient, db: Session) -> None:
    listing, other = ListingFactory(instant_booking=True), ListingFactory(instant_booking=True)
    visitor = as_caller(UserFactory(email_verified_at=None))
    assert request_booking(client, visitor, listing.id, future(days=3))[0] == 201  # a public link's first booking
    status, refused = request_booking(client, visitor, listing.id, future(days=4))
    assert (status, refused["errors"]["rule"]) == (409, CAP_RULE), refused
    assert "confirm your email address" in refused["message"]
    series = client.post("/api/v1/booking-series", headers=visitor.headers, json={
        "listing_id": str(other.id), "first_start": iso(future(days=6)), "every": 1, "count": 2})
    assert series.status_code == 409 and series.get_json()["errors"]["rule"] == CAP_RULE, series.get_json()
    assert request_booking(client, visitor, other.id, future(days=5))[0] == 201  # one with each mentor
    assert db.scalar(select(func.count()).select_from(Booking).where(
        Booking.mentee_user_id == visitor.user.id)) == 2
    visitor.user.email_verified_at = datetime.now(UTC)  # confirmed: the listing's cap holds
    db.flush()
    assert request_booking(client, visitor, listing.id, future(days=4))[0] == 201


def test_a_confirmed_account_holds_the_listing_s_cap_each_time_of_a_series_counted(
        client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(instant_booking=True)
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    assert client.get(f"/api/v1/listings/{listing.id}", headers=mentee.headers).get_json()[CAP_RULE] is None
    # The service's default: 26 upcoming times with one mentor.
    made = client.post("/api/v1/booking-series", headers=mentee.headers, json={
        "listing_id": str(listing.id), "first_start": iso(future(days=2)), "every": 1, "count": 26})
    assert made.status_code == 201 and len(made.get_json()["occurrences"]) == 26, made.get_json()
    status, refused = request_booking(client, mentee, listing.id, future(days=3))
    assert (status, refused["errors"]["rule"], refused["errors"]["limit"]) == (409, CAP_RULE, "26"), refused
    # The mentor sets a cap of their own on another listing: a series counts each of its times.
    own = ListingFactory(instant_booking=True)
    owner, other = as_caller(own.mentor_profile.user), as_caller(UserFactory())
    for wrong in (0, 1001, "many"):
        assert client.patch(f"/api/v1/listings/{own.id}", headers=owner.headers,
                            json={CAP_RULE: wrong}).status_code == 422
    changed = client.patch(f"/api/v1/listings/{own.id}", headers=owner.headers, json={CAP_RULE: 3})
    assert (changed.status_code, changed.get_json()[CAP_RULE]) == (200, 3)
    assert request_booking(client, other, own.id, future(days=3))[0] == 201
    series = client.post("/api/v1/booking-series", headers=other.headers, json={
        "listing_id": str(own.id), "first_start": iso(future(days=4)), "every": 1, "count": 3})
    assert series.status_code == 409 and series.get_json()["errors"]["limit"] == "3", series.get_json()
    assert "this series asks for 3 more" in series.get_json()["message"]
    assert client.post("/api/v1/booking-series", headers=other.headers, json={
        "listing_id": str(own.id), "first_start": iso(future(days=4)), "every": 1, "count": 2}).status_code == 201
    assert request_booking(client, other, own.id, future(days=5))[0] == 409
    assert mentor.user.id != owner.user.id


def test_the_service_wide_instant_cap_is_a_setting(client: FlaskClient, db: Session,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """``MAX_INSTANT_BOOKINGS_PER_MENTOR`` sets the cap of every listing that sets none of its own."""
    monkeypatch.setenv("MAX_INSTANT_BOOKINGS_PER_MENTOR", "2")
    get_settings.cache_clear()
    try:
        listing = ListingFactory(instant_booking=True)
        mentee = as_caller(UserFactory())
        assert [request_booking(client, mentee, listing.id, future(days=day))[0] for day in (2, 3)] == [201, 201]
        status, refused = request_booking(client, mentee, listing.id, future(days=4))
        assert (status, refused["errors"]["rule"], refused["errors"]["limit"]) == (409, CAP_RULE, "2"), refused
    finally:
        monkeypatch.delenv("MAX_INSTANT_BOOKINGS_PER_MENTOR")
        get_settings.cache_clear()


def test_the_instant_cap_holds_under_concurrent_requests(seed: Session, committed: sessionmaker[Session]) -> None:
    listing = ListingFactory(instant_booking=True, max_instant_bookings_per_mentor=3)
    visitor, member = UserFactory(email_verified_at=None), UserFactory()
    seed.commit()
    app = live_app(committed)

    def asking(headers: dict[str, str], at: datetime) -> Callable[[], int]:
        def run() -> int:
            return app.test_client().post("/api/v1/bookings", headers=headers, json={
                "listing_id": str(listing.id), "start_time": iso(at)}).status_code
        return run

    for user, cap in ((visitor, 1), (member, 3)):
        headers = as_caller(user).headers
        got = concurrently([asking(headers, future(days=3 + day, hour=8 if user is visitor else 12))
                            for day in range(8)])
        assert sorted(got) == [201] * cap + [409] * (8 - cap), got
        with committed() as db:
            held = db.scalar(select(func.count()).select_from(Booking).where(
                Booking.mentee_user_id == user.id, Booking.status == BookingStatus.ACCEPTED))
            assert held == cap
