"""Recording: an event and one pending row per handler of its type, in the caller's transaction.

Also what a transaction owes once it commits, kept on its session: the kicks for its handlers, other
task messages (:func:`enqueue_after_commit`), and its events for the live streams. The publisher
(``outbox.publisher``) sends them after the commit and forgets them on a rollback; a savepoint that
rolls back forgets those written inside it (``outbox.batches.savepoint``). Only this package reads
the session's keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Interval,
    Select,
    String,
    Table,
    Uuid,
    bindparam,
    column,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import HandlerStatus, OutboxEvent, OutboxHandler
from outbox.registry import REGISTRY

_PENDING = "outbox_pending"
_LIVE = "outbox_live"
_REQUEST_ID = "request_id"

_EVENTS = cast(Table, OutboxEvent.__table__)
_HANDLER_ROWS = cast(Table, OutboxHandler.__table__)


@dataclass(frozen=True)
class Dispatch:
    """A kick to publish after commit: ``handler`` has work, ``event_id``'s first.

    The publisher sends at most one message per handler whose queue holds no kick yet. A
    ``redelivery`` (the relay's) is sent even then: the kick the queue seemed to hold may have
    died with a killed worker, and the relay has already moved the row's next redelivery on.
    """

    handler: str
    event_id: uuid.UUID
    aggregate_id: uuid.UUID
    request_id: str | None = None
    redelivery: bool = False


@dataclass(frozen=True)
class TaskCall:
    """A task to send after commit whose durability lives in its own table (e.g. webhook messages)."""

    task: str
    args: tuple[str, ...]


def tag_request(db: Session, request_id: str | None) -> None:
    """The id of the request (or task) this session works for: its events and messages carry it."""
    db.info[_REQUEST_ID] = request_id


def request_id_of(db: Session) -> str | None:
    value = db.info.get(_REQUEST_ID)
    return str(value) if value else None


def pending_dispatches(db: Session) -> list[Dispatch | TaskCall]:
    """Messages this session owes the broker once it commits."""
    pending: list[Dispatch | TaskCall] = db.info.setdefault(_PENDING, [])
    return pending


def live_events(db: Session) -> list[OutboxEvent]:
    """Events this session recorded, for the live streams once it commits."""
    live: list[OutboxEvent] = db.info.setdefault(_LIVE, [])
    return live


def take_owed(db: Session) -> tuple[list[Dispatch | TaskCall], list[OutboxEvent]]:
    """What the session owes, handed over (after its commit) or dropped (after its rollback)."""
    return db.info.pop(_PENDING, []), db.info.pop(_LIVE, [])


def enqueue_after_commit(db: Session, task: str, *args: str) -> None:
    """Send ``task(*args)`` once the transaction commits (nothing is sent if it rolls back).

    The caller's own rows must make the work recoverable if this message is lost.
    """
    pending_dispatches(db).append(TaskCall(task, args))


def redeliver_delay(attempts: int) -> timedelta:
    """Backoff before redelivering work not done: 30 s, 60 s, 120 s, … capped."""
    settings = get_settings()
    seconds = settings.outbox_redeliver_seconds * (2 ** min(attempts, 16))
    return timedelta(seconds=min(seconds, settings.outbox_redeliver_max_seconds))


def _record_events_statement(*, many: bool) -> Select[uuid.UUID, datetime]:
    """Events of one type, and each one's handler rows, as one statement built once.

    One event's columns are plain parameters (``id``, ``aggregate_id``, ``payload``); ``many`` events'
    come in as one JSON array of them (``events``, read by ``jsonb_to_recordset``), so a batch of them costs one
    round trip and one parameter, as one does. An array of ``jsonb`` would cost more to send: each payload is
    escaped into the array's text on its own.
    """
    if many:
        given = func.jsonb_to_recordset(bindparam("events", type_=JSONB)).table_valued(
            column("id", Uuid), column("aggregate_id", Uuid), column("payload", JSONB),
        ).render_derived(with_types=True)
        event_id, aggregate_id, payload = given.c.id, given.c.aggregate_id, given.c.payload
    else:
        event_id, aggregate_id = bindparam("id", type_=Uuid), bindparam("aggregate_id", type_=Uuid)
        payload = bindparam("payload", type_=JSONB)
    written = (
        insert(_EVENTS)
        .from_select(
            ["id", "type", "aggregate_type", "aggregate_id", "payload", "actor", "request_id"],
            select(event_id, bindparam("type", type_=String), bindparam("aggregate_type", type_=String),
                   aggregate_id, payload, bindparam("actor", type_=String), bindparam("request_id", type_=String)),
        )
        .returning(_EVENTS.c.id, _EVENTS.c.created_at)
        .cte("written")
    )
    names = func.unnest(bindparam("handlers", type_=ARRAY(String))).table_valued("handler").render_derived()
    pending_rows = insert(_HANDLER_ROWS).from_select(
        ["event_id", "handler", "status", "attempts", "next_attempt_at"],
        select(written.c.id, names.c.handler, literal(HandlerStatus.PENDING.value), literal(0),
               func.now() + bindparam("first_redelivery", type_=Interval)).select_from(written).join(names, true()),
    ).cte("pending_rows")
    return select(written.c.id, written.c.created_at).add_cte(pending_rows)


_RECORD_ONE_EVENT, _RECORD_EVENTS = _record_events_statement(many=False), _record_events_statement(many=True)


def record_events(db: Session, event_type: str, items: Sequence[tuple[uuid.UUID, dict[str, Any]]], *,
                  actor: str | None) -> list[OutboxEvent]:
    """Write one ``event_type`` event per ``(aggregate_id, payload)`` and one pending row per handler each.

    All in one statement (:func:`_record_events_statement`), in the caller's transaction; the returned
    events, in the order of ``items``, are not in the session. Kicks for the handlers, and the events for
    the live streams, are owed once the transaction commits.
    """
    handlers = REGISTRY.handlers_for(event_type)
    aggregate_type = REGISTRY.spec_of(event_type).aggregate
    request_id = request_id_of(db)
    events = [
        OutboxEvent(id=uuid.uuid4(), type=event_type, aggregate_type=aggregate_type, aggregate_id=aggregate_id,
                    payload=payload, actor=actor, request_id=request_id)
        for aggregate_id, payload in items
    ]
    if not events:
        return events
    shared = {"type": event_type, "aggregate_type": aggregate_type, "actor": actor, "request_id": request_id,
              "handlers": list(handlers), "first_redelivery": redeliver_delay(0)}
    if len(events) == 1:
        one = events[0]
        rows = db.execute(_RECORD_ONE_EVENT, {"id": one.id, "aggregate_id": one.aggregate_id, "payload": one.payload,
                                              **shared})
    else:
        rows = db.execute(_RECORD_EVENTS, {"events": [
            {"id": str(event.id), "aggregate_id": str(event.aggregate_id), "payload": event.payload}
            for event in events], **shared})
    created = dict(rows.all())
    for event in events:
        event.created_at = created[event.id]
    live_events(db).extend(events)
    pending_dispatches(db).extend(Dispatch(handler, event.id, event.aggregate_id)
                                  for event in events for handler in handlers)
    return events


@contextmanager
def recorded_within(db: Session) -> Iterator[list[OutboxEvent]]:
    """The events this session records inside the block (the list is filled as the block ends; those of a
    savepoint rolled back inside it are not among them)."""
    live = live_events(db)
    before = len(live)
    found: list[OutboxEvent] = []
    yield found
    found.extend(live[before:])


def mark_done(db: Session, event_ids: Sequence[uuid.UUID], handler: str) -> None:
    """Mark ``handler`` done for these events in the caller's transaction: their work is done another way."""
    if event_ids:
        db.execute(update(OutboxHandler)
                   .where(OutboxHandler.event_id.in_(event_ids), OutboxHandler.handler == handler,
                          OutboxHandler.status == HandlerStatus.PENDING)
                   .values(status=HandlerStatus.DONE, done_at=func.now(), last_error=None))


def mark_done_for_aggregate(db: Session, aggregate_id: uuid.UUID, event_type: str, handler: str) -> None:
    """Mark the handler done for every event of this aggregate (for work sent by hand)."""
    events = select(OutboxEvent.id).where(OutboxEvent.aggregate_id == aggregate_id, OutboxEvent.type == event_type)
    db.execute(
        update(OutboxHandler)
        .where(OutboxHandler.event_id.in_(events), OutboxHandler.handler == handler,
               OutboxHandler.status == HandlerStatus.PENDING)
        .values(status=HandlerStatus.DONE, done_at=func.now(), last_error=None)
    )
