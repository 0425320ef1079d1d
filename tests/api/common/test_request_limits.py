"""A mentee cannot flood a mentor: at most MAX_PENDING_REQUESTS_PER_MENTOR pending requests per mentor,
MAX_PENDING_REQUESTS in all, and never the same listing and start twice. Threads on committed data, real
PostgreSQL: the caps hold exactly under concurrent requests."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from models import Booking, BookingStatus
from tests.api_calls import requesting
from tests.concurrency import concurrently
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.servers import live_app

T = (datetime.now(UTC) + timedelta(days=5)).replace(hour=9, minute=0, second=0, microsecond=0)


def drafts_of(committed: sessionmaker[Session], mentee_id: uuid.UUID) -> int:
    with committed() as db:
        return db.scalar(select(func.count()).select_from(Booking).where(
            Booking.mentee_user_id == mentee_id, Booking.status == BookingStatus.DRAFT)) or 0


def test_forty_identical_requests_at_once_make_one_draft(seed: Session, committed: sessionmaker[Session]) -> None:
    listing, mentee = ListingFactory(), UserFactory()
    seed.commit()
    caller = as_caller(mentee)
    statuses = concurrently([requesting(live_app(committed), caller, listing.id, T) for _ in range(40)])
    assert Counter(statuses) == {201: 1, 409: 39}, statuses
    assert drafts_of(committed, mentee.id) == 1


def test_forty_requests_to_one_mentor_at_once_stop_at_the_cap(seed: Session, committed: sessionmaker[Session]) -> None:
    cap = get_settings().max_pending_requests_per_mentor
    listing, mentee = ListingFactory(), UserFactory()
    seed.commit()
    caller, app = as_caller(mentee), live_app(committed)
    statuses = concurrently([requesting(app, caller, listing.id, T + timedelta(hours=i)) for i in range(40)])
    assert Counter(statuses) == {201: cap, 409: 40 - cap}, statuses
    assert drafts_of(committed, mentee.id) == cap


def test_forty_requests_to_many_mentors_at_once_stop_at_the_overall_cap(
        seed: Session, committed: sessionmaker[Session]) -> None:
    cap = get_settings().max_pending_requests
    listings = [ListingFactory() for _ in range(40)]
    mentee = UserFactory()
    seed.commit()
    caller, app = as_caller(mentee), live_app(committed)
    statuses = concurrently([requesting(app, caller, listing.id, T + timedelta(hours=i))
                             for i, listing in enumerate(listings)])
    assert Counter(statuses) == {201: cap, 409: 40 - cap}, statuses
    assert drafts_of(committed, mentee.id) == cap


def test_the_refusals_name_the_rule_and_a_decided_request_frees_its_place(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentee = as_caller(UserFactory())
    mentor = as_caller(listing.mentor_profile.user)
    made = client.post("/api/v1/bookings", headers=mentee.headers,
                       json={"listing_id": str(listing.id), "start_time": T.isoformat()})
    again = client.post("/api/v1/bookings", headers=mentee.headers,
                        json={"listing_id": str(listing.id), "start_time": T.isoformat()})
    assert again.status_code == 409
    assert again.get_json()["errors"]["existing_booking_id"] == made.get_json()["id"]
    assert made.get_json()["id"] in again.get_json()["message"]
    for hours in (1, 2):
        assert client.post("/api/v1/bookings", headers=mentee.headers, json={
            "listing_id": str(listing.id), "start_time": (T + timedelta(hours=hours)).isoformat()}).status_code == 201
    capped = client.post("/api/v1/bookings", headers=mentee.headers, json={
        "listing_id": str(listing.id), "start_time": (T + timedelta(hours=3)).isoformat()})
    assert capped.status_code == 409 and "pending requests to this mentor" in capped.get_json()["message"]
    # Another mentee is not held back.
    assert client.post("/api/v1/bookings", headers=as_caller(UserFactory()).headers, json={
        "listing_id": str(listing.id), "start_time": (T + timedelta(hours=3)).isoformat()}).status_code == 201
    assert client.post(f"/api/v1/bookings/{made.get_json()['id']}/decline", headers=mentor.headers,
                       json={}).status_code == 200
    assert client.post("/api/v1/bookings", headers=mentee.headers, json={
        "listing_id": str(listing.id), "start_time": (T + timedelta(hours=3)).isoformat()}).status_code == 201
