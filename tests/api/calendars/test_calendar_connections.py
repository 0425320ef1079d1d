"""Calendar connections over HTTP: what a mentor sends and sees (never the address nor the credentials), who may
touch a connection, disconnecting (its busy times go); connects that talk to a slow server holding no database
connection, one at a time per mentor; changes rate-limited and merged into the sync under way; and an accept of a
mentor whose calendar is stale that asks the calendars workers for one read and waits its bound, reading no calendar
itself (with real workers: ``tests/e2e/test_calendar_workers.py``)."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from api import create_app
from infra.config import get_settings
from models import BusyInterval, CalendarConnection
from tests.calendar_servers import PASSWORD, USER, Feed, subscription_server
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from workflows.calendars import sync as calendar_sync

START = (datetime.now(UTC) + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)


def event(uid: str, start: datetime) -> str:
    stamp = "%Y%m%dT%H%M%SZ"
    return (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n"
            f"DTSTAMP:20300101T000000Z\r\nDTSTART:{start:{stamp}}\r\nDTEND:{start + timedelta(hours=1):{stamp}}\r\n"
            "SUMMARY:Busy\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def test_a_subscription_is_connected_shown_without_its_address_and_disconnected_with_its_busy_times(
        client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor, other_mentor = as_caller(listing.mentor_profile.user), as_caller(ListingFactory().mentor_profile.user)
    mentee = as_caller(UserFactory())
    feed = Feed(body=event("dentist", START).encode())
    with subscription_server(feed) as url:
        for bad in ({"kind": "ics"}, {"kind": "gcal", "url": url}, {"kind": "caldav", "url": url, "username": USER},
                    {"kind": "ics", "url": url, "password": "x"}, {"kind": "ics", "url": "x" * 3000}):
            assert client.post("/api/v1/calendar-connections", json=bad, headers=mentor.headers).status_code == 422
        assert client.post("/api/v1/calendar-connections", json={"kind": "ics", "url": url},
                           headers=mentee.headers).status_code == 403
        made = client.post("/api/v1/calendar-connections", json={"kind": "ics", "url": url}, headers=mentor.headers)
        assert made.status_code == 201, made.get_json()
        shown = made.get_json()
        assert "secret-address" not in json.dumps(shown)
        assert (shown["kind"], shown["host"], shown["status"], shown["busy_synced_at"]) == (
            "ics", "127.0.0.1", "active", None)
        url_of = f"/api/v1/calendar-connections/{shown['id']}"
        assert client.get(url_of, headers=other_mentor.headers).status_code == 404
        assert client.get("/api/v1/calendar-connections", headers=mentor.headers).get_json()["items"][0]["id"] == \
            shown["id"]
        # A subscription is read-only: sessions cannot be written to it.
        calendar = shown["calendars"][0]
        refused = client.patch(url_of, json={"calendars": [{"id": calendar["id"], "target": True}]},
                               headers=mentor.headers)
        assert refused.status_code == 422
        assert calendar_sync.sync_connection(db, uuid.UUID(shown["id"]))
        assert db.scalar(select(func.count()).select_from(BusyInterval)) == 1
        assert client.delete(url_of, headers=other_mentor.headers).status_code == 404
        assert client.delete(url_of, headers=mentor.headers).status_code == 204
        assert db.scalar(select(func.count()).select_from(BusyInterval)) == 0
        assert db.scalar(select(func.count()).select_from(CalendarConnection)) == 0


@contextmanager
def real_api(**changes: Any) -> Iterator[str]:
    """The API as gunicorn builds it (its own engine: ``DB_POOL_SIZE``, the lock and idle timeouts), served by threads
    on a free port; its base URL."""
    app = create_app(dataclasses.replace(get_settings(), **changes))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/v1"
    finally:
        server.shutdown()
        thread.join(timeout=10)


# The tests below commit, publish and serve the real app, and bound how long a read waits: one after another with the
# recovery tests (tests/conftest.py), never beside another that stops a server.
@pytest.mark.xdist_group("recovery")
def test_slow_connects_hold_no_connection_and_one_mentor_connects_once_at_a_time(seed: Session) -> None:
    # 30 connects of one mentor to a server slow to answer: one talks to it, the others answer 429 at once. 30
    # mentors connecting at once to it: each waits on the server holding no database connection, so another user's
    # reads still answer at once (the pool holds 10: before, 20 of them waited here with a row lock each).
    mentors = [as_caller(ListingFactory().mentor_profile.user) for _ in range(31)]
    reader = as_caller(UserFactory())
    seed.commit()
    slow = Feed(body=b"", delay=3.0)
    with subscription_server(slow) as url, real_api() as api, httpx.Client(timeout=30) as http:
        account = {"kind": "caldav", "url": url, "username": USER, "password": PASSWORD}

        def connect(caller: Any) -> httpx.Response:
            return http.post(f"{api}/calendar-connections", json=account, headers=caller.headers)

        with ThreadPoolExecutor(30) as pool:
            same = list(pool.map(connect, [mentors[0]] * 30))
        codes = sorted(r.status_code for r in same)
        assert codes == [422] + [429] * 29, codes
        assert all(int(r.headers["Retry-After"]) > 0 for r in same if r.status_code == 429)
        assert slow.requests == 1

        with ThreadPoolExecutor(31) as pool:
            connecting = [pool.submit(connect, caller) for caller in mentors[1:]]
            time.sleep(1.0)  # every connect is waiting on the server now
            began = time.monotonic()
            reads = [http.get(f"{api}/listings", headers=reader.headers) for _ in range(3)]
            took = time.monotonic() - began
            answers = [f.result() for f in connecting]
        assert [r.status_code for r in reads] == [200] * 3
        assert took < 1.0, f"another user's reads took {took:.2f} s"
        assert {r.status_code for r in answers} == {422}
        assert {r.json()["message"] for r in answers} == {"no calendar could be read at this address"}


@pytest.mark.xdist_group("recovery")
def test_an_accept_asks_the_workers_to_read_a_stale_calendar_once_and_waits_no_longer_than_its_bound(
        seed: Session, committed: sessionmaker[Session]) -> None:
    # No calendars worker runs here: the accepts wait their bound, reading the database, then decide on the last read.
    # Three at once lease one sync (one message, one read to come), and none starts a thread.
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    seed.commit()
    feed = Feed(body=event("dentist", START + timedelta(days=1)).encode())
    with subscription_server(feed) as url, real_api(calendar_accept_wait_seconds=0.5) as api, \
            httpx.Client(timeout=30) as http:
        made = http.post(f"{api}/calendar-connections", json={"kind": "ics", "url": url}, headers=mentor.headers)
        connection_id = uuid.UUID(made.json()["id"])
        read_before = datetime.now(UTC) - timedelta(hours=1)
        with committed() as db:
            assert calendar_sync.sync_connection(db, connection_id, now=read_before)
            db.execute(update(CalendarConnection).values(sync_lease_id=None, sync_leased_until=None))
            db.commit()
        drafts = [http.post(f"{api}/bookings", json={"listing_id": str(listing.id), "start_time": (
            START + timedelta(hours=hours)).isoformat()}, headers=mentee.headers).json() for hours in (0, 2, 4)]
        threads_before = threading.active_count()

        def accept(draft: dict[str, Any]) -> httpx.Response:
            return http.post(f"{api}/bookings/{draft['id']}/accept", headers=mentor.headers)

        began = time.monotonic()
        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(accept, drafts))
        took = time.monotonic() - began
        assert [a.status_code for a in answers] == [200, 200, 200], [a.json() for a in answers]
        assert {datetime.fromisoformat(a.headers["Calendar-Synced-At"]) for a in answers} == {read_before}
        assert took < 5
        assert threading.active_count() <= threads_before + 3  # the pool's, gone by now: nothing of the accept's
        assert not [t for t in threading.enumerate() if "calendar" in t.name]
        with committed() as db:
            connection = db.get_one(CalendarConnection, connection_id)
            assert connection.sync_lease_id is not None and connection.synced_at == read_before
        assert feed.requests == 1  # the setup's read alone: this process reads no calendar


@pytest.mark.xdist_group("recovery")
def test_calendar_changes_are_rate_limited_per_user_and_merge_into_the_sync_under_way(
        seed: Session, committed: sessionmaker[Session], configure: Callable[..., None]) -> None:
    configure(CALENDAR_RATE_LIMIT="5/minute")
    listing = ListingFactory()
    mentor, other = as_caller(listing.mentor_profile.user), as_caller(ListingFactory().mentor_profile.user)
    seed.commit()
    feed = Feed(body=event("dentist", START).encode())
    with subscription_server(feed) as url, real_api() as api, httpx.Client(timeout=30) as http:
        made = http.post(f"{api}/calendar-connections", json={"kind": "ics", "url": url}, headers=mentor.headers)
        assert made.status_code == 201
        with committed() as db:
            first_lease = db.get_one(CalendarConnection, made.json()["id"]).sync_lease_id
        assert first_lease is not None  # the first sync, sent after the commit
        patches = [http.patch(f"{api}/calendar-connections/{made.json()['id']}", json={}, headers=mentor.headers)
                   for _ in range(6)]
        assert [p.status_code for p in patches] == [200] * 4 + [429] * 2
        assert int(patches[-1].headers["Retry-After"]) > 0
        with committed() as db:  # four changes asked for one sync: the one under way
            assert db.get_one(CalendarConnection, made.json()["id"]).sync_lease_id == first_lease
        # Another mentor is not held back by this one's limit.
        assert http.post(f"{api}/calendar-connections", json={"kind": "ics", "url": url},
                         headers=other.headers).status_code == 201
