"""A booking from request to completed session through the API alone, with a real worker."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import structlog
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, OutboxEvent
from tests.api_calls import next_quarter_hour
from tests.factories.accounts import UserFactory
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.servers import live_app
from tests.workers_fixtures import StartWorker
from workflows.actors import Actor
from workflows.bookings import lifecycle as booking_flow
from workflows.bookings import requests


def sign_up(client: FlaskClient, email: str) -> dict[str, str]:
    password = "a long enough password"
    assert client.post("/api/v1/auth/register",
                       json={"email": email, "password": password, "display_name": email}).status_code == 201
    token = client.post("/api/v1/auth/token", json={"email": email, "password": password}).get_json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_request_to_completed_session_through_the_api(
    committed: sessionmaker[Session], start_worker: StartWorker
) -> None:
    start_worker()
    client = live_app(committed).test_client()
    mentor = sign_up(client, "mentor@example.com")
    mentee = sign_up(client, "mentee@example.com")
    profile = client.post("/api/v1/mentor-profiles", headers=mentor,
                          json={"headline": "Go mentor", "timezone": "UTC", "skills": ["go"]}).get_json()
    assert client.put(f"/api/v1/mentor-profiles/{profile['id']}/availability", headers=mentor,
                      json={"windows": []}).status_code == 200
    listing = client.post("/api/v1/listings", headers=mentor,
                          json={"title": "Go review", "skill": "go", "duration_minutes": 30,
                                "slot_step_minutes": 15, "price_cents": 3000}).get_json()
    start = next_quarter_hour()  # its next slot
    booking = client.post("/api/v1/bookings", headers={**mentee, "Idempotency-Key": "journey-1"},
                          json={"listing_id": listing["id"], "start_time": start.isoformat()}).get_json()
    assert booking["status"] == "draft"
    assert client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=mentor).status_code == 200

    deadline = time.monotonic() + 20
    session_id = None
    while session_id is None and time.monotonic() < deadline:
        session_id = client.get(f"/api/v1/bookings/{booking['id']}", headers=mentee).get_json()["session_id"]
        time.sleep(0.2)
    assert session_id, "the worker did not create the session"

    session = client.get(f"/api/v1/sessions/{session_id}", headers=mentor).get_json()
    assert (session["start_time"], session["status"]) == (start.isoformat(), "scheduled")
    assert client.post(f"/api/v1/sessions/{session_id}/start", headers=mentee).get_json()["status"] == "in_progress"
    done = client.patch(f"/api/v1/sessions/{session_id}/complete", headers=mentor,
                        json={"notes": "Reviewed the handler code", "action_items": ["add context timeouts"]})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    mine = client.get("/api/v1/sessions?role=mentee&status=completed", headers=mentee).get_json()
    assert [s["id"] for s in mine["items"]] == [session_id]


def test_periodic_expiry_twice_at_once_expires_each_draft_once(
    seed: Session, committed: sessionmaker[Session]
) -> None:
    listing = ListingFactory()
    past = datetime.now(UTC) - timedelta(minutes=1)
    BookingFactory.create_batch(300, listing=listing, start_time=past)
    seed.commit()
    counts: list[int] = []

    def run() -> None:
        with committed() as db:
            counts.append(booking_flow.expire_stale_drafts(db, limit=1000))
            time.sleep(0.2)  # hold the row locks while the other copy runs
            db.commit()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 300
    with committed() as db:
        assert db.scalar(select(func.count()).where(OutboxEvent.type == "booking.expired")) == 300
        assert db.scalar(select(func.count()).where(Booking.status == "expired")) == 300


def test_transitions_are_logged_with_ids_and_actor(db: Session) -> None:
    listing = ListingFactory()
    mentee = UserFactory()
    mentor = Actor(user_id=listing.mentor_profile.user_id, mentor_profile_id=listing.mentor_profile_id)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    with structlog.testing.capture_logs() as logs:
        booking = requests.request_booking(db, Actor(user_id=mentee.id), listing_id=listing.id, start_time=start)
        booking_flow.accept_booking(db, mentor, booking.id)
    assert [(e["event"], e["booking_id"], e["actor"]) for e in logs] == [
        ("booking.requested", str(booking.id), f"user:{mentee.id}"),
        ("booking.accepted", str(booking.id), f"user:{mentor.user_id}"),
    ]
