"""Sessions written to the mentor's own calendar: the calendar they chose to receive them (``target``).

The ``calendars.follow_sessions`` handler (``workflows/handlers.py``) runs in the transaction of a session's change
(scheduled, cancelled, its meeting link changed): it records that the session's event is owed to the target
calendar, one row per event there (``calendar_writes``, its UID, so a moved booking's chain is one event), and sends
the write after the commit. The write (:func:`push_apart`, on the ``calendars`` queue) leases its row and reads the
chain's latest state in one short transaction, talks to the server outside any, and records what landed in another:
two writes of one event take turns (the second finds the first's lease and leaves it; the first, done, sends again if
a newer state came meanwhile), so an older state never lands after a newer; it PUTs it at
``<calendar>/<uid>.ics`` (the same UID and SEQUENCE as the ``.ics`` feed: a move moves the event; a cancellation is
written as ``STATUS:CANCELLED``, not deleted, so the calendar shows why the time is free), and records the SEQUENCE
written. A write that fails is tried again, with
backoff, until it lands (the beat sends the owed ones); one to a broken connection waits until it is fixed.

The mentor choosing another target, or none (:func:`target_changed`), takes the events of sessions not over yet away
from the calendar they were written to (the row is marked ``retire``: a DELETE, then the row goes) and owes them to
the new target; past sessions' events stay where they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import structlog
from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.orm import Session

from infra import calendar_http
from infra.calendar_http import CalendarFault
from infra.config import Settings, get_settings
from models import (
    CalendarConnection,
    CalendarSource,
    CalendarWrite,
    ConnectionStatus,
    MentorProfile,
    MentorshipSession,
    OutboxEvent,
    User,
)
from models.enums import SessionStatus
from outbox import enqueue_after_commit
from workflows import calendar_owed as owing
from workflows.calendar_owed import WRITE_TASK
from workflows.calendars import accounts as calendar_accounts
from workflows.calendars.feeds import mentor_entries, written_event
from workflows.clock import utcnow

log = structlog.get_logger(__name__)

HANDLER = "calendars.follow_sessions"  # the outbox handler: records what is owed
MAX_BACKOFF = timedelta(hours=1)
LEASE = timedelta(minutes=2)
_WRITES = cast(Table, CalendarWrite.__table__)
# Owed: the newest state not landed, or an event to take away (``models.calendars.OWED``, the index's predicate).
_OWED = or_(CalendarWrite.retire, CalendarWrite.written_sequence.is_(None),
            CalendarWrite.written_sequence < CalendarWrite.sequence)


def handle_events(db: Session, events: Sequence[OutboxEvent]) -> None:
    """Record each changed session's event as owed to its mentor's target calendar, and send the writes after the
    commit. A row keeps the newest state of its event: an older change arriving late changes nothing."""
    owing.owe(db, list({event.aggregate_id for event in events}))


def target_changed(db: Session, mentor_profile_id: uuid.UUID, *, now: datetime) -> tuple[int, int]:
    """The mentor chose another target calendar, or none: the events of sessions not over yet are taken away from
    the calendars no longer the target (deleted there: the mentor would otherwise see each twice, the old copy no
    longer following changes), and written to the new target. Past sessions' events stay where they are. How many
    events are owed: (taken away, written)."""
    retiring = list(db.scalars(
        update(CalendarWrite).where(
            CalendarWrite.source_id.in_(select(CalendarSource.id).where(
                CalendarSource.mentor_profile_id == mentor_profile_id, ~CalendarSource.target)),
            CalendarWrite.session_id.in_(select(MentorshipSession.id).where(MentorshipSession.end_time > now)),
            ~CalendarWrite.retire)
        .values(retire=True, next_attempt_at=now, attempts=0, last_error=None).returning(CalendarWrite.id)))
    for write_id in retiring:
        enqueue_after_commit(db, WRITE_TASK, str(write_id))
    upcoming = list(db.scalars(select(MentorshipSession.id).where(
        MentorshipSession.mentor_profile_id == mentor_profile_id, MentorshipSession.end_time > now,
        MentorshipSession.status.in_((SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)))))
    return len(retiring), owing.owe(db, upcoming)


@dataclass(frozen=True)
class Owed:
    """A write, as read before talking to the server."""

    write_id: uuid.UUID
    href: str
    uid: str
    sequence: int
    ics: bytes | None  # None: delete the event
    secret: dict[str, str | None]


SEND_LEASE = timedelta(seconds=calendar_accounts.REQUEST_SECONDS + 20)  # one request, and room to record it


def owed(db: Session, write_id: uuid.UUID, settings: Settings, now: datetime | None = None) -> Owed | None:
    """What to write now (the chain's latest state, or the event's deletion from a calendar no longer the target),
    leased for :data:`SEND_LEASE`; or ``None``: written already, nothing to take away, its connection is broken, or
    another write of the event is under way (it sends this state too once it is done)."""
    now = now or utcnow()
    write = db.get(CalendarWrite, write_id, with_for_update=True)
    if write is None:
        return None
    if write.sending_until is not None and write.sending_until > now:
        return None
    if write.retire and write.written_sequence is None:  # never landed there: nothing to take away
        db.delete(write)
        return None
    if not write.retire and write.written_sequence is not None and write.written_sequence >= write.sequence:
        return None
    source = db.get_one(CalendarSource, write.source_id)
    connection = db.get_one(CalendarConnection, source.connection_id)
    if connection.status != ConnectionStatus.ACTIVE or not (source.target or write.retire):
        return None
    locale = db.scalar(select(User.locale).join(MentorProfile, MentorProfile.user_id == User.id)
                       .where(MentorProfile.id == connection.mentor_profile_id))  # the event in its mentor's words
    ics = None if write.retire else written_event(
        mentor_entries(db, [write.session_id], locale)[write.session_id])
    owe = Owed(write.id, source.href, write.uid, write.sequence, ics,
               calendar_accounts.unseal(settings, connection.credentials))
    write.sending_until = now + SEND_LEASE
    return owe


def send(owe: Owed, settings: Settings) -> None:
    """The PUT (no database); ``CalendarFault`` when it did not land."""
    with calendar_accounts.client_for(settings, owe.secret) as client:
        if owe.ics is None:
            calendar_http.delete_event(client, owe.href, owe.uid)
        else:
            calendar_http.put_event(client, owe.href, owe.uid, owe.ics)


def landed(db: Session, write_id: uuid.UUID, sequence: int, *, retired: bool) -> None:
    """What was sent landed: the lease ends; a newer state owed meanwhile is sent now."""
    write = db.get(CalendarWrite, write_id, with_for_update=True)
    if write is None:
        return
    write.sending_until = None
    if write.retire and retired:
        db.delete(write)  # taken away: nothing more is owed there
        return
    if not retired:
        write.written_sequence = max(write.written_sequence or 0, sequence)
    write.attempts, write.last_error = 0, None
    if write.retire or write.written_sequence is None or write.written_sequence < write.sequence:
        enqueue_after_commit(db, WRITE_TASK, str(write.id))


def missed(db: Session, write_id: uuid.UUID, error: CalendarFault, *, now: datetime) -> None:
    """The write did not land: the lease ends, the next attempt backs off (the mentor reads the kind of failure)."""
    write = db.get(CalendarWrite, write_id, with_for_update=True)
    if write is not None:
        write.sending_until = None
        write.attempts += 1
        write.last_error = error.public[:500]
        write.next_attempt_at = now + min(timedelta(seconds=30) * 2 ** min(write.attempts, 10), MAX_BACKOFF)
        log.warning("calendar.write_failed", write_id=str(write_id), error=write.last_error, detail=str(error)[:1000],
                    attempts=write.attempts)


def push(db: Session, write_id: uuid.UUID, *, settings: Settings | None = None, now: datetime | None = None) -> bool:
    """:func:`push_apart` in the caller's transaction (tests, scripts)."""

    @contextmanager
    def same() -> Iterator[Session]:
        yield db

    return push_apart(same, write_id, settings=settings, now=now)


def push_apart(transaction: Callable[[], AbstractContextManager[Session]], write_id: uuid.UUID, *,
               settings: Settings | None = None, now: datetime | None = None) -> bool:
    """One write: leased in one transaction, sent outside any (a slow server holds no row lock and no connection, at
    most ``REQUEST_SECONDS``), its outcome recorded in another; ``True`` when it landed."""
    settings = settings or get_settings()
    now = now or utcnow()
    with transaction() as db:
        owe = owed(db, write_id, settings, now)
    if owe is None:
        return False
    try:
        send(owe, settings)
    except CalendarFault as error:
        with transaction() as db:
            missed(db, write_id, error, now=now)
        return False
    with transaction() as db:
        landed(db, write_id, owe.sequence, retired=owe.ics is None)
    return True


@dataclass(frozen=True)
class Backlog:
    """What a calendar is owed, as the mentor sees it: events not written yet (or not taken away yet), and the last
    error a write met."""

    owed: int = 0
    last_error: str | None = None


def backlog(db: Session, source_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Backlog]:
    rows = db.execute(select(CalendarWrite.source_id, func.count(),
                             func.max(CalendarWrite.last_error))  # one of them: they are much alike
                      .where(CalendarWrite.source_id.in_(source_ids), _OWED).group_by(CalendarWrite.source_id)).all()
    return {source_id: Backlog(count, error) for source_id, count, error in rows}


def lease_owed(db: Session, now: datetime, limit: int = 200) -> list[uuid.UUID]:
    """Writes owed whose next attempt is due, to a connection that is active (one that is broken waits until fixed)
    and a calendar that is the target (or one the event is taken away from), each leased meanwhile (SKIP LOCKED)."""
    rows = list(db.scalars(
        select(CalendarWrite)
        .join(CalendarSource, CalendarSource.id == CalendarWrite.source_id)
        .join(CalendarConnection, CalendarConnection.id == CalendarSource.connection_id)
        .where(_OWED, CalendarWrite.next_attempt_at <= now, CalendarConnection.status == ConnectionStatus.ACTIVE,
               or_(CalendarSource.target, CalendarWrite.retire))
        .order_by(CalendarWrite.next_attempt_at).limit(limit).with_for_update(of=CalendarWrite, skip_locked=True)))
    for write in rows:
        write.next_attempt_at = now + LEASE
    return [write.id for write in rows]
