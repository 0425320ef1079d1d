"""Hostile calendars against the real processes: gunicorn's API (one worker process, its memory read from /proc) and a
calendars worker. A calendar repeating every second, one event of 20,001 occurrences, an answer compressed twice
(2 KB that inflate to a gibibyte), a CalDAV server answering a million nested elements: the API reads none of them
(an accept asks the workers, once however many accepts come) and stays flat; the worker reads each within its bounds
and the connection says why it was refused; a weekly event thirty years old is read. And one mentor's calendars,
however slow and however often changed, never hold back another mentor's sync.

The one named exception to "memory is measured by benchmarks": the API process's peak memory (``VmHWM``: a spike freed
since counts) may grow by less than 50 MB (the faults this guards against added 190 to 320 MB an accept, and 2 GB an
answer)."""

from __future__ import annotations

import gzip
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import BusyInterval, CalendarConnection, CalendarSource
from tests.calendar_servers import PASSWORD, USER, Feed, ics, subscription_server, vevent
from tests.concurrency import wait_until
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.servers import gunicorn, peak_rss_mb
from tests.workers_fixtures import StartWorker

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
_DAY = (NOW + timedelta(days=3)).replace(hour=10, minute=0)
# The day of the 13 accepts (every 2 hours from 10:00): never a Tuesday, whose 18:00 the "old weekly" feed holds.
START = _DAY + timedelta(days=1) if _DAY.weekday() == 1 else _DAY
MIB = 1024 * 1024
API_GROWTH_MB = 50
WORKER_RSS_MB = 250  # a calendars worker's pool process, after reading every hostile calendar here


def every_minute_of(count: int) -> str:
    return "FREQ=DAILY;COUNT=" + str(count) + ";BYHOUR=" + ",".join(map(str, range(24))) + ";BYMINUTE=" + \
        ",".join(map(str, range(60)))


def test_hostile_calendars_cost_the_api_nothing_and_the_worker_a_bounded_read(
        seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, tmp_path: Path) -> None:
    listing = ListingFactory()
    mentor, mentees = as_caller(listing.mentor_profile.user), [as_caller(UserFactory()) for _ in range(13)]
    seed.commit()
    feeds = {
        "secondly": Feed(body=ics(vevent("fast", NOW - timedelta(days=60), "FREQ=SECONDLY", minutes=1))),
        "many": Feed(body=ics(vevent("many", NOW, every_minute_of(20_001), minutes=1))),
        "twice": Feed(body=gzip.compress(gzip.compress(bytes(MIB)) * 1024),
                      headers={"Content-Encoding": "gzip, gzip"}),
        "old weekly": Feed(body=ics(vevent("choir", datetime(1996, 3, 5, 18, tzinfo=UTC), "FREQ=WEEKLY"))),
    }
    assert len(feeds["twice"].body) < 8 * 1024
    worker = start_worker(queues="calendars", concurrency=1)
    with subscription_server(feeds["secondly"]) as secondly, subscription_server(feeds["many"]) as many, \
            subscription_server(feeds["twice"]) as twice, subscription_server(feeds["old weekly"]) as weekly, \
            gunicorn(tmp_path, CALENDAR_ACCEPT_WAIT="2") as api, httpx.Client(timeout=60) as http:
        ids = {}
        for name, url in (("secondly", secondly), ("many", many), ("twice", twice), ("old weekly", weekly)):
            made = http.post(f"{api.url}/calendar-connections", json={"kind": "ics", "url": url},
                             headers=mentor.headers)
            assert made.status_code == 201, made.text
            ids[name] = uuid.UUID(made.json()["id"])
        drafts = [http.post(f"{api.url}/bookings", json={"listing_id": str(listing.id), "start_time": (
            START + timedelta(hours=2 * n)).isoformat()}, headers=mentee.headers).json()
            for n, mentee in enumerate(mentees)]
        before = api.peak_rss_mb()
        for draft in drafts:
            accepted = http.post(f"{api.url}/bookings/{draft['id']}/accept", headers=mentor.headers)
            assert accepted.status_code == 200, accepted.text
        grown = api.peak_rss_mb() - before
        print(f"API process: peak {before:.0f} MB, then {grown:+.1f} MB over 13 accepts")
        assert grown < API_GROWTH_MB, f"the API process grew {grown:.0f} MB over 13 accepts"

        def read(connection_id: uuid.UUID) -> CalendarConnection:
            with committed() as db:
                return db.get_one(CalendarConnection, connection_id)

        wait_until(lambda: all(read(i).last_error or read(i).synced_at for i in ids.values()), 60, "every read")
        assert read(ids["secondly"]).last_error == \
            "an event repeats more often than daily (FREQ=SECONDLY): the calendar is not read"
        assert read(ids["many"]).last_error.startswith("the calendar's events repeat more than 20000 times")
        assert read(ids["twice"]).last_error == \
            "the answer is compressed more than once (gzip, gzip): it is not read"
        weekly_read = read(ids["old weekly"])
        assert weekly_read.last_error is None and weekly_read.synced_at is not None
        with committed() as db:  # every Tuesday of the window: about 26
            assert db.scalar(select(func.count()).select_from(BusyInterval).where(
                BusyInterval.source_id.in_(select(CalendarSource.id).where(
                    CalendarSource.connection_id == ids["old weekly"])))) >= 25
        # 13 accepts of a mentor whose calendars were stale: one read of each (the refused ones back off).
        assert {name: feed.requests for name, feed in feeds.items()} == dict.fromkeys(feeds, 1)
        pool = [int(pid) for pid in Path(f"/proc/{worker.process.pid}/task/{worker.process.pid}/children")
                .read_text().split()]
        peak = max(peak_rss_mb(pid) for pid in pool)
        print(f"calendars worker's pool process, peak over the hostile reads: {peak:.0f} MB")
        assert pool and max(peak_rss_mb(pid) for pid in pool) < WORKER_RSS_MB


def test_a_caldav_server_answering_bombs_costs_the_connect_nothing(seed: Session, tmp_path: Path) -> None:
    mentor = as_caller(ListingFactory().mentor_profile.user)
    seed.commit()
    bombs = [Feed(body=gzip.compress(gzip.compress(bytes(MIB)) * 1024), status=207,
                  headers={"Content-Encoding": "gzip, gzip", "Content-Type": "application/xml"}),
             Feed(body=b"<a>" * 1_000_000 + b"</a>" * 1_000_000, status=207,
                  headers={"Content-Type": "application/xml"}),
             Feed(body=gzip.compress(bytes(MIB)) * 1024, status=207, headers={"Content-Encoding": "gzip"})]
    told = []
    with gunicorn(tmp_path) as api, httpx.Client(timeout=60) as http:
        before = api.peak_rss_mb()
        for bomb in bombs:
            with subscription_server(bomb) as url:
                made = http.post(f"{api.url}/calendar-connections", json={
                    "kind": "caldav", "url": url, "username": USER, "password": PASSWORD}, headers=mentor.headers)
            assert made.status_code == 422, made.text
            assert bomb.requests == 1
            told.append(made.json()["message"])
        grown = api.peak_rss_mb() - before
        print(f"API process: peak {before:.0f} MB, then {grown:+.1f} MB over three hostile CalDAV answers")
        assert grown < API_GROWTH_MB, f"the API process grew {grown:.0f} MB over three answers"
    # A refusal the catalogues hold says the server's own words among its own ("this calendar cannot be used: …").
    framed = "this calendar cannot be used: {}"
    assert told == [framed.format("the answer is compressed more than once (gzip, gzip): it is not read"),
                    "no calendar could be read at this address",
                    framed.format("the answer is larger than 8192 KiB once inflated: it is not read")]


def test_one_mentors_slow_calendars_never_hold_back_another_mentors_sync(
        seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, tmp_path: Path) -> None:
    # Mentor A: five calendars on a server taking 8 s to answer, each changed twelve times. Mentor B connects one
    # calendar meanwhile: it is read within seconds, on the second of the worker's two processes.
    busy, calm = as_caller(ListingFactory().mentor_profile.user), as_caller(ListingFactory().mentor_profile.user)
    seed.commit()
    slow, quick = Feed(body=ics(vevent("a", START)), delay=8.0), Feed(body=ics(vevent("b", START)))
    start_worker(queues="calendars", concurrency=2)
    with subscription_server(slow) as slow_url, subscription_server(quick) as quick_url, \
            gunicorn(tmp_path, CALENDAR_RATE_LIMIT="100/minute") as api, httpx.Client(timeout=60) as http:
        made = [http.post(f"{api.url}/calendar-connections", json={"kind": "ics", "url": slow_url},
                          headers=busy.headers).json()["id"] for _ in range(5)]
        for _ in range(12):
            for connection_id in made:
                assert http.patch(f"{api.url}/calendar-connections/{connection_id}", json={},
                                  headers=busy.headers).status_code == 200
        other = http.post(f"{api.url}/calendar-connections", json={"kind": "ics", "url": quick_url},
                          headers=calm.headers).json()["id"]
        took = wait_until(lambda: http.get(f"{api.url}/calendar-connections/{other}", headers=calm.headers)
                          .json()["busy_synced_at"] is not None, 30, "mentor B's first sync")
        print(f"mentor B's first sync came {took:.1f} s after the connect; A's server was asked {slow.requests} times")
        assert took < 5, f"mentor B's sync waited {took:.1f} s behind mentor A's"
        assert slow.requests <= 2  # one of A's at a time (CALENDAR_SYNCS_PER_MENTOR), not 60 queued
