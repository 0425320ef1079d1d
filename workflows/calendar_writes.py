"""Sessions written to the mentor's own calendar: the calendar they chose to receive them (``target``).

The ``calendars.follow_sessions`` handler (``workflows/handlers.py``) runs in the transaction of a session's change
(scheduled, cancelled, its meeting link changed): it records that the session's event is owed to the target
calendar, one row per event there (``calendar_writes``, its UID, so a moved booking's chain is one event), and sends
the write after the commit. The write (:func:`push`, on the ``calendars`` queue) locks its row and reads the chain's
latest state then, so two writes of one event take turns and an older state never lands after a newer; it PUTs it at
``<calendar>/<uid>.ics`` (the same UID and SEQUENCE as the ``.ics`` feed: a move moves the event; a cancellation is
written as ``STATUS:CANCELLED``, not deleted, so the calendar shows why the time is free), and records the SEQUENCE
written. A write that fails is tried again, with
backoff, until it lands (the beat sends the owed ones); one to a broken connection waits until it is fixed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import structlog
from sqlalchemy import Table, and_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra import calendar_http
from infra.calendar_http import CalendarFault
from infra.config import Settings, get_settings
from models import Booking, CalendarConnection, CalendarSource, CalendarWrite, MentorshipSession, OutboxEvent
from models.calendars import ACTIVE
from outbox import enqueue_after_commit
from workflows import calendar_sync
from workflows.calendars import calendar_uid, mentor_entries, written_event
from workflows.clock import utcnow

log = structlog.get_logger(__name__)

HANDLER = "calendars.follow_sessions"  # the outbox handler: records what is owed
WRITE_TASK = "calendars.write"  # the write itself, after the commit
MAX_BACKOFF = timedelta(hours=1)
LEASE = timedelta(minutes=2)
_WRITES = cast(Table, CalendarWrite.__table__)


def handle_events(db: Session, events: Sequence[OutboxEvent]) -> None:
    """Record each changed session's event as owed to its mentor's target calendar, and send the writes after the
    commit. A row keeps the newest state of its event: an older change arriving late changes nothing."""
    ids = list({event.aggregate_id for event in events})
    rows = db.execute(
        select(MentorshipSession.id, MentorshipSession.booking_id, MentorshipSession.calendar_sequence,
               Booking.chain_booking_id, CalendarSource.id)
        .join(CalendarSource, and_(CalendarSource.mentor_profile_id == MentorshipSession.mentor_profile_id,
                                   CalendarSource.target))
        .outerjoin(Booking, Booking.id == MentorshipSession.booking_id)
        .where(MentorshipSession.id.in_(ids)).order_by(MentorshipSession.id)).all()
    for session_id, booking_id, sequence, chain, source_id in rows:
        statement = insert(_WRITES).values(
            id=uuid.uuid4(), source_id=source_id, uid=calendar_uid(session_id, booking_id, chain),
            session_id=session_id, sequence=sequence)
        written = db.execute(statement.on_conflict_do_update(
            index_elements=[_WRITES.c.source_id, _WRITES.c.uid],
            set_={"session_id": statement.excluded.session_id, "sequence": statement.excluded.sequence,
                  "next_attempt_at": utcnow(), "attempts": 0},
            where=_WRITES.c.sequence <= statement.excluded.sequence,
        ).returning(_WRITES.c.id)).scalar_one_or_none()
        if written is not None:
            enqueue_after_commit(db, WRITE_TASK, str(written))


@dataclass(frozen=True)
class Owed:
    """A write, as read before talking to the server."""

    write_id: uuid.UUID
    href: str
    uid: str
    sequence: int
    ics: bytes
    secret: dict[str, str | None]


def owed(db: Session, write_id: uuid.UUID, settings: Settings) -> Owed | None:
    """What to write now (the chain's latest state), or ``None``: written already, or its connection is broken.

    The row stays locked until the caller's transaction ends: two writes of one event take turns, and the second
    finds the first's SEQUENCE written (or a newer state to write), so an older state never lands after a newer.
    """
    write = db.get(CalendarWrite, write_id, with_for_update=True)
    if write is None or (write.written_sequence is not None and write.written_sequence >= write.sequence):
        return None
    source = db.get_one(CalendarSource, write.source_id)
    connection = db.get_one(CalendarConnection, source.connection_id)
    if connection.status != ACTIVE or not source.target:
        return None
    entry = mentor_entries(db, [write.session_id])[write.session_id]
    return Owed(write.id, source.href, write.uid, write.sequence, written_event(entry),
                calendar_sync.unseal(settings, connection.credentials))


def send(owe: Owed, settings: Settings) -> None:
    """The PUT (no database); ``CalendarFault`` when it did not land."""
    with calendar_sync.client_for(settings, owe.secret) as client:
        calendar_http.put_event(client, owe.href, owe.uid, owe.ics)


def landed(db: Session, write_id: uuid.UUID, sequence: int) -> None:
    write = db.get(CalendarWrite, write_id, with_for_update=True)
    if write is not None:
        write.written_sequence = max(write.written_sequence or 0, sequence)
        write.attempts, write.last_error = 0, None


def missed(db: Session, write_id: uuid.UUID, error: CalendarFault, *, now: datetime) -> None:
    write = db.get(CalendarWrite, write_id, with_for_update=True)
    if write is not None:
        write.attempts += 1
        write.last_error = str(error)[:500]
        write.next_attempt_at = now + min(timedelta(seconds=30) * 2 ** min(write.attempts, 10), MAX_BACKOFF)
        log.warning("calendar.write_failed", write_id=str(write_id), error=write.last_error, attempts=write.attempts)


def push(db: Session, write_id: uuid.UUID, *, settings: Settings | None = None, now: datetime | None = None) -> bool:
    """One write in the caller's transaction, its row locked throughout (the request to the server included, at most
    ``REQUEST_SECONDS``: it holds back only another write of the same event); ``True`` when it landed."""
    settings = settings or get_settings()
    try:
        owe = owed(db, write_id, settings)
        if owe is None:
            return False
        send(owe, settings)
    except CalendarFault as error:
        missed(db, write_id, error, now=now or utcnow())
        return False
    landed(db, write_id, owe.sequence)
    return True


def lease_owed(db: Session, now: datetime, limit: int = 200) -> list[uuid.UUID]:
    """Writes not landed whose next attempt is due, each leased meanwhile (SKIP LOCKED)."""
    rows = list(db.scalars(select(CalendarWrite).where(
        or_(CalendarWrite.written_sequence.is_(None), CalendarWrite.written_sequence < CalendarWrite.sequence),
        CalendarWrite.next_attempt_at <= now).order_by(CalendarWrite.next_attempt_at).limit(limit)
        .with_for_update(skip_locked=True)))
    for write in rows:
        write.next_attempt_at = now + LEASE
    return [write.id for write in rows]
