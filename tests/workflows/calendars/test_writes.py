"""Sessions written to the mentor's own calendar (``workflows/calendars/writes.py``), read back from a real Radicale:
an accepted session appears with the feed's UID, a move moves it (one event, a higher SEQUENCE), a cancellation
marks it cancelled, a late older change never overwrites a newer, the events written are never read back as busy
time, a write to a server that is down lands once it is back, another target calendar takes the events of sessions
to come (the old one has them taken away), and writes to a broken connection wait for its new credentials."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from models import BusyInterval, CalendarConnection, CalendarSource, CalendarWrite, ConnectionStatus, OutboxEvent
from models.calendars import CALDAV
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
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import make_session
from workflows.actors import Actor
from workflows.bookings import lifecycle as bookings
from workflows.bookings import requests, reschedules
from workflows.calendars import accounts as calendar_accounts
from workflows.calendars import connections as calendar_connections
from workflows.calendars import sync as calendar_sync
from workflows.calendars import writes as calendar_writes
from workflows.sessions import lifecycle as sessions

T = (datetime.now(UTC) + timedelta(days=6)).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Radicale]:
    with radicale(tmp_path) as running:
        yield running


def connected(db: Session, server: Radicale) -> tuple[Actor, Any, Any]:
    """A mentor whose Radicale calendar receives their sessions; the mentor, their listing and the calendar."""
    listing = ListingFactory(title="COBOL clinic")
    mentor = actor_of(listing.mentor_profile.user)
    calendar = client(server).principal().make_calendar(name="Work")
    connection = connect_account(db, mentor, server)
    source = db.scalars(select(CalendarSource).where(CalendarSource.connection_id == connection.id)).one()
    calendar_connections.update(db, mentor, connection.id, calendars=[{"id": source.id, "target": True}])
    return mentor, listing, calendar


def scheduled(db: Session, mentor: Actor, listing: Any, start: datetime) -> Any:
    """A session of the listing at ``start``: requested by a new mentee, accepted, made as the worker makes it."""
    booking = requests.request_booking(db, actor_of(UserFactory()), listing_id=listing.id, start_time=start)
    bookings.accept_booking(db, mentor, booking.id)
    session = sessions.create_session_from_booking(db, booking.id)
    assert session is not None
    return session


def follow(db: Session, *aggregate_ids: uuid.UUID) -> list[uuid.UUID]:
    """Run the handler on the sessions' events, then each write owed: what the workers do."""
    calendar_writes.handle_events(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.aggregate_id.in_(aggregate_ids), OutboxEvent.type.like("session.%")))))
    written = []
    for write in db.scalars(select(CalendarWrite)):
        if calendar_writes.push(db, write.id):
            written.append(write.id)
    return written


def events_in(calendar: Any) -> list[tuple[str, int, datetime, str]]:
    found = []
    for item in calendar.events():
        for event in icalendar.Calendar.from_ical(item.data).walk("VEVENT"):
            found.append((str(event["UID"]), int(event["SEQUENCE"]), event["DTSTART"].dt, str(event["STATUS"])))
    return sorted(found)


def test_a_session_is_written_moved_with_one_event_and_marked_cancelled(db: Session, server: Radicale) -> None:
    mentor, listing, calendar = connected(db, server)
    mentee = actor_of(UserFactory(display_name="Ada Lovelace"))
    booking = requests.request_booking(db, mentee, listing_id=listing.id, start_time=T)
    bookings.accept_booking(db, mentor, booking.id)
    first = sessions.create_session_from_booking(db, booking.id)
    assert first is not None
    assert len(follow(db, first.id)) == 1
    uid = f"{booking.id}@mentorship"
    assert events_in(calendar) == [(uid, 0, T, "CONFIRMED")]
    assert "COBOL clinic with Ada Lovelace" in calendar.events()[0].data

    # Moved by agreement: the old session is cancelled and a new one made; the calendar keeps one event, moved.
    proposal = reschedules.propose(db, mentee, booking.id, [T + timedelta(hours=3)])
    moved = reschedules.accept(db, mentor, proposal.id, T + timedelta(hours=3))
    second = sessions.create_session_from_booking(db, moved.booking.id)
    assert second is not None
    follow(db, first.id, second.id)
    [(same_uid, sequence, start, status)] = events_in(calendar)
    assert (same_uid, start, status) == (uid, T + timedelta(hours=3), "CONFIRMED") and sequence > 0

    # A late write of the old session's cancellation changes nothing: the row keeps the newest state.
    calendar_writes.handle_events(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.aggregate_id == first.id, OutboxEvent.type == "session.cancelled"))))
    assert events_in(calendar)[0][2] == T + timedelta(hours=3)

    sessions.cancel_session(db, mentor, second.id, reason="ill")
    follow(db, second.id)
    assert [(found[0], found[3]) for found in events_in(calendar)] == [(uid, "CANCELLED")]

    # What the service wrote is never read back as the mentor's busy time.
    assert calendar_sync.sync_connection(db, db.scalars(select(CalendarSource)).one().connection_id)
    assert db.scalars(select(BusyInterval)).all() == []


def test_a_write_to_a_server_that_is_down_lands_once_it_is_back(db: Session, server: Radicale) -> None:
    mentor, listing, calendar = connected(db, server)
    session = scheduled(db, mentor, listing, T)
    server.stop()
    assert follow(db, session.id) == []
    write = db.scalars(select(CalendarWrite)).one()
    assert write.attempts == 1 and write.last_error and write.written_sequence is None
    now = datetime.now(UTC)
    assert calendar_writes.lease_owed(db, now) == []  # backing off
    server.start()
    assert calendar_writes.lease_owed(db, write.next_attempt_at) == [write.id]
    assert calendar_writes.push(db, write.id)
    assert events_in(calendar) == [(f"{session.booking_id}@mentorship", 0, T, "CONFIRMED")]
    assert not calendar_writes.push(db, write.id)  # written already: nothing more


def write_owed(db: Session) -> None:
    """Each write owed, as the workers send them."""
    for write_id in list(db.scalars(select(CalendarWrite.id))):
        calendar_writes.push(db, write_id)


def test_choosing_another_target_moves_the_events_of_sessions_to_come_and_leaves_past_ones(
        db: Session, server: Radicale) -> None:
    listing = ListingFactory()
    mentor = actor_of(listing.mentor_profile.user)
    work, home = (client(server).principal().make_calendar(name=name) for name in ("Work", "Home"))
    connection = connect_account(db, mentor, server)
    source = {s.name: s for s in db.scalars(select(CalendarSource))}
    calendar_connections.update(db, mentor, connection.id, calendars=[{"id": source["Work"].id, "target": True}])
    past, coming = (scheduled(db, mentor, listing, T + timedelta(hours=hours)) for hours in (0, 3))
    follow(db, past.id, coming.id)
    assert len(events_in(work)) == 2
    past.start_time, past.end_time = T - timedelta(days=30), T - timedelta(days=30, hours=-1)  # it took place
    db.flush()

    calendar_connections.update(db, mentor, connection.id, calendars=[{"id": source["Home"].id, "target": True}])
    write_owed(db)
    assert [e[0] for e in events_in(work)] == [f"{past.booking_id}@mentorship"]
    assert [e[0] for e in events_in(home)] == [f"{coming.booking_id}@mentorship"]
    # The session changes: the new target follows it, the old one is not written to again.
    sessions.cancel_session(db, mentor, coming.id, reason="ill")
    follow(db, coming.id)
    assert [e[3] for e in events_in(home)] == ["CANCELLED"]
    assert [e[0] for e in events_in(work)] == [f"{past.booking_id}@mentorship"]

    # No target at all: the events to come are taken away, and nothing is owed any more.
    calendar_connections.update(db, mentor, connection.id, calendars=[{"id": source["Home"].id, "target": False}])
    write_owed(db)
    assert events_in(home) == []
    assert calendar_writes.lease_owed(db, datetime.now(UTC) + timedelta(days=1)) == []


def test_writes_to_a_broken_connection_wait_for_new_credentials_then_land(db: Session, server: Radicale) -> None:
    mentor, listing, calendar = connected(db, server)
    session = scheduled(db, mentor, listing, T)
    connection = db.scalars(select(CalendarConnection)).one()
    connection.status = ConnectionStatus.BROKEN  # the server refused the password at the last sync
    db.flush()
    assert follow(db, session.id) == []
    later = datetime.now(UTC) + timedelta(days=1)
    assert calendar_writes.lease_owed(db, later) == []  # not sent again and again meanwhile
    calendar_connections.update(db, mentor, connection.id, password=PASSWORD)
    [write_id] = calendar_writes.lease_owed(db, datetime.now(UTC) + timedelta(seconds=1))
    assert calendar_writes.push(db, write_id)
    assert events_in(calendar) == [(f"{session.booking_id}@mentorship", 0, T, "CONFIRMED")]


def test_a_write_holds_no_lock_while_the_server_answers_and_two_writes_of_one_event_send_it_once(
        seed: Session, committed: sessionmaker[Session]) -> None:
    # A server taking 2 s to answer a PUT: the write's row is free meanwhile (it is leased, not locked), and a second
    # write of the same event started at once finds the lease and leaves it (the first sends the newest state).
    _mentor, _mentee, session = make_session(seed, T)
    feed = Feed(status=201, delay=2.0)
    with subscription_server(feed) as url:
        connection = CalendarConnection(
            id=uuid.uuid4(), mentor_profile_id=session.mentor_profile_id, kind=CALDAV, host="127.0.0.1",
            credentials=calendar_accounts.seal(get_settings(), {"url": url, "username": USER, "password": PASSWORD}),
            status=ConnectionStatus.ACTIVE)
        source = CalendarSource(id=uuid.uuid4(), connection_id=connection.id,
                                mentor_profile_id=session.mentor_profile_id, href=url.rsplit("/", 1)[0] + "/work/",
                                name="Work", busy=False, target=True, writable=True)
        write = CalendarWrite(id=uuid.uuid4(), source_id=source.id, uid=f"{session.booking_id}@mentorship",
                              session_id=session.id, sequence=1)
        seed.add(connection)
        seed.flush()
        seed.add(source)
        seed.flush()
        seed.add(write)
        seed.commit()
        with ThreadPoolExecutor(2) as pool:
            sending = [pool.submit(calendar_writes.push_apart, committed.begin, write.id) for _ in range(2)]
            time.sleep(1.0)  # one of them waits on the server now
            with committed() as db:
                row = db.execute(select(CalendarWrite).where(CalendarWrite.id == write.id)
                                 .with_for_update(nowait=True)).scalar_one()  # LockNotAvailable if it were held
                assert row.sending_until is not None
            outcomes = [future.result() for future in sending]
    assert sorted(outcomes) == [False, True]
    assert feed.requests == 1
    with committed() as db:
        done = db.get_one(CalendarWrite, write.id)
        assert (done.written_sequence, done.sending_until) == (1, None)
