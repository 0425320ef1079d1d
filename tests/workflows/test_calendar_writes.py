"""Sessions written to the mentor's own calendar (``workflows/calendar_writes.py``), read back from a real Radicale:
an accepted session appears with the feed's UID, a move moves it (one event, a higher SEQUENCE), a cancellation
marks it cancelled, a late older change never overwrites a newer, the events written are never read back as busy
time, and a write to a server that is down lands once it is back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import BusyInterval, CalendarSource, CalendarWrite, OutboxEvent
from tests.calendar_servers import PASSWORD, USER, Radicale, client, radicale
from tests.factories import ListingFactory, UserFactory, actor_of
from workflows import bookings, calendar_sync, calendar_writes, reschedules, sessions
from workflows.actors import Actor

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
    connection = calendar_sync.connect(db, mentor, kind="caldav", url=server.url, username=USER, password=PASSWORD)
    source = db.scalars(select(CalendarSource).where(CalendarSource.connection_id == connection.id)).one()
    calendar_sync.update(db, mentor, connection.id, calendars=[{"id": source.id, "target": True}])
    return mentor, listing, calendar


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
    booking = bookings.request_booking(db, mentee, listing_id=listing.id, start_time=T)
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
    booking = bookings.request_booking(db, actor_of(UserFactory()), listing_id=listing.id, start_time=T)
    bookings.accept_booking(db, mentor, booking.id)
    session = sessions.create_session_from_booking(db, booking.id)
    assert session is not None
    server.stop()
    assert follow(db, session.id) == []
    write = db.scalars(select(CalendarWrite)).one()
    assert write.attempts == 1 and write.last_error and write.written_sequence is None
    now = datetime.now(UTC)
    assert calendar_writes.lease_owed(db, now) == []  # backing off
    server.start()
    assert calendar_writes.lease_owed(db, write.next_attempt_at) == [write.id]
    assert calendar_writes.push(db, write.id)
    assert events_in(calendar) == [(f"{booking.id}@mentorship", 0, T, "CONFIRMED")]
    assert not calendar_writes.push(db, write.id)  # written already: nothing more
