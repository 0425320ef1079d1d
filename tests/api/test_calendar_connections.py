"""Calendar connections over HTTP: what a mentor sends and sees (never the address nor the credentials), who may
touch a connection, disconnecting (its busy times go), and an accept that reads a stale calendar first and is
refused when the mentor's own calendar became busy then."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from models import BusyInterval, CalendarConnection
from tests.calendar_servers import PASSWORD, USER, Feed, client, radicale, subscription_server
from tests.factories import ListingFactory, UserFactory, actor_of, as_caller
from tests.servers import live_app
from workflows import calendar_sync

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


def test_an_accept_reads_a_stale_calendar_first_and_is_refused_when_it_became_busy(
        seed: Session, committed: sessionmaker[Session], tmp_path: Path) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    seed.commit()
    app = live_app(committed)
    http = app.test_client()
    with radicale(tmp_path) as server:
        calendar = client(server).principal().make_calendar(name="Personal")
        made = http.post("/api/v1/calendar-connections", json={"kind": "caldav", "url": server.url, "username": USER,
                                                                "password": PASSWORD}, headers=mentor.headers)
        assert made.status_code == 201, made.get_json()
        assert [c["name"] for c in made.get_json()["calendars"]] == ["Personal"]
        first, second = (http.post("/api/v1/bookings", json={"listing_id": str(listing.id), "start_time": (
            START + timedelta(hours=hours)).isoformat()}, headers=mentee.headers).get_json() for hours in (0, 3))
        # Read an hour ago, before the mentor added an event at the first request's time.
        with committed() as db:
            db.get_one(CalendarConnection, made.get_json()["id"]).synced_at = datetime.now(UTC) - timedelta(hours=1)
            db.commit()
        calendar.add_event(event("school-run", START))
        busy = http.post(f"/api/v1/bookings/{first['id']}/accept", headers=mentor.headers)
        assert busy.status_code == 409, busy.get_json()
        assert busy.get_json()["errors"]["rule"] == "calendar_busy"
        fine = http.post(f"/api/v1/bookings/{second['id']}/accept", headers=mentor.headers)
        assert fine.status_code == 200, fine.get_json()
        read_at = datetime.fromisoformat(fine.headers["Calendar-Synced-At"])
        assert datetime.now(UTC) - read_at < timedelta(minutes=1)


def test_an_accept_waits_no_longer_than_its_bound_on_a_slow_calendar_and_accepts_share_one_read(
        seed: Session, committed: sessionmaker[Session]) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    seed.commit()
    settings = dataclasses.replace(get_settings(), calendar_accept_wait_seconds=0.5)
    http = live_app(committed, settings).test_client()
    feed = Feed(body=event("dentist", START + timedelta(days=1)).encode())
    with subscription_server(feed) as url:
        made = http.post("/api/v1/calendar-connections", json={"kind": "ics", "url": url}, headers=mentor.headers)
        connection_id = uuid.UUID(made.get_json()["id"])
        read_before = datetime.now(UTC) - timedelta(hours=1)
        with committed() as db:
            assert calendar_sync.sync_connection(db, connection_id, now=read_before)
            db.commit()
        drafts = [http.post("/api/v1/bookings", json={"listing_id": str(listing.id), "start_time": (
            START + timedelta(hours=hours)).isoformat()}, headers=mentee.headers).get_json() for hours in (0, 2, 4)]
        feed.delay, feed.etag = 3.0, '"2"'  # slower than the accept's wait; a new ETag, so it is read whole

        def accept(draft: dict[str, Any]) -> Any:
            return http.post(f"/api/v1/bookings/{draft['id']}/accept", headers=mentor.headers)

        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(accept, drafts))
        # Each accept decided on the last good read, and said so; the three shared one read of the slow server.
        assert [a.status_code for a in answers] == [200, 200, 200], [a.get_json() for a in answers]
        assert {datetime.fromisoformat(a.headers["Calendar-Synced-At"]) for a in answers} == {read_before}
        assert feed.requests == 2
        # The read goes on, and lands for the next accept.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with committed() as db:
                if db.get_one(CalendarConnection, connection_id).synced_at != read_before:
                    break
            time.sleep(0.2)
        with committed() as db:
            assert db.get_one(CalendarConnection, connection_id).synced_at > read_before
        assert feed.requests == 2


def test_a_process_reads_at_most_a_few_calendars_at_once_for_accepts(
        seed: Session, committed: sessionmaker[Session]) -> None:
    listing = ListingFactory()
    actor, mentee = actor_of(listing.mentor_profile.user), as_caller(UserFactory())
    seed.commit()
    settings = dataclasses.replace(get_settings(), calendar_accept_wait_seconds=0.2)
    http = live_app(committed, settings).test_client()
    feed = Feed(body=event("dentist", START + timedelta(days=1)).encode(), delay=2.0)
    with subscription_server(feed) as url:
        with committed() as db:
            ids = [calendar_sync.connect(db, actor, kind="ics", url=url).id
                   for _ in range(calendar_sync.READS_BEFORE_ACCEPT + 1)]
            db.commit()
        draft = http.post("/api/v1/bookings", json={"listing_id": str(listing.id), "start_time": START.isoformat()},
                          headers=mentee.headers).get_json()
        with committed() as db:
            assert calendar_sync.refresh_before_accept(db, committed, actor, uuid.UUID(draft["id"]),
                                                       settings=settings) is None  # never read yet
        # Every read that started lands; the one beyond the bound was never started (a later accept or the beat
        # reads it).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and feed.requests < calendar_sync.READS_BEFORE_ACCEPT:
            time.sleep(0.1)
        time.sleep(feed.delay + 1)
        with committed() as db:
            synced = [db.get_one(CalendarConnection, i).synced_at for i in ids]
        assert sum(s is not None for s in synced) == calendar_sync.READS_BEFORE_ACCEPT
        assert feed.requests == calendar_sync.READS_BEFORE_ACCEPT
