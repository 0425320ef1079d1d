"""A mentor's own calendar (``workflows/calendars/sync.py``) against a real Radicale and a local subscription server:
what makes the mentor busy (recurring events with an exception and a moved occurrence, all-day, transparent,
cancelled, another timezone, floating, across a DST change, the service's own events), the slots and requests that
honour it, what changed read again only, and faults that lose nothing: a server down, garbage, too many events,
credentials refused."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from devstack.host import free_port
from infra import calendar_http
from infra.calendar_http import CalendarFault
from infra.config import get_settings
from models import BusyInterval, CalendarConnection, CalendarSource, ConnectionStatus, Notification, OutboxEvent
from tests.calendar_servers import (
    PASSWORD,
    USER,
    Feed,
    Radicale,
    client,
    connect_account,
    radicale,
    subscription_server,
)
from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from workflows.actors import Actor
from workflows.bookings import lifecycle as bookings
from workflows.bookings import requests
from workflows.calendars import accounts as calendar_accounts
from workflows.calendars import busy as calendar_busy
from workflows.calendars import connections as calendar_connections
from workflows.calendars import sync as calendar_sync
from workflows.errors import Conflict, Forbidden, InvalidInput
from workflows.scheduling import slots

NOW = datetime(2030, 3, 20, 12, tzinfo=UTC)  # the sync's "now": Paris changes to summer time on 31 March 2030
PARIS = "Europe/Paris"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def vevent(body: str) -> str:
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\n{body}END:VCALENDAR\r\n"


PARIS_ZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n"
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")
EVENTS = {
    "single": vevent(PARIS_ZONE + "BEGIN:VEVENT\r\nUID:single\r\nDTSTAMP:20300301T000000Z\r\n"
                     "DTSTART;TZID=Europe/Paris:20300325T100000\r\nDTEND;TZID=Europe/Paris:20300325T110000\r\n"
                     "SUMMARY:Dentist\r\nEND:VEVENT\r\n"),
    # Tuesdays at 18:00 in Paris, four times across the DST change: the second skipped, the third moved to 20:00.
    "weekly": vevent(PARIS_ZONE + "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20300301T000000Z\r\n"
                     "DTSTART;TZID=Europe/Paris:20300326T180000\r\nDTEND;TZID=Europe/Paris:20300326T190000\r\n"
                     "RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE;TZID=Europe/Paris:20300402T180000\r\n"
                     "SUMMARY:Choir\r\nEND:VEVENT\r\n"
                     "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20300301T000000Z\r\n"
                     "RECURRENCE-ID;TZID=Europe/Paris:20300409T180000\r\n"
                     "DTSTART;TZID=Europe/Paris:20300409T200000\r\nDTEND;TZID=Europe/Paris:20300409T210000\r\n"
                     "SUMMARY:Choir (late)\r\nEND:VEVENT\r\n"),
    "all-day": vevent("BEGIN:VEVENT\r\nUID:all-day\r\nDTSTAMP:20300301T000000Z\r\nDTSTART;VALUE=DATE:20300327\r\n"
                      "DTEND;VALUE=DATE:20300328\r\nSUMMARY:Holiday\r\nEND:VEVENT\r\n"),
    "transparent": vevent("BEGIN:VEVENT\r\nUID:transparent\r\nDTSTAMP:20300301T000000Z\r\n"
                          "DTSTART:20300328T080000Z\r\nDTEND:20300328T090000Z\r\nTRANSP:TRANSPARENT\r\n"
                          "SUMMARY:Reminder\r\nEND:VEVENT\r\n"),
    "new-york": vevent("BEGIN:VEVENT\r\nUID:new-york\r\nDTSTAMP:20300301T000000Z\r\n"
                       "DTSTART;TZID=America/New_York:20300329T090000\r\n"
                       "DTEND;TZID=America/New_York:20300329T100000\r\nSUMMARY:Call\r\nEND:VEVENT\r\n"),
    "floating": vevent("BEGIN:VEVENT\r\nUID:floating\r\nDTSTAMP:20300301T000000Z\r\nDTSTART:20300330T120000\r\n"
                       "DTEND:20300330T130000\r\nSUMMARY:Lunch\r\nEND:VEVENT\r\n"),
    "cancelled": vevent("BEGIN:VEVENT\r\nUID:cancelled\r\nDTSTAMP:20300301T000000Z\r\nDTSTART:20300325T140000Z\r\n"
                        "DTEND:20300325T150000Z\r\nSTATUS:CANCELLED\r\nSUMMARY:Off\r\nEND:VEVENT\r\n"),
    "ours": vevent("BEGIN:VEVENT\r\nUID:6f1c2f5e-8d4b-4a57-9a53-2a8b4f0f3c11@mentorship\r\nDTSTAMP:20300301T000000Z\r\n"
                   "DTSTART:20300331T080000Z\r\nDTEND:20300331T090000Z\r\nSUMMARY:Session\r\nEND:VEVENT\r\n"),
}
EXPECTED = [
    (utc(2030, 3, 25, 9), utc(2030, 3, 25, 10)),  # 10:00 in Paris, winter time
    (utc(2030, 3, 26, 17), utc(2030, 3, 26, 18)),  # 18:00 in Paris, winter time
    (utc(2030, 3, 26, 23), utc(2030, 3, 27, 23)),  # the whole of 27 March in Paris
    (utc(2030, 3, 29, 13), utc(2030, 3, 29, 14)),  # 09:00 in New York, summer time there already
    (utc(2030, 3, 30, 11), utc(2030, 3, 30, 12)),  # noon, floating: the mentor's own
    (utc(2030, 4, 9, 18), utc(2030, 4, 9, 19)),  # the moved occurrence, 20:00 in Paris, summer time
    (utc(2030, 4, 16, 16), utc(2030, 4, 16, 17)),  # 18:00 in Paris, summer time (2 April skipped)
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Radicale]:
    with radicale(tmp_path) as running:
        yield running


def mentor(db: Session) -> tuple[Actor, Any]:
    listing = ListingFactory()
    listing.mentor_profile.timezone = PARIS
    db.flush()
    return actor_of(listing.mentor_profile.user), listing


def fill(server: Radicale, names: list[str]) -> Any:
    calendar = client(server).principal().make_calendar(name="Personal")
    for name in names:
        calendar.add_event(EVENTS[name])
    return calendar


def busy(db: Session, mentor_profile_id: uuid.UUID) -> list[tuple[datetime, datetime]]:
    return [(b.start_time, b.end_time) for b in db.scalars(select(BusyInterval).where(
        BusyInterval.mentor_profile_id == mentor_profile_id).order_by(BusyInterval.start_time))]


def test_what_makes_the_mentor_busy_is_read_from_a_caldav_account_and_honoured(db: Session, server: Radicale) -> None:
    actor, listing = mentor(db)
    fill(server, list(EVENTS))
    connection = connect_account(db, actor, server)
    assert PASSWORD not in connection.credentials and server.url not in connection.credentials
    assert calendar_sync.sync_connection(db, connection.id, now=NOW)
    assert busy(db, listing.mentor_profile_id) == EXPECTED
    assert connection.synced_at == NOW

    # The slot at 10:00 in Paris on 25 March is gone, 11:00 stays; a request then is refused without saying why.
    day = slots.free_slots(db, listing.id, start=utc(2030, 3, 25, 0), end=utc(2030, 3, 26, 0), now=NOW)
    starts = {slot.start_time for slot in day}
    assert utc(2030, 3, 25, 9) not in starts and utc(2030, 3, 25, 10) in starts
    mentee = actor_of(UserFactory())
    error = refused(db, Conflict, lambda: requests.request_booking(
        db, mentee, listing_id=listing.id, start_time=utc(2030, 3, 25, 9), now=NOW))
    # The mentee reads no more than that the mentor is not available; the mentor's own accept names the calendar.
    assert (error.message, error.details["rule"]) == ("the mentor is not available at that time", "unavailable")
    assert requests.request_booking(db, mentee, listing_id=listing.id, start_time=utc(2030, 3, 25, 10), now=NOW)
    draft = BookingFactory(listing=listing, start_time=utc(2030, 3, 25, 9))  # made before the sync, in a race
    error = refused(db, Conflict, lambda: bookings.accept_booking(db, actor, draft.id))
    assert (error.message, error.details["rule"]) == ("the mentor's calendar is busy then", "calendar_busy")


def test_a_calendar_that_did_not_change_is_not_read_again_and_one_that_did_is(db: Session, server: Radicale) -> None:
    actor, listing = mentor(db)
    calendar = fill(server, ["single"])
    connection = connect_account(db, actor, server)
    assert calendar_sync.sync_connection(db, connection.id, now=NOW)
    source = db.scalars(select(CalendarSource).where(CalendarSource.connection_id == connection.id)).one()
    first = source.ctag
    assert first is not None
    assert calendar_sync.sync_connection(db, connection.id, now=NOW)  # the same ctag: nothing read again
    assert busy(db, listing.mentor_profile_id) == EXPECTED[:1]
    calendar.add_event(EVENTS["floating"])
    assert calendar_sync.sync_connection(db, connection.id, now=NOW)
    assert source.ctag != first
    assert busy(db, listing.mentor_profile_id) == [EXPECTED[0], EXPECTED[4]]

    # No longer counted as busy: its times free at once, and whoever watches the slots hears of it.
    def changes() -> dict[uuid.UUID, tuple[str, str, str]]:
        return {e.id: (e.payload["change"], e.payload["start_time"], e.payload["end_time"])
                for e in db.scalars(select(OutboxEvent).where(OutboxEvent.type == "schedule.changed"))}

    before = changes()
    calendar_connections.update(db, actor, connection.id, calendars=[{"id": source.id, "busy": False}])
    assert busy(db, listing.mentor_profile_id) == []
    assert [v for k, v in changes().items() if k not in before] == [
        ("calendar", EXPECTED[0][0].isoformat(), EXPECTED[4][1].isoformat())]
    calendar_connections.update(db, actor, connection.id, calendars=[{"id": source.id, "busy": True}])
    assert calendar_sync.sync_connection(db, connection.id, now=NOW)  # read whole again
    assert busy(db, listing.mentor_profile_id) == [EXPECTED[0], EXPECTED[4]]
    before = changes()
    calendar_connections.disconnect(db, actor, connection.id)
    assert busy(db, listing.mentor_profile_id) == []
    assert len(changes()) == len(before) + 1


def test_a_server_stopped_mid_way_loses_nothing_and_refused_credentials_break_the_connection_once(
        db: Session, server: Radicale) -> None:
    actor, listing = mentor(db)
    calendar = fill(server, ["single"])
    connection = connect_account(db, actor, server)
    assert calendar_sync.sync_connection(db, connection.id, now=NOW)
    server.stop()
    later = NOW + timedelta(minutes=10)
    assert not calendar_sync.sync_connection(db, connection.id, now=later)
    assert busy(db, listing.mentor_profile_id) == EXPECTED[:1]  # the last good sync stands
    assert connection.synced_at == NOW and connection.last_error and connection.status == "active"
    assert connection.next_sync_at > later + timedelta(seconds=get_settings().calendar_sync_interval_seconds)
    server.start()
    calendar.add_event(EVENTS["floating"])
    assert calendar_sync.sync_connection(db, connection.id, now=later)
    assert busy(db, listing.mentor_profile_id) == [EXPECTED[0], EXPECTED[4]]
    assert (connection.last_error, connection.failures) == (None, 0)

    (server.root / "users").write_text(f"{USER}:a-new-password\n")  # the mentor revoked the app password
    for _ in range(2):
        assert not calendar_sync.sync_connection(db, connection.id, now=later)
    assert connection.status == ConnectionStatus.BROKEN
    told = db.scalars(select(Notification).where(Notification.type == "calendar.broken")).all()
    assert [n.user_id for n in told] == [actor.user_id]  # once
    assert calendar_sync.lease_due(db, later + timedelta(days=30)) == []  # not tried again until fixed
    calendar_connections.update(db, actor, connection.id, password="a-new-password")
    assert connection.status == "active"
    assert calendar_sync.sync_connection(db, connection.id, now=later)


def test_a_subscription_is_read_again_only_when_changed_and_garbage_or_a_huge_feed_keep_the_last_good_sync(
        db: Session) -> None:
    actor, listing = mentor(db)
    feed = Feed(body=EVENTS["single"].encode())
    with subscription_server(feed) as url:
        connection = calendar_connections.connect(db, actor, kind="ics", url=url)
        assert connection.host == "127.0.0.1" and url not in connection.credentials
        assert calendar_sync.sync_connection(db, connection.id, now=NOW)
        assert calendar_sync.sync_connection(db, connection.id, now=NOW)
        assert (feed.requests, feed.not_modified) == (2, 1)  # the second answered 304
        assert busy(db, listing.mentor_profile_id) == EXPECTED[:1]

        feed.body, feed.etag = b"BEGIN:VCALENDAR\r\nthis is not iCalendar", '"2"'
        assert not calendar_sync.sync_connection(db, connection.id, now=NOW)
        assert connection.last_error == "the calendar is not valid iCalendar"
        many = "".join(f"BEGIN:VEVENT\r\nUID:e{n}\r\nDTSTAMP:20300301T000000Z\r\nDTSTART:20300401T{n % 24:02d}0000Z\r\n"
                       f"DURATION:PT1M\r\nEND:VEVENT\r\n" for n in range(50_000))
        feed.body, feed.etag = vevent(many).encode(), '"3"'
        assert not calendar_sync.sync_connection(db, connection.id, now=NOW)
        assert len(feed.body) < get_settings().calendar_max_bytes  # refused for its events, before it is parsed
        assert connection.last_error.startswith("the calendar holds more than")
        assert busy(db, listing.mentor_profile_id) == EXPECTED[:1]

        # One event of a megabyte (a long description) is read like any other.
        long = "DESCRIPTION:" + "x" * 70 + "".join("\r\n " + "x" * 70 for _ in range(15_000))
        feed.body, feed.etag = vevent(
            f"BEGIN:VEVENT\r\nUID:long\r\nDTSTAMP:20300301T000000Z\r\nDTSTART:20300401T080000Z\r\n"
            f"DTEND:20300401T090000Z\r\n{long}\r\nEND:VEVENT\r\n").encode(), '"4"'
        assert len(feed.body) > 1_000_000
        assert calendar_sync.sync_connection(db, connection.id, now=NOW)
        assert busy(db, listing.mentor_profile_id) == [(utc(2030, 4, 1, 8), utc(2030, 4, 1, 9))]


def test_only_mentors_connect_and_bad_addresses_or_credentials_are_refused_before_anything_is_kept(
        db: Session, server: Radicale) -> None:
    actor, _listing = mentor(db)
    refused(db, Forbidden, lambda: calendar_connections.connect(db, actor_of(UserFactory()), kind="ics",
                                                                url="https://calendar.example.com/basic.ics"))
    error = refused(db, InvalidInput, lambda: calendar_connections.connect(
        db, actor, kind="caldav", url=server.url, username=USER, password="wrong"))
    assert (error.message, error.details["field"]) == ("the server refused the user name or app password", "password")
    error = refused(db, InvalidInput, lambda: calendar_connections.connect(
        db, actor, kind="caldav", url="ftp://x.example", username=USER, password=PASSWORD))
    assert error.message.startswith("this calendar address is refused: the URL must start with http")
    assert db.scalars(select(CalendarConnection)).all() == []


def test_a_connect_tells_the_kind_of_failure_never_what_the_network_answered(
        db: Session, server: Radicale, caplog: pytest.LogCaptureFixture) -> None:
    # The service is no scanner: an address resolving to a private or link-local one, a closed port, and a server that
    # answers 404 or something that is not CalDAV are told apart only as "unreachable" and "not a calendar"; no
    # address, port, status or exception name reaches the mentor (the log keeps the detail).
    actor, _listing = mentor(db)
    public = dataclasses.replace(get_settings(), webhook_allow_private_targets=False,
                                 webhook_allow_loopback_targets=False)
    # (A server too slow is a CalendarUnreachable as a closed port is: tests/workflows/calendars/test_sync.py's
    # test_hostile_answers_are_refused_not_obeyed.)
    with subscription_server(Feed(status=404)) as missing, subscription_server(Feed(body=b"<html>hi</html>")) as page:
        cases = [("http://169.254.169.254/", public, calendar_http.UNREACHABLE),
                 ("http://10.0.0.7:8080/dav/", public, calendar_http.UNREACHABLE),
                 (f"http://127.0.0.1:{free_port()}/", None, calendar_http.UNREACHABLE),
                 (missing, None, calendar_http.NOT_A_CALENDAR),
                 (page, None, calendar_http.NOT_A_CALENDAR)]
        for url, settings, told in cases:
            error = refused(db, InvalidInput, lambda url=url, settings=settings: calendar_connections.connect(
                db, actor, kind="caldav", url=url, username=USER, password=PASSWORD, settings=settings))
            assert (error.message, error.details) == (told, {"field": "url"}), url
    assert db.scalars(select(CalendarConnection)).all() == []


def test_credentials_survive_a_key_rotation(
        db: Session, configure: Callable[..., None]) -> None:
    actor, _listing = mentor(db)
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    configure(CREDENTIALS_KEYS=old)
    with subscription_server(Feed(body=EVENTS["single"].encode())) as url:
        connection = calendar_connections.connect(db, actor, kind="ics", url=url)
        configure(CREDENTIALS_KEYS=f"{new},{old}")  # the new key first: it encrypts, both decrypt
        assert calendar_accounts.reseal(db, get_settings()) == 1
        configure(CREDENTIALS_KEYS=new)  # the old key dropped
        assert calendar_accounts.unseal(get_settings(), connection.credentials)["url"] == url
        assert calendar_sync.sync_connection(db, connection.id, now=NOW)
        configure(CREDENTIALS_KEYS=old)  # a key that never sealed it
        assert not calendar_sync.sync_connection(db, connection.id, now=NOW)
        assert connection.last_error == "the stored credentials cannot be read with the keys configured: connect again"


def test_hostile_answers_are_refused_not_obeyed(db: Session) -> None:
    # A document type (so entities) in any encoding; a rule repeating every second (tests/workflows/
    # test_calendar_busy.py has the rest); a redirect to another host.
    bomb = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'.encode("utf-16")
    with pytest.raises(CalendarFault, match="declares a document type"):
        calendar_http._xml(bomb)
    every_second = vevent("BEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20300301T000000Z\r\nDTSTART:20300401T000000Z\r\n"
                          "DURATION:PT1S\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\n").encode()
    with pytest.raises(CalendarFault, match="more often than daily"):
        calendar_busy.busy_times([every_second], ZoneInfo(PARIS), NOW, NOW + timedelta(days=180), 1000)
    redirect = Feed(status=302)
    with subscription_server(Feed()) as other, subscription_server(redirect) as first:
        redirect.location = other  # another port: another origin
        client = calendar_accounts.client_for(get_settings(), {"url": first, "username": USER, "password": PASSWORD})
        with client, pytest.raises(CalendarFault, match="another address"):
            client.request("GET", first)
    # A server slow at each answer, though within the bound of one request, is given up on for the whole sync.
    slow = Feed(body=EVENTS["single"].encode(), delay=0.6)
    with subscription_server(slow) as url:
        client = calendar_accounts.client_for(get_settings(), {"url": url}, total=1.0)
        with client:
            assert client.request("GET", url).status == 200
            with pytest.raises(calendar_http.CalendarUnreachable, match="within 1 s in all") as slow:
                client.request("GET", url)  # 0.4 s left of the whole
            assert slow.value.public == calendar_http.UNREACHABLE  # what a mentor reads of it


def test_a_sync_storing_its_read_does_not_wait_for_a_mentor_choosing_calendars(
        seed: Session, committed: sessionmaker[Session]) -> None:
    """A change of calendars takes the mentor's turn (their row) before the connection's; a sync storing its read
    holds the connection and inserts busy times, whose key on the mentor must not wait for that turn: if it did, each
    would wait for the other (a deadlock PostgreSQL breaks by failing one, which the mentor saw as a 409)."""
    listing = ListingFactory()
    seed.flush()
    connection = CalendarConnection(id=uuid.uuid4(), mentor_profile_id=listing.mentor_profile_id, kind="ics",
                                    host="calendar.example.com", credentials="sealed", status=ConnectionStatus.ACTIVE)
    source = CalendarSource(id=uuid.uuid4(), connection_id=connection.id, mentor_profile_id=listing.mentor_profile_id,
                            href="https://calendar.example.com/personal.ics", name="Personal")
    seed.add(connection)
    seed.flush()
    seed.add(source)
    seed.commit()
    actor = actor_of(listing.mentor_profile.user)
    busy = [(NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1))]
    with committed() as choosing, committed() as storing:
        calendar_connections.mentor_turn(choosing, actor)  # as a change of calendars takes it, first
        storing.execute(text("SET LOCAL lock_timeout = '2s'"))
        assert calendar_sync.store(storing, connection.id, [calendar_sync.Read(source.id, busy)], {}, now=NOW,
                                   settings=get_settings())
        storing.commit()
        choosing.rollback()
    with committed() as reading:
        assert reading.scalars(select(BusyInterval.start_time).where(BusyInterval.source_id == source.id)).all() \
            == [busy[0][0]]
