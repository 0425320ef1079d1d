"""A mentor's own calendars: the busy times read from them (connecting one: ``workflows.calendars.connections``).

A sync (on a schedule, on a change, before an accept; always on a calendars worker, under the connection's lease)
reads the calendars the mentor marked busy, only those that
changed (a CalDAV calendar's getctag, a subscription's ETag or Last-Modified), expands recurring events
(``recurring-ical-events``: RRULE, EXDATE, RECURRENCE-ID), and stores what makes the mentor busy from a day ago to
``CALENDAR_HORIZON_DAYS`` ahead, merged, as ``busy_intervals``: free slots and every scheduling check read those, never
the remote server. All-day events take the mentor's whole local day; transparent and cancelled events take nothing;
floating times are the mentor's local time; the events the service wrote itself (``@mentorship`` UIDs) are never
read back (``workflows.calendars.busy``: every cost bounded). A server down, slow, or answering garbage changes nothing
stored: the last good sync stands, the error is shown, and the next attempt backs off; credentials refused mark the
connection ``broken`` until they are fixed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import delete, insert, select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import Session

from infra import calendar_http
from infra.calendar_http import CalendarAuthFailed, CalendarFault
from infra.config import Settings, get_settings
from infra.sql import statuses
from models import Booking, BusyInterval, CalendarConnection, CalendarSource, ConnectionStatus, MentorProfile
from models.calendars import SUBSCRIPTION
from outbox import enqueue_after_commit
from workflows import wording
from workflows.actors import Actor
from workflows.calendars.accounts import CONNECTIONS, SYNC_SECONDS, ConnectionAction, client_for, unseal
from workflows.clock import utcnow
from workflows.events import EventType, record
from workflows.inbox import notify_user
from workflows.payloads import ScheduleChange, schedule_payload
from workflows.roles import Role

log = structlog.get_logger(__name__)

SYNC_TASK = "calendars.sync"
BROKEN = wording.notice("calendar.broken", "Calendar connection needs attention", (
    "Your calendar at {host} refused the password. Its busy times are no longer read: give a new app password on "
    "your setup page."))
MAX_BACKOFF = timedelta(hours=6)


def sources_of(db: Session, connection_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[CalendarSource]]:
    found: dict[uuid.UUID, list[CalendarSource]] = {i: [] for i in connection_ids}
    for source in db.scalars(select(CalendarSource).where(CalendarSource.connection_id.in_(connection_ids))
                             .order_by(CalendarSource.name, CalendarSource.id)):
        found[source.connection_id].append(source)
    return found


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


def plan(db: Session, connection_id: uuid.UUID, settings: Settings, lease_id: uuid.UUID | None = None
         ) -> Plan | None:
    """What to read, or ``None``: the connection is gone or not active, or (``lease_id`` given) the lease is no longer
    this sync's (it ran out and another holds it, or the sync was done)."""
    connection = db.get(CalendarConnection, connection_id)
    if connection is None or connection.status != ConnectionStatus.ACTIVE:
        return None
    if lease_id is not None and connection.sync_lease_id != lease_id:
        return None
    zone = ZoneInfo(db.get_one(MentorProfile, connection.mentor_profile_id).timezone)
    busy = [(s.id, s.href, s.ctag) for s in sources_of(db, [connection.id])[connection.id] if s.busy]
    return Plan(connection.id, connection.kind, unseal(settings, connection.credentials), zone,
                dict(connection.validators or {}), busy)


def read(plan_: Plan, settings: Settings, now: datetime) -> tuple[list[Read], dict[str, str]]:
    """Talk to the server (no database): each busy calendar that changed, and the subscription's new validators."""
    # icalendar and recurring-ical-events (3 MB) load where a calendar is read: not in an API process that reads none.
    from workflows.calendars.busy import busy_times  # noqa: PLC0415

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
          now: datetime, settings: Settings, lease_id: uuid.UUID | None = None) -> bool:
    """Replace each changed calendar's busy times, in one transaction, and end the sync's lease; ``False`` if the
    connection is gone."""
    connection = db.get(CalendarConnection, connection_id, with_for_update=True)
    if connection is None:
        return False
    _release(connection, lease_id, now)
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
    if connection.sync_requested_at is not None and connection.sync_requested_at > now:
        connection.next_sync_at = now  # changed while this read ran: read again at the next beat
    db.flush()
    return True


def failed(db: Session, connection_id: uuid.UUID, error: CalendarFault, *, now: datetime, settings: Settings,
           lease_id: uuid.UUID | None = None) -> bool:
    """Record a failed sync, and end its lease: its busy times stay; the next attempt backs off. The mentor reads what
    kind of failure it was (``error.public``), the log the detail. Credentials refused make the connection
    ``broken`` (no more attempts until fixed); ``True`` when that is new, to tell the mentor once."""
    connection = db.get(CalendarConnection, connection_id, with_for_update=True)
    if connection is None:
        return False
    _release(connection, lease_id, now)
    connection.failures += 1
    connection.last_error, connection.last_error_at = error.public[:500], now
    newly_broken = isinstance(error, CalendarAuthFailed) and connection.status == ConnectionStatus.ACTIVE
    if newly_broken:
        CONNECTIONS.apply(connection, ConnectionAction.BREAK, Role.SYSTEM)
    backoff = min(timedelta(seconds=settings.calendar_sync_interval_seconds) * 2 ** min(connection.failures, 10),
                  MAX_BACKOFF)
    connection.next_sync_at = now + min(backoff, MAX_BACKOFF)
    db.flush()
    log.warning("calendar.sync_failed", connection_id=str(connection_id), error=connection.last_error,
                detail=str(error)[:1000], failures=connection.failures)
    return newly_broken


LEASE = timedelta(minutes=2)  # a sync sent is not sent again meanwhile; a lost one is, after this
_LEASES = statuses("""
    SELECT c.id, c.mentor_profile_id FROM calendar_connections c
    WHERE c.status = :active AND c.id = ANY(:ids) AND (c.sync_leased_until IS NULL OR c.sync_leased_until <= :now)
      AND (SELECT count(*) FROM calendar_connections o WHERE o.mentor_profile_id = c.mentor_profile_id
           AND o.sync_leased_until > :now) < :per_mentor
    ORDER BY c.next_sync_at LIMIT :limit FOR UPDATE OF c SKIP LOCKED
""", active=ConnectionStatus.ACTIVE)
_DUE = statuses("""
    SELECT id FROM calendar_connections WHERE status = :active AND next_sync_at <= :now
      AND (sync_leased_until IS NULL OR sync_leased_until <= :now)
    ORDER BY next_sync_at LIMIT :limit
""", active=ConnectionStatus.ACTIVE)


def lease(db: Session, connection_ids: Sequence[uuid.UUID], now: datetime, settings: Settings, limit: int = 200
          ) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Lease these connections' syncs, each for :data:`LEASE`: those active, not leased already (a sync under way is
    the one asked for), and whose mentor has fewer than ``CALENDAR_SYNCS_PER_MENTOR`` under way (one mentor's many
    calendars never fill every worker). (connection id, lease id) of each leased, to send after the commit."""
    rows = db.execute(_LEASES, {"ids": list(connection_ids), "now": now, "limit": limit,
                                "per_mentor": settings.calendar_syncs_per_mentor}).all()
    taken: dict[uuid.UUID, int] = {}
    leased = []
    for connection_id, mentor_profile_id in rows:
        taken[mentor_profile_id] = taken.get(mentor_profile_id, 0) + 1
        if taken[mentor_profile_id] > settings.calendar_syncs_per_mentor:
            continue  # the rest of this mentor's wait for the next beat
        lease_id = uuid.uuid4()
        db.execute(sa_update(CalendarConnection).where(CalendarConnection.id == connection_id).values(
            sync_lease_id=lease_id, sync_leased_until=now + LEASE))
        leased.append((connection_id, lease_id))
    return leased


def lease_due(db: Session, now: datetime, settings: Settings | None = None, limit: int = 200
              ) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Active connections whose sync is due, soonest first, leased (:func:`lease`; two beats at once lease each
    once: SKIP LOCKED)."""
    due = list(db.scalars(_DUE, {"now": now, "limit": limit}))
    return lease(db, due, now, settings or get_settings(), limit) if due else []


def request_sync(db: Session, connection: CalendarConnection) -> None:
    """A sync of the connection, as soon as may be (a change by its mentor): leased and sent after the commit; when
    one is under way already, that one is read again once done; beyond the mentor's share, the next beat's."""
    now = utcnow()
    connection.sync_requested_at = now
    connection.next_sync_at = min(connection.next_sync_at, now)
    db.flush()
    for connection_id, lease_id in lease(db, [connection.id], now, get_settings()):
        enqueue_after_commit(db, SYNC_TASK, str(connection_id), str(lease_id))


def _release(connection: CalendarConnection, lease_id: uuid.UUID | None, now: datetime) -> None:
    if lease_id is not None and connection.sync_lease_id == lease_id:
        connection.sync_lease_id, connection.sync_leased_until = None, None


def sync_connection(db: Session, connection_id: uuid.UUID, *, settings: Settings | None = None,
                    now: datetime | None = None) -> bool:
    """One sync in the caller's transaction (tests, scripts): :func:`sync_apart` with one session throughout."""

    @contextmanager
    def same() -> Iterator[Session]:
        yield db

    return sync_apart(same, connection_id, settings=settings, now=now)


def sync_apart(transaction: Callable[[], AbstractContextManager[Session]], connection_id: uuid.UUID, *,
               lease_id: uuid.UUID | None = None, settings: Settings | None = None, now: datetime | None = None
               ) -> bool:
    """One sync (under its lease, when given: one no longer this sync's is not run): the plan read in one
    transaction, the server asked outside any (a slow server holds no database connection and no lock), what changed
    stored in another, which ends the lease. On a fault what was stored stays and the next attempt backs off; a
    connection whose credentials are refused becomes ``broken`` and its mentor is told, once. ``True`` when the busy
    times are up to date."""
    settings = settings or get_settings()
    now = now or utcnow()
    try:
        with transaction() as db:
            planned = plan(db, connection_id, settings, lease_id)
        if planned is None:
            return False
        reads, validators = read(planned, settings, now)
    except CalendarFault as error:
        with transaction() as db:
            if failed(db, connection_id, error, now=now, settings=settings, lease_id=lease_id):
                tell_broken(db, connection_id)
        return False
    with transaction() as db:
        return store(db, connection_id, reads, validators, now=now, settings=settings, lease_id=lease_id)


def tell_broken(db: Session, connection_id: uuid.UUID) -> None:
    """The mentor, once: their calendar refused the credentials, and nothing is read from it until they fix them."""
    connection = db.get_one(CalendarConnection, connection_id)
    profile = db.get_one(MentorProfile, connection.mentor_profile_id)
    notify_user(db, profile.user_id, type_="calendar.broken", said=BROKEN, words={"host": connection.host},
                data={"link": "#/mentor", "connection_id": str(connection.id)})


def refresh_before_accept(db: Session, transaction: Callable[[], AbstractContextManager[Session]], actor: Actor,
                          booking_id: uuid.UUID, *, settings: Settings | None = None,
                          release: Callable[[], None] = lambda: None,
                          sleep: Callable[[float], None] = time.sleep) -> datetime | None:
    """Before the actor accepts the booking (as its mentor: anyone else's accept is refused by the accept itself): the
    mentor's connections last read more than ``CALENDAR_FRESHNESS`` ago are read now, by the calendars workers under
    each sync's lease (an accept arriving while one is read asks for no other), and the accept waits at most
    ``CALENDAR_ACCEPT_WAIT`` for them, looking at the database (no calendar is read in this process, and no thread
    started). The time of the oldest read the accept then decides on; ``None`` when the mentor has no calendar
    connected, or one was never read.

    Whether one is stale is read in the caller's session (one query: a mentor with no calendar costs no more). To
    wait, the caller's transaction is ended first (``release``: it has written nothing yet), and the leases and the
    looks take short transactions of their own, so that no connection is held meanwhile.
    """
    settings = settings or get_settings()
    if actor.mentor_profile_id is None:
        return None
    mentor = select(Booking.mentor_profile_id).where(Booking.id == booking_id,
                                                     Booking.mentor_profile_id == actor.mentor_profile_id)
    connections = select(CalendarConnection.id, CalendarConnection.synced_at, CalendarConnection.sync_leased_until,
                         CalendarConnection.failures, CalendarConnection.next_sync_at
                         ).where(CalendarConnection.status == ConnectionStatus.ACTIVE,
                                 CalendarConnection.mentor_profile_id == mentor.scalar_subquery())
    rows = db.execute(connections).all()
    now = utcnow()
    fresh_since = stale_before(settings, now)
    # Stale, and not backing off after a failure (a calendar refused is not read again at every accept).
    stale = {row.id for row in rows if (row.synced_at is None or row.synced_at < fresh_since)
             and (row.failures == 0 or row.next_sync_at <= now)}
    if stale:
        release()
        with transaction() as leasing:
            for connection_id, lease_id in lease(leasing, list(stale), now, settings):
                enqueue_after_commit(leasing, SYNC_TASK, str(connection_id), str(lease_id))
        until = time.monotonic() + settings.calendar_accept_wait_seconds
        while time.monotonic() < until:
            sleep(min(ACCEPT_POLL_SECONDS, max(0.0, until - time.monotonic())))
            with transaction() as looking:
                rows = looking.execute(connections).all()
            if all(row.sync_leased_until is None or row.sync_leased_until <= utcnow()
                   for row in rows if row.id in stale):
                break
    synced = [row.synced_at for row in rows]
    return None if not synced or any(s is None for s in synced) else min(s for s in synced if s is not None)


def stale_before(settings: Settings, now: datetime | None = None) -> datetime:
    """A calendar read before this is read again before its mentor's accept decides (``CALENDAR_FRESHNESS``)."""
    return (now or utcnow()) - timedelta(seconds=settings.calendar_freshness_seconds)


ACCEPT_POLL_SECONDS = 0.05  # how often an accept waiting for a calendar looks whether it was read
