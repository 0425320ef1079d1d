"""A mentor's calendar connections: connecting one, choosing which calendars count as busy and which one receives
sessions, disconnecting.

Connecting asks the server what calendars the account holds (CalDAV discovery: up to three requests of
``REQUEST_SECONDS``), never inside a transaction: the connection is written first as ``connecting`` and committed (at
most one per mentor at once: another answers 429), the server is asked, and the outcome is written in a second
transaction (the calendars found, or the connection gone). A connect whose process died is forgotten once its lease
has run out. What a mentor is told when it fails is one message per kind of failure (unreachable, not a calendar,
credentials refused); the detail goes to the log.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import delete, func, select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import Session

from infra import calendar_http, http_targets
from infra.calendar_http import CalendarAuthFailed, CalendarFault, CalendarUnreachable, NotACalendar
from infra.config import Settings, get_settings
from models import BusyInterval, CalendarConnection, CalendarSource, CalendarWrite, ConnectionStatus, MentorProfile
from models.calendars import CALDAV, MAX_CONNECTIONS_PER_MENTOR, MAX_SOURCES_PER_CONNECTION, SEALED_HREF
from workflows.actors import Actor
from workflows.calendars import sync as calendar_sync
from workflows.calendars import writes as calendar_writes
from workflows.calendars.accounts import CONNECTIONS, REQUEST_SECONDS, ConnectionAction, client_for, seal, unseal
from workflows.clock import utcnow
from workflows.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    add_or_conflict,
    refusal,
)
from workflows.events import EventType, record
from workflows.payloads import ScheduleChange, schedule_payload
from workflows.roles import Role

log = structlog.get_logger(__name__)

CONNECT_LEASE = timedelta(seconds=3 * REQUEST_SECONDS + 30)  # discovery's three requests, and room to write


@dataclass(frozen=True)
class Connecting:
    """A connect leased and committed, before its server is asked."""

    connection_id: uuid.UUID
    kind: str
    url: str
    secret: dict[str, str | None]


# What a mentor is told when a calendar cannot be connected, by the kind of fault (the detail goes to the log): the
# words of ``infra.calendar_http``'s, here so that the catalogues hold them.
_TOLD: dict[type[CalendarFault], str] = {
    CalendarUnreachable: refusal("the calendar server could not be reached"),
    NotACalendar: refusal("no calendar could be read at this address"),
    CalendarAuthFailed: refusal("the server refused the user name or app password"),
}


def connect(db: Session, actor: Actor, *, kind: str, url: str, username: str | None = None,
            password: str | None = None, settings: Settings | None = None) -> CalendarConnection:
    """:func:`connect_apart` in the caller's transaction (tests, scripts)."""

    @contextmanager
    def same() -> Iterator[Session]:
        yield db

    connection_id = connect_apart(same, actor, kind=kind, url=url, username=username, password=password,
                                  settings=settings)
    return db.get_one(CalendarConnection, connection_id)


def connect_apart(transaction: Callable[[], AbstractContextManager[Session]], actor: Actor, *, kind: str, url: str,
                  username: str | None = None, password: str | None = None, settings: Settings | None = None
                  ) -> uuid.UUID:
    """Connect a calendar: a CalDAV account's calendars are discovered (every one busy, none receiving sessions
    until the mentor chooses), a subscription is one busy calendar; the first sync is sent after the commit. The
    server is asked between two transactions (:mod:`this module's <workflows.calendars.connections>` docstring)."""
    settings = settings or get_settings()
    with transaction() as db:
        leased = begin(db, actor, kind=kind, url=url, username=username, password=password, settings=settings)
    try:
        found = discover(leased, settings)
    except InvalidInput:
        with transaction() as db:
            db.execute(delete(CalendarConnection).where(CalendarConnection.id == leased.connection_id,
                                                        CalendarConnection.status == ConnectionStatus.CONNECTING))
        raise
    with transaction() as db:
        finish(db, leased, found)
    return leased.connection_id


def begin(db: Session, actor: Actor, *, kind: str, url: str, username: str | None, password: str | None,
          settings: Settings) -> Connecting:
    """Check the address and write the connection as ``connecting``; 429 while another connect of the mentor's is
    under way, 409 beyond ``MAX_CONNECTIONS_PER_MENTOR``."""
    profile = mentor_turn(db, actor, lock=False)
    now = utcnow()
    db.execute(delete(CalendarConnection).where(  # a connect whose process died: its lease ran out
        CalendarConnection.mentor_profile_id == profile.id, CalendarConnection.status == ConnectionStatus.CONNECTING,
        CalendarConnection.created_at < now - CONNECT_LEASE))
    held = db.scalar(select(func.count()).where(CalendarConnection.mentor_profile_id == profile.id)) or 0
    if held >= MAX_CONNECTIONS_PER_MENTOR:
        raise Conflict("at most {max_connections_per_mentor} calendar connections per mentor",
                       words={"max_connections_per_mentor": MAX_CONNECTIONS_PER_MENTOR}, reason="calendar_limit")
    try:
        normal = http_targets.validate_target(url, scope=http_targets.configured_scope(settings),
                                              https_only=settings.https_targets_only)
    except http_targets.TargetUnreachable as exc:
        log.warning("calendar.connect_refused", mentor_profile_id=str(profile.id), detail=str(exc))
        raise InvalidInput(_TOLD[CalendarUnreachable], field="url") from None
    except http_targets.TargetRefused as exc:
        raise InvalidInput("this calendar address is refused: {exc}", words={"exc": exc}, field="url") from None
    secret = {"url": normal, "username": username, "password": password}
    connection = CalendarConnection(id=uuid.uuid4(), mentor_profile_id=profile.id, kind=kind, host=host_of(normal),
                                    credentials=seal(settings, secret), status=ConnectionStatus.CONNECTING,
                                    next_sync_at=now, created_at=now)
    add_or_conflict(db, connection, {"uq_calendar_connections_connecting": RateLimited(
        "a calendar of yours is being connected: wait until it is done",
        retry_after=int(CONNECT_LEASE.total_seconds()))})
    return Connecting(connection.id, kind, normal, secret)


def discover(leased: Connecting, settings: Settings) -> list[calendar_http.RemoteCalendar]:
    """Ask the server (no database): a CalDAV account's calendars; a subscription is one calendar, read at the first
    sync. 422 with one message per kind of failure."""
    if leased.kind != CALDAV:
        return [calendar_http.RemoteCalendar(SEALED_HREF, host_of(leased.url), None, writable=False)]
    try:
        with client_for(settings, leased.secret) as client:
            found = calendar_http.discover(client, leased.url)
    except CalendarFault as fault:
        log.warning("calendar.connect_failed", connection_id=str(leased.connection_id), detail=str(fault))
        field = "password" if isinstance(fault, CalendarAuthFailed) else "url"
        told = next((words for kind, words in _TOLD.items() if isinstance(fault, kind)), None)
        if told is None:
            raise InvalidInput("this calendar cannot be used: {problem}", words={"problem": fault.public},
                               field=field) from None
        raise InvalidInput(told, field=field) from None
    if not found:
        raise InvalidInput("the account holds no calendar of events: create one in your calendar app first",
                           field="url")
    return found


def finish(db: Session, leased: Connecting, found: Sequence[calendar_http.RemoteCalendar]) -> CalendarConnection:
    """The connection is ``active`` with the calendars found; its first sync is sent after the commit."""
    connection = db.get(CalendarConnection, leased.connection_id, with_for_update=True)
    if connection is None or connection.status != ConnectionStatus.CONNECTING:
        raise Conflict("the connection was given up meanwhile: connect again", reason="connection_given_up")
    CONNECTIONS.apply(connection, ConnectionAction.CONNECT, Role.MENTOR)
    connection.next_sync_at = utcnow()
    db.add_all([CalendarSource(id=uuid.uuid4(), connection_id=connection.id,
                               mentor_profile_id=connection.mentor_profile_id, href=remote.href, name=remote.name,
                               busy=True, target=False, writable=remote.writable)
                for remote in found[:MAX_SOURCES_PER_CONNECTION]])
    db.flush()
    calendar_sync.request_sync(db, connection)
    log.info("calendar.connected", connection_id=str(connection.id), kind=connection.kind, host=connection.host)
    return connection


def host_of(url: str) -> str:
    return http_targets.parse_url(url).host[:255]


def mentor_turn(db: Session, actor: Actor, *, lock: bool = True) -> MentorProfile:
    """The actor's mentor profile, locked ``FOR NO KEY UPDATE``: one change of their calendars at a time, while a
    sync storing its read (which inserts busy times keyed on the mentor) never waits for it."""
    if actor.mentor_profile_id is None:
        raise Forbidden("only mentors connect calendars: create your mentor profile first")
    return db.get_one(MentorProfile, actor.mentor_profile_id, with_for_update={"key_share": True} if lock else None)


def own_connection(db: Session, actor: Actor, connection_id: uuid.UUID, *, lock: bool = False) -> CalendarConnection:
    """The actor's connection (connected: not while it is being connected); 404 for anyone else's."""
    connection = db.get(CalendarConnection, connection_id, with_for_update=lock or None)
    if connection is None or actor.mentor_profile_id is None or connection.status == ConnectionStatus.CONNECTING \
            or connection.mentor_profile_id != actor.mentor_profile_id:
        raise NotFound("calendar connection not found")
    return connection


def list_connections(db: Session, actor: Actor) -> list[CalendarConnection]:
    if actor.mentor_profile_id is None:
        return []
    return list(db.scalars(select(CalendarConnection).where(
        CalendarConnection.mentor_profile_id == actor.mentor_profile_id,
        CalendarConnection.status != ConnectionStatus.CONNECTING).order_by(CalendarConnection.created_at)))


sources_of = calendar_sync.sources_of


def update(db: Session, actor: Actor, connection_id: uuid.UUID, *, calendars: Sequence[dict[str, Any]] = (),
           username: str | None = None, password: str | None = None, settings: Settings | None = None
           ) -> CalendarConnection:
    """Choose which calendars count as busy and which one receives sessions (one per mentor: choosing another, or
    none, moves the events of sessions not over yet, ``calendar_writes.target_changed``); give new credentials to a
    broken connection (it is active again, and the writes it owes are sent). A sync is asked for: one under way
    already is that one (it runs again once done if it began before this change)."""
    settings = settings or get_settings()
    now = utcnow()
    mentor_turn(db, actor)  # the mentor's turn: two changes of their target calendar never cross
    connection = own_connection(db, actor, connection_id, lock=True)
    sources = {s.id: s for s in sources_of(db, [connection.id])[connection.id]}
    target_before = _target_of(db, connection.mentor_profile_id)
    for choice in calendars:
        source = sources.get(choice["id"])
        if source is None:
            raise InvalidInput("no such calendar in this connection", field="calendars")
        if choice.get("target") and not source.writable:
            raise InvalidInput("sessions cannot be written to {name}: it is read-only",
                               words={"name": repr(source.name)}, field="calendars")
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
        CONNECTIONS.apply(connection, ConnectionAction.MEND, Role.MENTOR)
        connection.failures = 0
        db.execute(sa_update(CalendarWrite).where(CalendarWrite.source_id.in_(list(sources)))
                   .values(next_attempt_at=now))
    db.flush()
    calendar_sync.request_sync(db, connection)
    # Calendars no longer busy stop blocking at once.
    forget_busy(db, connection.mentor_profile_id, [s.id for s in sources.values() if not s.busy])
    if _target_of(db, connection.mentor_profile_id) != target_before:
        calendar_writes.target_changed(db, connection.mentor_profile_id, now=now)
    return connection


def _target_of(db: Session, mentor_profile_id: uuid.UUID) -> uuid.UUID | None:
    return db.scalar(select(CalendarSource.id).where(CalendarSource.mentor_profile_id == mentor_profile_id,
                                                     CalendarSource.target))


def forget_busy(db: Session, mentor_profile_id: uuid.UUID, source_ids: Sequence[uuid.UUID]) -> None:
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
    forget_busy(db, connection.mentor_profile_id, [s.id for s in sources_of(db, [connection.id])[connection.id]])
    db.delete(connection)
    db.flush()
    log.info("calendar.disconnected", connection_id=str(connection_id))
