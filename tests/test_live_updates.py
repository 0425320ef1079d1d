"""Server-Sent Events over a real HTTP server, read by a real streaming client."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import BaseWSGIServer, make_server

from models import Booking, BookingStatus
from tests.factories import BookingFactory, Caller, ListingFactory, UserFactory, as_caller
from tests.test_workflow_guarantees import live_app
from workflows.config import get_settings


@pytest.fixture
def server(committed: sessionmaker[Session]) -> Iterator[tuple[str, Flask]]:
    settings = dataclasses.replace(get_settings(), sse_max_seconds=8.0, sse_max_streams_per_process=2)
    app = live_app(committed, settings)
    http: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", app
    http.shutdown()
    thread.join(timeout=10)


def read_events(response: httpx.Response, count: int) -> list[dict]:
    """Parse frames until ``count`` events arrived."""
    events: list[dict] = []
    current: dict = {}
    for line in response.iter_lines():
        if line.startswith(("id:", "event:", "data:")):
            key, _, value = line.partition(":")
            current[key] = value.strip()
        elif line == "" and "event" in current:
            current["data"] = json.loads(current["data"])
            events.append(current)
            current = {}
            if len(events) == count:
                break
    return events


def seed_bookings(seed_session: Session, drafts: int) -> tuple[Caller, Caller, uuid.UUID, list[uuid.UUID]]:
    listing = ListingFactory()
    mentee = UserFactory()
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    ids = []
    for index in range(drafts):
        booking = Booking(id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
                          mentee_user_id=mentee.id, start_time=start + timedelta(hours=index),
                          end_time=start + timedelta(hours=index + 1), status=BookingStatus.DRAFT,
                          price_cents=1, currency="USD")
        seed_session.add(booking)
        ids.append(booking.id)
    seed_session.commit()
    return as_caller(listing.mentor_profile.user), as_caller(mentee), listing.id, ids


def test_stream_shows_own_changes_and_watched_slots_and_resumes(
    seed: Session, server: tuple[str, Flask]
) -> None:
    base, _app = server
    mentor, mentee, listing_id, (first, second) = seed_bookings(seed, 2)
    watcher = as_caller(UserFactory())
    seed.commit()
    with httpx.Client(base_url=base, timeout=10) as http:
        with http.stream("GET", "/api/v1/events/stream", headers=mentee.headers) as mine, \
                http.stream("GET", f"/api/v1/events/stream?listing_id={listing_id}", headers=watcher.headers) as theirs:
            assert mine.status_code == theirs.status_code == 200
            assert mine.headers["content-type"].startswith("text/event-stream")
            assert http.post(f"/api/v1/bookings/{first}/accept", headers=mentor.headers).status_code == 200
            (own,) = read_events(mine, 1)
            (slot,) = read_events(theirs, 1)
        assert (own["event"], own["data"]["id"], own["data"]["status"]) == ("booking.accepted", str(first), "accepted")
        assert slot["event"] == "booking.accepted" and slot["id"] == own["id"]
        assert slot["data"] == {"listing_id": str(listing_id), "start_time": own["data"]["start_time"],
                                "end_time": own["data"]["end_time"], "slots_changed": True}
        # Disconnected while the mentor declines the other request: the reconnect replays it.
        assert http.post(f"/api/v1/bookings/{second}/decline", headers=mentor.headers).status_code == 200
        headers = {**mentee.headers, "Last-Event-ID": own["id"]}
        # The two closed streams hold their slots until the server next writes to them; on 503 a client
        # retries, as the answer's Retry-After tells it (sooner here, within the streams' 8 s lifetime).
        deadline = time.monotonic() + 10
        while True:
            with http.stream("GET", "/api/v1/events/stream", headers=headers) as resumed:
                if resumed.status_code != 503 or time.monotonic() > deadline:
                    assert resumed.status_code == 200
                    (missed,) = read_events(resumed, 1)
                    break
            time.sleep(0.2)
        assert (missed["event"], missed["data"]["id"]) == ("booking.declined", str(second))


def test_stream_count_is_capped_per_process(seed: Session, server: tuple[str, Flask]) -> None:
    base, _app = server
    _mentor, mentee, _listing, _ids = seed_bookings(seed, 0)
    with httpx.Client(base_url=base, timeout=10) as http, \
            http.stream("GET", "/api/v1/events/stream", headers=mentee.headers) as one, \
            http.stream("GET", "/api/v1/events/stream", headers=mentee.headers) as two:
        assert one.status_code == two.status_code == 200
        third = http.get("/api/v1/events/stream", headers=mentee.headers)
        assert third.status_code == 503 and third.headers["Retry-After"] == "5"
        # Ordinary requests are still served while the streams are open.
        assert http.get("/api/v1/me", headers=mentee.headers).status_code == 200


class _BrokenPipeline:
    """A pipeline whose connection another attempt closed, as redis-py can leave it under load."""

    def __enter__(self) -> _BrokenPipeline:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def publish(self, *_args: object) -> None:
        return None

    def execute(self) -> None:
        raise ValueError("I/O operation on closed file.")


def test_a_failing_live_publish_never_fails_the_committed_request(
    seed: Session, committed: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers import live_updates

    broken = type("BrokenRedis", (), {"pipeline": lambda _self, **_kw: _BrokenPipeline()})()
    monkeypatch.setattr(live_updates, "_client", broken)
    monkeypatch.setattr(live_updates, "_client_pid", os.getpid())
    booking = BookingFactory()
    listing = booking.listing
    seed.commit()

    response = live_app(committed).test_client().post(
        f"/api/v1/bookings/{booking.id}/accept", headers=as_caller(listing.mentor_profile.user).headers)

    assert response.status_code == 200, response.get_json()
    with committed() as db:
        assert db.get(Booking, booking.id).status == BookingStatus.ACCEPTED  # type: ignore[union-attr]
    assert live_updates._client is None  # the next publish starts on a fresh connection pool
