"""A mentor's own calendars: connections, and the busy times read from them.

A mentor connects a CalDAV account (a server, a user name and an app password: iCloud, Fastmail, Nextcloud, Radicale)
or a secret iCalendar address (Google's or Outlook's, read-only). The address and the credentials are kept encrypted
(``CALENDAR_CREDENTIALS_KEYS``), never shown nor logged; the API shows the host only.

A sync (``sync_connection``: on a schedule, on demand) reads the calendars the mentor marked busy, only those that
changed (a CalDAV calendar's getctag, a subscription's ETag or Last-Modified), expands recurring events
(``recurring-ical-events``: RRULE, EXDATE, RECURRENCE-ID), and stores what makes the mentor busy from a day ago to
``CALENDAR_HORIZON_DAYS`` ahead, merged, as ``busy_intervals``: free slots and every scheduling check read those, never
the remote server. All-day events take the mentor's whole local day; transparent and cancelled events take nothing;
floating times are the mentor's local time; the events the service wrote itself (``@mentorship`` UIDs) are never
read back. A server down, slow, or answering garbage changes nothing stored: the last good sync stands, the error is
shown, and the next attempt backs off; credentials refused mark the connection ``broken`` until they are fixed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic as time_monotonic
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import delete, func, insert, select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import Session, sessionmaker

from infra import calendar_http, http_targets
from infra.calendar_http import CalendarAuthFailed, CalendarFault
from infra.config import Settings, get_settings
from models import Booking, BusyInterval, CalendarConnection, CalendarSource, CalendarWrite, MentorProfile
from models.calendars import (
    ACTIVE,
    BROKEN,
    CALDAV,
    MAX_CONNECTIONS_PER_MENTOR,
    MAX_SOURCES_PER_CONNECTION,
    SUBSCRIPTION,
)
from workflows import calendar_writes
from workflows.actors import Actor
from workflows.calendar_accounts import SYNC_SECONDS, client_for, seal, unseal
from workflows.calendar_busy import busy_times
from workflows.clock import utcnow
from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.events import EventType, ScheduleChange, record, schedule_payload
from workflows.notifications import notify_user
from workflows.roles import Role

log = structlog.get_logger(__name__)

SYNC_TASK = "calendars.sync"
MAX_BACKOFF = timedelta(hours=6)


# --- connecting ---------------------------------------------------------------------------------------------


def _profile(db: Session, actor: Actor) -> MentorProfile:
    if actor.mentor_profile_id is None:
        raise Forbidden("only mentors connect calendars: create your mentor profile first")
    return db.get_one(MentorProfile, actor.mentor_profile_id, with_for_update=True)


def connect(db: Session, actor: Actor, *, kind: str, url: str, username: str | None = None,
            password: str | None = None, settings: Settings | None = None) -> CalendarConnection:
    """Connect a calendar: a CalDAV account's calendars are discovered now (every one busy, none receiving sessions
    until the mentor chooses), a subscription is one busy calendar. The first sync follows at once."""
    settings = settings or get_settings()
    profile = _profile(db, actor)
    held = db.scalar(select(func.count()).where(CalendarConnection.mentor_profile_id == profile.id)) or 0
    if held >= MAX_CONNECTIONS_PER_MENTOR:
        raise Conflict(f"at most {MAX_CONNECTIONS_PER_MENTOR} calendar connections per mentor")
    try:
        normal = http_targets.validate_target(url, scope=http_targets.configured_scope(settings),
                                              https_only=settings.https_targets_only)
    except http_targets.TargetRefused as exc:
        raise InvalidInput(f"this calendar address is refused: {exc}", field="url") from None
    secret = {"url": normal, "username": username, "password": password}
    found: list[calendar_http.RemoteCalendar]
    if kind == CALDAV:
        try:
            with client_for(settings, secret) as client:
                found = calendar_http.discover(client, normal)
        except CalendarAuthFailed as exc:
            raise InvalidInput(str(exc), field="password") from None
        except CalendarFault as exc:
            raise InvalidInput(f"no calendar could be read there: {exc}", field="url") from None
        if not found:
            raise InvalidInput("the account holds no calendar of events", field="url")
    else:
        found = [calendar_http.RemoteCalendar(normal, httpx_host(normal), None, writable=False)]
    connection = CalendarConnection(id=uuid.uuid4(), mentor_profile_id=profile.id, kind=kind,
                                    host=httpx_host(normal), credentials=seal(settings, secret), status=ACTIVE,
                                    next_sync_at=utcnow())
    db.add(connection)
    db.flush()
    db.add_all([CalendarSource(id=uuid.uuid4(), connection_id=connection.id, mentor_profile_id=profile.id,
                               href=remote.href, name=remote.name, busy=True, target=False, writable=remote.writable)
                for remote in found[:MAX_SOURCES_PER_CONNECTION]])
    db.flush()
    log.info("calendar.connected", connection_id=str(connection.id), kind=kind, host=connection.host)
    return connection


def httpx_host(url: str) -> str:
    return http_targets.parse_url(url).host[:255]


def own_connection(db: Session, actor: Actor, connection_id: uuid.UUID, *, lock: bool = False) -> CalendarConnection:
    """The actor's connection; 404 for anyone else's."""
    connection = db.get(CalendarConnection, connection_id, with_for_update=lock or None)
    if connection is None or actor.mentor_profile_id is None or connection.mentor_profile_id != actor.mentor_profile_id:
        raise NotFound("calendar connection not found")
    return connection


def list_connections(db: Session, actor: Actor) -> list[CalendarConnection]:
    if actor.mentor_profile_id is None:
        return []
    return list(db.scalars(select(CalendarConnection).where(CalendarConnection.mentor_profile_id ==
                                                            actor.mentor_profile_id).order_by(CalendarConnection.created_at)))


def sources_of(db: Session, connection_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[CalendarSource]]:
    found: dict[uuid.UUID, list[CalendarSource]] = {i: [] for i in connection_ids}
    for source in db.scalars(select(CalendarSource).where(CalendarSource.connection_id.in_(connection_ids))
                             .order_by(CalendarSource.name, CalendarSource.id)):
        found[source.connection_id].append(source)
    return found


def update(db: Session, actor: Actor, connection_id: uuid.UUID, *, calendars: Sequence[dict[str, Any]] = (),
           username: str | None = None, password: str | None = None, settings: Settings | None = None
           ) -> CalendarConnection:
    """Choose which calendars count as busy and which one receives sessions (one per mentor: choosing another, or
    none, moves the events of sessions not over yet, ``calendar_writes.target_changed``); give new credentials to a
    broken connection (it is active again, syncs at once, and the writes it owes are sent)."""
    settings = settings or get_settings()
    now = utcnow()
    _profile(db, actor)  # the mentor's turn: two changes of their target calendar never cross
    connection = own_connection(db, actor, connection_id, lock=True)
    sources = {s.id: s for s in sources_of(db, [connection.id])[connection.id]}
    target_before = _target_of(db, connection.mentor_profile_id)
    for choice in calendars:
        source = sources.get(choice["id"])
        if source is None:
            raise InvalidInput("no such calendar in this connection", field="calendars")
        if choice.get("target") and not source.writable:
            raise InvalidInput(f"sessions cannot be written to {source.name!r}: it is read-only", field="calendars")
        if "busy" in choice and source.busy != bool(choice["busy"]):
            source.busy = bool(choice["busy"])
            # Read it whole next time: its busy times were dropped, or were never kept.
            source.ctag = None
            connection.validators = {}
        if choice.get("target"):
            for held in db.scalars(select(CalendarSource).where(
                    CalendarSource.mentor_profile_id == connection.mentor_profile_id, CalendarSource.target)):
                held.target = False
            db.flush()  # the mentor's one target let go before another is taken (a partial unique index)
            source.target = True
        elif choice.get("target") is False:
            source.target = False
    if password is not None or username is not None:
        secret = unseal(settings, connection.credentials)
        secret.update({key: value for key, value in (("username", username), ("password", password))
                       if value is not None})
        connection.credentials = seal(settings, secret)
        connection.status, connection.failures, connection.next_sync_at = ACTIVE, 0, now
        db.execute(sa_update(CalendarWrite).where(CalendarWrite.source_id.in_(list(sources)))
                   .values(next_attempt_at=now))
    connection.next_sync_at = min(connection.next_sync_at, now)
    db.flush()
    # Calendars no longer busy stop blocking at once.
    _forget_busy(db, connection.mentor_profile_id, [s.id for s in sources.values() if not s.busy])
    if _target_of(db, connection.mentor_profile_id) != target_before:
        calendar_writes.target_changed(db, connection.mentor_profile_id, now=now)
    return connection


def _target_of(db: Session, mentor_profile_id: uuid.UUID) -> uuid.UUID | None:
    return db.scalar(select(CalendarSource.id).where(CalendarSource.mentor_profile_id == mentor_profile_id,
                                                     CalendarSource.target))


def _forget_busy(db: Session, mentor_profile_id: uuid.UUID, source_ids: Sequence[uuid.UUID]) -> None:
    """Drop the busy times read from these calendars; the slots they took are free again, live."""
    gone = db.execute(delete(BusyInterval).where(BusyInterval.source_id.in_(source_ids))
                      .returning(BusyInterval.start_time, BusyInterval.end_time)).all()
    if gone:
        record(db, EventType.SCHEDULE_CHANGED, schedule_payload(
            mentor_profile_id, ScheduleChange.CALENDAR, min(a for a, _b in gone), max(b for _a, b in gone)),
            actor=Role.SYSTEM.value)


def disconnect(db: Session, actor: Actor, connection_id: uuid.UUID) -> None:
    """Forget the connection: its credentials, its calendars and every busy time read from it. Events already
    written to its calendars stay there (the account may be gone; its credentials are forgotten now)."""
    connection = own_connection(db, actor, connection_id, lock=True)
    _forget_busy(db, connection.mentor_profile_id, [s.id for s in sources_of(db, [connection.id])[connection.id]])
    db.delete(connection)
    db.flush()
    log.info("calendar.disconnected", connection_id=str(connection_id))


# --- reading busy times --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """What one sync read of one calendar: its busy times, or ``None`` when it had not changed."""

    source_id: uuid.UUID
    busy: list[tuple[datetime, datetime]] | None
    ctag: str | None = None


@dataclass(frozen=True)
class Plan:
    """What a sync needs, read in a short transaction before it talks to the server."""

    connection_id: uuid.UUID
    kind: str
    secret: dict[str, str | None]
    zone: ZoneInfo
    validators: dict[str, str]
    sources: list[tuple[uuid.UUID, str, str | None]]  # busy calendars: id, href, ctag when last read


def plan(db: Session, connection_id: uuid.UUID, settings: Settings) -> Plan | None:
    connection = db.get(CalendarConnection, connection_id)
    if connection is None or connection.status != ACTIVE:
        return None
    zone = ZoneInfo(db.get_one(MentorProfile, connection.mentor_profile_id).timezone)
    busy = [(s.id, s.href, s.ctag) for s in sources_of(db, [connection.id])[connection.id] if s.busy]
    return Plan(connection.id, connection.kind, unseal(settings, connection.credentials), zone,
                dict(connection.validators or {}), busy)


def read(plan_: Plan, settings: Settings, now: datetime) -> tuple[list[Read], dict[str, str]]:
    """Talk to the server (no database): each busy calendar that changed, and the subscription's new validators."""
    start, end = now - timedelta(days=1), now + timedelta(days=settings.calendar_horizon_days)
    reads: list[Read] = []
    validators = plan_.validators
    with client_for(settings, plan_.secret, total=SYNC_SECONDS) as client:
        if plan_.kind == SUBSCRIPTION:
            body, validators = calendar_http.fetch_subscription(client, str(plan_.secret["url"]), plan_.validators)
            for source_id, _href, _ctag in plan_.sources:
                reads.append(Read(source_id, None if body is None else
                                  busy_times([body], plan_.zone, start, end, settings.calendar_max_events,
                                             cpu_seconds=settings.calendar_read_cpu_seconds)))
            return reads, validators
        for source_id, href, known in plan_.sources:
            tag = calendar_http.ctag(client, href)
            if tag is not None and tag == known:
                reads.append(Read(source_id, None, tag))
                continue
            objects = calendar_http.events_between(client, href, start, end)
            reads.append(Read(source_id, busy_times(objects, plan_.zone, start, end, settings.calendar_max_events,
                                                    cpu_seconds=settings.calendar_read_cpu_seconds), tag))
    return reads, validators


def store(db: Session, connection_id: uuid.UUID, reads: Sequence[Read], validators: dict[str, str], *,
          now: datetime, settings: Settings) -> bool:
    """Replace each changed calendar's busy times, in one transaction; ``False`` if the connection is gone."""
    connection = db.get(CalendarConnection, connection_id, with_for_update=True)
    if connection is None:
        return False
    if connection.synced_at is not None and connection.synced_at > now:
        return True  # a later read landed first (two syncs overlapped): it stands
    sources = {s.id: s for s in sources_of(db, [connection_id])[connection_id]}
    changed: list[tuple[datetime, datetime]] = []
    for one in reads:
        source = sources.get(one.source_id)
        if source is None or one.busy is None or not source.busy:
            continue
        before = [(b.start_time, b.end_time) for b in db.scalars(select(BusyInterval).where(
            BusyInterval.source_id == source.id).order_by(BusyInterval.start_time))]
        if before != one.busy:
            changed.extend(before + one.busy)
        db.execute(delete(BusyInterval).where(BusyInterval.source_id == source.id))
        if one.busy:
            db.execute(insert(BusyInterval), [{"mentor_profile_id": connection.mentor_profile_id,
                                               "source_id": source.id, "start_time": a, "end_time": b}
                                              for a, b in one.busy])
        source.ctag = one.ctag
    if changed:  # the slots of the mentor's listings move, live for whoever watches them
        record(db, EventType.SCHEDULE_CHANGED, schedule_payload(
            connection.mentor_profile_id, ScheduleChange.CALENDAR, min(a for a, _b in changed),
            max(b for _a, b in changed)), actor=Role.SYSTEM.value)
    connection.validators = validators
    connection.synced_at, connection.last_error, connection.last_error_at, connection.failures = now, None, None, 0
    # Spread: each connection a little later than the interval (up to a tenth), always the same for one connection.
    interval = settings.calendar_sync_interval_seconds
    connection.next_sync_at = now + timedelta(seconds=interval + interval * (connection.id.int % 1000) / 10_000)
    db.flush()
    return True


def failed(db: Session, connection_id: uuid.UUID, error: CalendarFault, *, now: datetime, settings: Settings) -> bool:
    """Record a failed sync: its busy times stay; the next attempt backs off. Credentials refused make the
    connection ``broken`` (no more attempts until fixed); ``True`` when that is new, to tell the mentor once."""
    connection = db.get(CalendarConnection, connection_id, with_for_update=True)
    if connection is None:
        return False
    connection.failures += 1
    connection.last_error, connection.last_error_at = str(error)[:500], now
    newly_broken = isinstance(error, CalendarAuthFailed) and connection.status != BROKEN
    if isinstance(error, CalendarAuthFailed):
        connection.status = BROKEN
    backoff = min(timedelta(seconds=settings.calendar_sync_interval_seconds) * 2 ** min(connection.failures, 10),
                  MAX_BACKOFF)
    connection.next_sync_at = now + min(backoff, MAX_BACKOFF)
    db.flush()
    log.warning("calendar.sync_failed", connection_id=str(connection_id), error=connection.last_error,
                failures=connection.failures)
    return newly_broken


LEASE = timedelta(minutes=2)  # a sync sent is not sent again meanwhile; a lost one is, after this


def lease_due(db: Session, now: datetime, limit: int = 200) -> list[uuid.UUID]:
    """Active connections whose sync is due, soonest first, each leased for :data:`LEASE` (two beats at once send
    each once: SKIP LOCKED)."""
    rows = list(db.scalars(select(CalendarConnection).where(
        CalendarConnection.status == ACTIVE, CalendarConnection.next_sync_at <= now)
        .order_by(CalendarConnection.next_sync_at).limit(limit).with_for_update(skip_locked=True)))
    for connection in rows:
        connection.next_sync_at = now + LEASE
    db.flush()
    return [connection.id for connection in rows]


def sync_connection(db: Session, connection_id: uuid.UUID, *, settings: Settings | None = None,
                    now: datetime | None = None) -> bool:
    """One sync in the caller's transaction (tests, scripts): :func:`sync_apart` with one session throughout."""

    @contextmanager
    def same() -> Iterator[Session]:
        yield db

    return sync_apart(same, connection_id, settings=settings, now=now)


def sync_apart(transaction: Callable[[], AbstractContextManager[Session]], connection_id: uuid.UUID, *,
               settings: Settings | None = None, now: datetime | None = None) -> bool:
    """One sync: the plan read in one transaction, the server asked outside any (a slow server holds no database
    connection and no lock), what changed stored in another. On a fault what was stored stays and the next attempt
    backs off; a connection whose credentials are refused becomes ``broken`` and its mentor is told, once.
    ``True`` when the busy times are up to date."""
    settings = settings or get_settings()
    now = now or utcnow()
    try:
        with transaction() as db:
            planned = plan(db, connection_id, settings)
        if planned is None:
            return False
        reads, validators = read(planned, settings, now)
    except CalendarFault as error:
        with transaction() as db:
            if failed(db, connection_id, error, now=now, settings=settings):
                tell_broken(db, connection_id)
        return False
    with transaction() as db:
        return store(db, connection_id, reads, validators, now=now, settings=settings)


def tell_broken(db: Session, connection_id: uuid.UUID) -> None:
    """The mentor, once: their calendar refused the credentials, and nothing is read from it until they fix them."""
    connection = db.get_one(CalendarConnection, connection_id)
    profile = db.get_one(MentorProfile, connection.mentor_profile_id)
    notify_user(db, profile.user_id, type_="calendar.broken", title="Calendar connection needs attention",
                body=f"Your calendar at {connection.host} refused the password. Its busy times are no longer "
                     "read: give a new app password on your setup page.",
                data={"link": "#/mentor", "connection_id": str(connection.id)})


READS_BEFORE_ACCEPT = 4  # reads an API process runs at once for accepts; beyond, an accept decides on the last sync
_readers = threading.BoundedSemaphore(READS_BEFORE_ACCEPT)
_under_way: dict[uuid.UUID, threading.Event] = {}  # one read per connection at a time; later accepts wait on it
_under_way_lock = threading.Lock()


def read_for_accept(factory: sessionmaker[Session], connection_id: uuid.UUID, settings: Settings
                    ) -> threading.Event | None:
    """Read the connection in a thread (:func:`sync_apart`, its own sessions: it commits apart from the accept); the
    event set when it is done. An accept arriving while the connection is being read waits on that read, not a
    second one; ``None`` when this process already runs ``READS_BEFORE_ACCEPT`` reads (a slow server ties up no
    more)."""
    with _under_way_lock:
        running = _under_way.get(connection_id)
        if running is not None:
            return running
        if not _readers.acquire(blocking=False):
            return None
        done = _under_way[connection_id] = threading.Event()

    def run() -> None:
        try:
            sync_apart(factory.begin, connection_id, settings=settings)
        except Exception:
            log.exception("calendar.read_before_accept_failed", connection_id=str(connection_id))
        finally:
            with _under_way_lock:
                del _under_way[connection_id]
            _readers.release()
            done.set()

    threading.Thread(target=run, name="calendar-read-before-accept", daemon=True).start()
    return done


def refresh_before_accept(db: Session, factory: sessionmaker[Session], actor: Actor, booking_id: uuid.UUID, *,
                          settings: Settings | None = None, now: datetime | None = None) -> datetime | None:
    """Before the actor accepts the booking (as its mentor: anyone else's accept is refused by the accept itself): the
    mentor's connections last read more than ``CALENDAR_FRESHNESS`` ago are read now (:func:`read_for_accept`),
    waiting at most ``CALENDAR_ACCEPT_WAIT`` in all (a slower read goes on, and lands for the next check). The time
    of the oldest read the accept then decides on; ``None`` when the mentor has no calendar connected, or one was
    never read.

    Read in the caller's session (one query, by the booking's key and an index on the mentor: a mentor with no calendar
    costs no more).
    """
    settings = settings or get_settings()
    now = now or utcnow()
    if actor.mentor_profile_id is None:
        return None
    connections = _MENTOR_CONNECTIONS.join(Booking, Booking.mentor_profile_id == CalendarConnection.mentor_profile_id
                                           ).where(Booking.id == booking_id,
                                                   Booking.mentor_profile_id == actor.mentor_profile_id)
    rows = db.execute(connections).all()
    if not rows:
        return None
    stale_before = now - timedelta(seconds=settings.calendar_freshness_seconds)
    reads = [read_for_accept(factory, row.id, settings) for row in rows
             if row.synced_at is None or row.synced_at < stale_before]
    if reads:
        until = time_monotonic() + settings.calendar_accept_wait_seconds
        for done in reads:
            if done is not None:
                done.wait(max(0.0, until - time_monotonic()))
        rows = db.execute(connections).all()
    synced = [row.synced_at for row in rows]
    return None if not synced or any(s is None for s in synced) else min(s for s in synced if s is not None)


_MENTOR_CONNECTIONS = select(CalendarConnection.id, CalendarConnection.synced_at).where(
    CalendarConnection.status == ACTIVE)
