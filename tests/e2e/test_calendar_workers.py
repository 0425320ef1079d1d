"""Calendar sync and write-back through the real workers: a mentor connects Radicale over HTTP and chooses where
sessions go; an event they add is read by the worker's sync (sent by the beat's task) and takes the slot; an accepted
session reaches their calendar through the outbox handler and the write task, exactly once; an accept of a mentor
whose calendar is stale has it read by the worker first, and is refused when it became busy."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from models import CalendarConnection
from tests.calendar_servers import PASSWORD, USER, client, radicale
from tests.concurrency import wait_until
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.servers import live_app
from tests.workers_fixtures import StartWorker

START = (datetime.now(UTC) + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
STAMP = "%Y%m%dT%H%M%SZ"


def test_the_workers_read_the_calendar_and_write_an_accepted_session_to_it(
        seed: Session, committed: sessionmaker[Session], celery_app: Celery, start_worker: StartWorker,
        tmp_path: Path) -> None:
    listing = ListingFactory(title="COBOL clinic")
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    seed.commit()
    http = live_app(committed).test_client()
    start_worker(queues="sessions,events,calendars,maintenance")
    with radicale(tmp_path) as server:
        calendar = client(server).principal().make_calendar(name="Work")
        calendar.add_event(f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VEVENT\r\nUID:gym\r\n"
                           f"DTSTAMP:20300101T000000Z\r\nDTSTART:{START:{STAMP}}\r\n"
                           f"DTEND:{START + timedelta(hours=1):{STAMP}}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        account = {"kind": "caldav", "url": server.url, "username": USER, "password": PASSWORD}
        made = http.post("/api/v1/calendar-connections", json=account, headers=mentor.headers).get_json()
        http.patch(f"/api/v1/calendar-connections/{made['id']}", headers=mentor.headers,
                   json={"calendars": [{"id": made["calendars"][0]["id"], "target": True}]})
        celery_app.send_task("calendars.sync_due")
        wait_until(lambda: http.get(f"/api/v1/calendar-connections/{made['id']}", headers=mentor.headers)
                   .get_json()["busy_synced_at"] is not None, 30, "the first sync")
        window = f"from={START.isoformat()}&to={(START + timedelta(hours=4)).isoformat()}".replace("+", "%2B")
        free = {s["start_time"] for s in http.get(f"/api/v1/listings/{listing.id}/slots?{window}",
                                                  headers=mentee.headers).get_json()["items"]}
        assert START.isoformat() not in free and (START + timedelta(hours=2)).isoformat() in free

        later = START + timedelta(hours=2)
        booking = http.post("/api/v1/bookings", json={"listing_id": str(listing.id), "start_time": later.isoformat()},
                            headers=mentee.headers).get_json()
        assert http.post(f"/api/v1/bookings/{booking['id']}/accept", headers=mentor.headers).status_code == 200
        uid = f"{booking['id']}@mentorship"
        wait_until(lambda: any(uid in item.data for item in calendar.events()), 30, "the session in Radicale")
        assert sum(uid in item.data for item in calendar.events()) == 1


def test_an_accept_has_a_stale_calendar_read_by_the_workers_and_is_refused_when_it_became_busy(
        seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, tmp_path: Path) -> None:
    listing = ListingFactory()
    mentor, mentees = as_caller(listing.mentor_profile.user), [as_caller(UserFactory()) for _ in range(2)]
    seed.commit()
    http = live_app(committed).test_client()
    start_worker(queues="calendars", concurrency=1)
    with radicale(tmp_path) as server:
        calendar = client(server).principal().make_calendar(name="Personal")
        made = http.post("/api/v1/calendar-connections", json={"kind": "caldav", "url": server.url, "username": USER,
                                                                "password": PASSWORD}, headers=mentor.headers)
        assert made.status_code == 201, made.get_json()
        connection_id = made.get_json()["id"]
        wait_until(lambda: http.get(f"/api/v1/calendar-connections/{connection_id}", headers=mentor.headers)
                   .get_json()["busy_synced_at"] is not None, 30, "the first sync")
        first, second = (http.post("/api/v1/bookings", json={"listing_id": str(listing.id), "start_time": (
            START + timedelta(hours=hours)).isoformat()}, headers=mentee.headers).get_json()
            for hours, mentee in zip((0, 3), mentees, strict=True))
        # Read an hour ago, before the mentor added an event at the first request's time.
        with committed() as db:
            db.get_one(CalendarConnection, connection_id).synced_at = datetime.now(UTC) - timedelta(hours=1)
            db.commit()
        calendar.add_event(f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VEVENT\r\nUID:school\r\n"
                           f"DTSTAMP:20300101T000000Z\r\nDTSTART:{START:{STAMP}}\r\n"
                           f"DTEND:{START + timedelta(hours=1):{STAMP}}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        busy = http.post(f"/api/v1/bookings/{first['id']}/accept", headers=mentor.headers)
        assert busy.status_code == 409, busy.get_json()
        assert busy.get_json()["errors"]["rule"] == "calendar_busy"  # the mentor reads their own calendar's rule
        fine = http.post(f"/api/v1/bookings/{second['id']}/accept", headers=mentor.headers)
        assert fine.status_code == 200, fine.get_json()
        assert datetime.now(UTC) - datetime.fromisoformat(fine.headers["Calendar-Synced-At"]) < timedelta(minutes=1)


def test_a_group_sessions_event_in_the_mentors_calendar_counts_its_participants(
        seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, tmp_path: Path) -> None:
    listing = ListingFactory(title="COBOL circle", kind="group", capacity=5)
    mentor, ada, bob = as_caller(listing.mentor_profile.user), as_caller(UserFactory()), as_caller(UserFactory())
    seed.commit()
    http = live_app(committed).test_client()
    start_worker(queues="sessions,events,calendars,maintenance")
    with radicale(tmp_path) as server:
        calendar = client(server).principal().make_calendar(name="Work")
        account = {"kind": "caldav", "url": server.url, "username": USER, "password": PASSWORD}
        made = http.post("/api/v1/calendar-connections", json=account, headers=mentor.headers).get_json()
        http.patch(f"/api/v1/calendar-connections/{made['id']}", headers=mentor.headers,
                   json={"calendars": [{"id": made["calendars"][0]["id"], "target": True}]})
        session = http.post(f"/api/v1/listings/{listing.id}/group-sessions", headers=mentor.headers,
                            json={"start_time": START.isoformat()}).get_json()
        uid = f"{session['id']}@mentorship"

        def titled(words: str) -> bool:
            return any(uid in item.data and re.search(f"{words}\\b", item.data) for item in calendar.events())

        wait_until(lambda: titled("COBOL circle with 0 participants"), 30, "the session in Radicale")
        for caller in (ada, bob):
            assert http.post(f"/api/v1/sessions/{session['id']}/join", json={}, headers=caller.headers
                             ).status_code == 201
        wait_until(lambda: titled("COBOL circle with 2 participants"), 30, "two seats in its title")
        assert http.post(f"/api/v1/sessions/{session['id']}/cancel", json={"reason": "Ill"}, headers=bob.headers
                         ).status_code == 200
        wait_until(lambda: titled("COBOL circle with 1 participant"), 30, "one seat given up")
        assert sum(uid in item.data for item in calendar.events()) == 1
