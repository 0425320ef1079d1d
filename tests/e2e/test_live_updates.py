"""Server-Sent Events over a real HTTP server, read by a real streaming client."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from infra import live_publish
from infra.channels import user_channel
from infra.config import get_settings
from models import Booking, BookingStatus, HandlerStatus, ListingKind, OutboxEvent, OutboxHandler
from outbox import record_events
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.servers import live_app, serving
from tests.workers_fixtures import RedisServer
from workflows.live.replay import MAX_REPLAY
from workflows.operations import retention


@pytest.fixture
def server(committed: sessionmaker[Session]) -> Iterator[tuple[str, Flask]]:
    with serving(committed, sse_max_streams_per_process=2) as served:
        yield served


@pytest.fixture
def roomy_server(committed: sessionmaker[Session]) -> Iterator[tuple[str, Flask]]:
    """Room for streams a test closed but the server has not noticed yet (it notices at its next write)."""
    with serving(committed, sse_max_streams_per_process=8, sse_max_streams_per_user=8) as served:
        yield served


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


def test_a_message_of_one_event_from_a_process_of_the_version_before_is_shown_too(
        seed: Session, server: tuple[str, Flask], redis_client: redis.Redis) -> None:
    """A process of the version before publishes each event alone, as an object, not an array: a stream shows it
    beside this version's messages while an API is updated one process at a time."""
    base, _app = server
    mentor, mentee, _listing_id, (first, _second) = seed_bookings(seed, 2)
    with httpx.Client(base_url=base, timeout=10) as http, \
            http.stream("GET", "/api/v1/events/stream", headers=mentee.headers) as mine:
        assert mine.status_code == 200
        assert http.post(f"/api/v1/bookings/{first}/accept", headers=mentor.headers).status_code == 200
        event = seed.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == first,
                                                       OutboxEvent.type == "booking.accepted")).one()
        alone = {"id": str(uuid.uuid4()), "type": event.type, "data": event.payload}
        redis_client.publish(user_channel(get_settings().redis_key_prefix, mentee.user.id), json.dumps(alone))
        accepted, again = read_events(mine, 2)
    assert (accepted["id"], again["id"]) == (str(event.id), alone["id"])
    assert (again["event"], again["data"]["id"], again["data"]["status"]) == (
        "booking.accepted", str(first), "accepted")


def test_stream_count_is_capped_per_process(seed: Session, server: tuple[str, Flask]) -> None:
    base, _app = server
    mentor, mentee, _listing, _ids = seed_bookings(seed, 0)
    # Two users: a user's second stream may not take the last slot, kept for users with none open.
    with httpx.Client(base_url=base, timeout=10) as http, \
            http.stream("GET", "/api/v1/events/stream", headers=mentee.headers) as one, \
            http.stream("GET", "/api/v1/events/stream", headers=mentor.headers) as two:
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
    from infra import live_publish

    broken = type("BrokenRedis", (), {"pipeline": lambda _self, **_kw: _BrokenPipeline()})()
    monkeypatch.setattr(live_publish, "_client", broken)
    monkeypatch.setattr(live_publish, "_client_pid", os.getpid())
    booking = BookingFactory()
    listing = booking.listing
    seed.commit()

    response = live_app(committed).test_client().post(
        f"/api/v1/bookings/{booking.id}/accept", headers=as_caller(listing.mentor_profile.user).headers)

    assert response.status_code == 200, response.get_json()
    with committed() as db:
        assert db.get(Booking, booking.id).status == BookingStatus.ACCEPTED  # type: ignore[union-attr]
    assert live_publish._client is None  # the next publish starts on a fresh connection pool


def test_a_resume_from_before_the_retention_horizon_gets_a_reset(
    seed: Session, committed: sessionmaker[Session], roomy_server: tuple[str, Flask]
) -> None:
    base, _app = roomy_server
    mentor, mentee, _listing_id, (first, second, third) = seed_bookings(seed, 3)

    def event_of(booking_id: uuid.UUID) -> uuid.UUID:
        with committed() as db:
            return db.scalars(select(OutboxEvent.id).where(OutboxEvent.aggregate_id == booking_id)
                              .order_by(OutboxEvent.created_at.desc())).first()  # type: ignore[return-value]

    def age(event_id: uuid.UUID, *, handlers_done: bool) -> None:
        with committed() as db:
            db.execute(update(OutboxEvent).where(OutboxEvent.id == event_id)
                       .values(created_at=func.now() - timedelta(days=31)))
            if handlers_done:
                db.execute(update(OutboxHandler).where(OutboxHandler.event_id == event_id)
                           .values(status=HandlerStatus.DONE))
            db.commit()

    with httpx.Client(base_url=base, timeout=10) as http:
        for booking_id, action in ((first, "accept"), (third, "accept"), (second, "decline")):
            assert http.post(f"/api/v1/bookings/{booking_id}/{action}", headers=mentor.headers).status_code == 200
        pruned, kept_but_old, newest = event_of(first), event_of(third), event_of(second)
        age(pruned, handlers_done=True)
        age(kept_but_old, handlers_done=False)  # work still pending: retention keeps the row
        with committed() as db:
            retention.TARGETS[0].prune_batch(db, get_settings())
            db.commit()
            assert db.get(OutboxEvent, pruned) is None and db.get(OutboxEvent, kept_but_old) is not None

        for last_event_id in (str(pruned), str(kept_but_old), "not-an-event-id"):
            with http.stream("GET", "/api/v1/events/stream",
                             headers={**mentee.headers, "Last-Event-ID": last_event_id}) as resumed:
                assert resumed.status_code == 200
                (reset,) = read_events(resumed, 1)
            # The client reloads, and its next resume starts from the newest event: nothing missed, nothing scanned.
            assert (reset["event"], reset["id"]) == ("reset", str(newest)), last_event_id
            assert reset["data"]["reason"] == "history_unavailable"


def test_a_resume_with_more_missed_events_than_a_replay_carries_gets_a_reset(
    seed: Session, roomy_server: tuple[str, Flask]
) -> None:
    base, _app = roomy_server
    mentee = UserFactory()
    payload = {"mentee_user_id": str(mentee.id)}
    events = []
    for _ in range(MAX_REPLAY + 2):  # one transaction each, so each has its own time
        events += record_events(seed, "booking.requested", [(uuid.uuid4(), payload)], actor=None)
        seed.commit()
    with httpx.Client(base_url=base, timeout=10) as http:
        headers = {**as_caller(mentee).headers, "Last-Event-ID": str(events[1].id)}
        with http.stream("GET", "/api/v1/events/stream", headers=headers) as resumed:
            (first,) = read_events(resumed, 1)
        assert first["event"] == "booking.requested"  # exactly MAX_REPLAY missed: replayed
        headers["Last-Event-ID"] = str(events[0].id)
        with http.stream("GET", "/api/v1/events/stream", headers=headers) as resumed:
            (first,) = read_events(resumed, 1)
        assert first["event"] == "reset"


def test_a_group_mentee_never_sees_the_other_mentees_ids_live_or_replayed(
    seed: Session, committed: sessionmaker[Session], roomy_server: tuple[str, Flask]
) -> None:
    base, _app = roomy_server
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=3)
    mentor = as_caller(listing.mentor_profile.user)
    first, second = as_caller(UserFactory()), as_caller(UserFactory())
    seed.commit()
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0).isoformat()
    with httpx.Client(base_url=base, timeout=10) as http:
        session = http.post(f"/api/v1/listings/{listing.id}/group-sessions", json={"start_time": start},
                            headers=mentor.headers).json()
        seats = [http.post(f"/api/v1/sessions/{session['id']}/join", headers=mentee.headers).json()["id"]
                 for mentee in (first, second)]
        with http.stream("GET", "/api/v1/events/stream", headers=first.headers) as mine, \
                http.stream("GET", "/api/v1/events/stream", headers=mentor.headers) as theirs:
            assert http.post(f"/api/v1/sessions/{session['id']}/cancel", json={"reason": "ill"},
                             headers=mentor.headers).status_code == 200
            (seen,) = read_events(mine, 1)
            (mentors,) = read_events(theirs, 1)
        assert (seen["event"], seen["data"]["id"]) == ("session.cancelled", session["id"])
        assert str(second.user.id) not in json.dumps(seen)
        assert sorted(p["id"] for p in mentors["data"]["participants"]) == sorted([str(first.user.id),
                                                                                   str(second.user.id)])
        # Each frame is the session as its REST view shows it to that viewer: participants to the mentor only.
        url = f"/api/v1/sessions/{session['id']}"
        assert seen["data"] == http.get(url, headers=first.headers).json() and seen["data"]["participants"] is None
        assert mentors["data"] == http.get(url, headers=mentor.headers).json()
        with committed() as db:  # resume from the first mentee's own join: the cancellation is replayed
            joined = db.scalars(select(OutboxEvent.id).where(OutboxEvent.aggregate_id == uuid.UUID(seats[0]))).one()
        with http.stream("GET", "/api/v1/events/stream",
                         headers={**first.headers, "Last-Event-ID": str(joined)}) as resumed:
            (replayed,) = read_events(resumed, 1)
        assert replayed["id"] == seen["id"] and str(second.user.id) not in json.dumps(replayed)



def test_booking_frames_are_each_viewers_rest_view_and_a_ticket_opens_a_stream(
    seed: Session, roomy_server: tuple[str, Flask]
) -> None:
    base, _app = roomy_server
    mentor, mentee, _listing_id, (booking_id,) = seed_bookings(seed, 1)
    with httpx.Client(base_url=base, timeout=10) as http:
        issued = http.post("/api/v1/events/tickets", headers=mentor.headers)
        assert issued.status_code == 201
        # The mentor's stream is opened the browser's way: a ticket in the URL, no header.
        with http.stream("GET", f"/api/v1/events/stream?ticket={issued.json()['ticket']}") as theirs, \
                http.stream("GET", "/api/v1/events/stream", headers=mentee.headers) as mine:
            assert theirs.status_code == mine.status_code == 200
            assert http.post(f"/api/v1/bookings/{booking_id}/accept", headers=mentor.headers).status_code == 200
            (mentors,) = read_events(theirs, 1)
            (mentees,) = read_events(mine, 1)
        for frame, caller in ((mentors, mentor), (mentees, mentee)):
            assert frame["event"] == "booking.accepted"
            assert frame["data"] == http.get(f"/api/v1/bookings/{booking_id}", headers=caller.headers).json()
        assert mentees["data"]["mentor"]["display_name"] == mentor.user.display_name


def test_messages_written_while_redis_is_down_reach_the_other_person_once_it_is_back(
    seed: Session, committed: sessionmaker[Session], private_redis: RedisServer, configure: Callable[..., None]
) -> None:
    configure(REDIS_URL=private_redis.url)  # the stream's and the publisher's Redis, which the test stops
    live_publish.reset_client()
    try:
        _messages_across_an_outage(seed, committed, private_redis)
    finally:
        live_publish.reset_client()


def _messages_across_an_outage(seed: Session, committed: sessionmaker[Session], private_redis: RedisServer) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    seed.commit()
    start = (datetime.now(UTC) + timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)
    with serving(committed) as (base, _app), httpx.Client(base_url=base, timeout=10) as http:
        assert http.post("/api/v1/bookings", headers=mentee.headers, json={
            "listing_id": str(listing.id), "start_time": start.isoformat()}).status_code == 201
        one = http.post("/api/v1/conversations", headers=mentee.headers,
                        json={"user_id": str(mentor.user.id)}).json()["id"]
        url = f"/api/v1/conversations/{one}/messages"
        with http.stream("GET", "/api/v1/events/stream", headers=mentor.headers) as stream:
            assert stream.status_code == 200
            sent = http.post(url, headers=mentee.headers, json={"body": "before the outage"})
            (frame,) = read_events(stream, 1)
        assert (frame["event"], frame["data"]["id"], frame["data"]["seq"]) == ("message.created", sent.json()["id"], 1)
        assert "outage" not in json.dumps(frame)  # a frame names the message; its words are read with a token
        private_redis.kill()
        written = [http.post(url, headers=mentee.headers, json={"body": f"while Redis is down {n}"}).status_code
                   for n in range(3)]
        assert written == [201, 201, 201]  # written with their events; published when they can be
        private_redis.start()
        headers = {**mentor.headers, "Last-Event-ID": frame["id"]}
        deadline = time.monotonic() + 10
        while True:
            with http.stream("GET", "/api/v1/events/stream", headers=headers) as resumed:
                if resumed.status_code != 503 or time.monotonic() > deadline:
                    assert resumed.status_code == 200
                    missed = read_events(resumed, 3)
                    break
            time.sleep(0.2)
        assert [(m["event"], m["data"]["seq"]) for m in missed] == [("message.created", n) for n in (2, 3, 4)]
        shown = http.get(url, headers=mentor.headers).json()["items"]
        assert [m["body"] for m in shown] == ["before the outage", *(f"while Redis is down {n}" for n in range(3))]
