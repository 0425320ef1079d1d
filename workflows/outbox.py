"""The transactional outbox: events written with the change, published after commit.

Each event gets one row per handler in ``outbox_handlers``. The row is the
truth about whether that handler's work is done; the broker message is only a
wake-up call for the handler, which then drains its due rows in batches
(``workflows.outbox_batches``). The relay kicks handlers again for rows still
pending once their ``next_attempt_at`` passes, with exponential backoff.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import HandlerStatus, OutboxEvent, OutboxHandler

# The handlers: each is the name of the Celery task that does its work.
CREATE_SESSION_TASK = "sessions.create_from_booking"
UNLOCK_REVIEWS_TASK = "reviews.unlock"
NOTIFY_TASK = "notifications.notify"
RECORD_ANALYTICS_TASK = "analytics.record"
FAN_OUT_WEBHOOKS_TASK = "webhooks.fan_out"

# Event type -> handler names: one handler per side effect, each a Celery task on its own queue,
# each done at most once per event (its outbox_handlers row) and retried on its own.
HANDLERS: dict[str, tuple[str, ...]] = {
    "booking.requested": (NOTIFY_TASK, FAN_OUT_WEBHOOKS_TASK),
    "booking.accepted": (CREATE_SESSION_TASK, NOTIFY_TASK, FAN_OUT_WEBHOOKS_TASK),
    "booking.declined": (NOTIFY_TASK, FAN_OUT_WEBHOOKS_TASK),
    "booking.cancelled": (NOTIFY_TASK, FAN_OUT_WEBHOOKS_TASK),
    "booking.expired": (NOTIFY_TASK, FAN_OUT_WEBHOOKS_TASK),
    "session.scheduled": (FAN_OUT_WEBHOOKS_TASK,),
    "session.started": (FAN_OUT_WEBHOOKS_TASK,),
    "session.completed": (UNLOCK_REVIEWS_TASK, NOTIFY_TASK, RECORD_ANALYTICS_TASK, FAN_OUT_WEBHOOKS_TASK),
    "session.cancelled": (NOTIFY_TASK, RECORD_ANALYTICS_TASK, FAN_OUT_WEBHOOKS_TASK),
    "session.missed": (NOTIFY_TASK, RECORD_ANALYTICS_TASK, FAN_OUT_WEBHOOKS_TASK),
    "session.updated": (NOTIFY_TASK, FAN_OUT_WEBHOOKS_TASK),
    "review.created": (NOTIFY_TASK, FAN_OUT_WEBHOOKS_TASK),
    # Reminders are told in-app and by email by the beat task that records them (workflows/reminders.py).
    "session.reminder": (FAN_OUT_WEBHOOKS_TASK,),
}

def handler_names() -> list[str]:
    """Every handler, once, in name order."""
    return sorted({name for names in HANDLERS.values() for name in names})


PENDING_KEY = "outbox_pending"
LIVE_KEY = "outbox_live"
REQUEST_ID_KEY = "request_id"

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


def pending_dispatches(db: Session) -> list[Dispatch | TaskCall]:
    """Messages this session owes the broker once it commits."""
    pending: list[Dispatch | TaskCall] = db.info.setdefault(PENDING_KEY, [])
    return pending


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
    come in as arrays (``ids``, ``aggregate_ids``, ``payloads``, zipped by ``unnest``), so a batch of
    them costs one round trip, as one does. Arrays cost more to send: one event goes without.
    """
    if many:
        given = func.unnest(
            bindparam("ids", type_=ARRAY(Uuid)), bindparam("aggregate_ids", type_=ARRAY(Uuid)),
            bindparam("payloads", type_=ARRAY(JSONB)),
        ).table_valued("id", "aggregate_id", "payload").render_derived()
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


def record_events(
    db: Session,
    event_type: str,
    *,
    aggregate_type: str,
    items: Sequence[tuple[uuid.UUID, dict[str, Any]]],
    actor: str | None,
) -> list[OutboxEvent]:
    """Write one ``event_type`` event per ``(aggregate_id, payload)`` and one pending row per handler each.

    All in one statement (:func:`_record_events_statement`), in the caller's transaction; the returned
    events, in the order of ``items``, are not in the session.
    """
    handlers = HANDLERS[event_type]
    request_id = db.info.get(REQUEST_ID_KEY)
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
        rows = db.execute(_RECORD_EVENTS, {"ids": [event.id for event in events],
                                           "aggregate_ids": [event.aggregate_id for event in events],
                                           "payloads": [event.payload for event in events], **shared})
    created = dict(rows.all())
    for event in events:
        event.created_at = created[event.id]
    db.info.setdefault(LIVE_KEY, []).extend(events)
    pending_dispatches(db).extend(Dispatch(handler, event.id, event.aggregate_id)
                                  for event in events for handler in handlers)
    return events


def record_event(
    db: Session,
    event_type: str,
    *,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    payload: dict[str, Any],
    actor: str | None,
) -> OutboxEvent:
    """Write ``event_type`` and one pending row per handler, in the caller's transaction (:func:`record_events`)."""
    return record_events(db, event_type, aggregate_type=aggregate_type, items=[(aggregate_id, payload)],
                         actor=actor)[0]


def mark_done_for_aggregate(db: Session, aggregate_id: uuid.UUID, event_type: str, handler: str) -> None:
    """Mark the handler done for every event of this aggregate (for work sent by hand)."""
    events = select(OutboxEvent.id).where(
        OutboxEvent.aggregate_id == aggregate_id, OutboxEvent.type == event_type
    )
    db.execute(
        update(OutboxHandler)
        .where(
            OutboxHandler.event_id.in_(events),
            OutboxHandler.handler == handler,
            OutboxHandler.status == HandlerStatus.PENDING,
        )
        .values(status=HandlerStatus.DONE, done_at=func.now(), last_error=None)
    )


def _due_rows(limit: int) -> Select[tuple[uuid.UUID, str]]:
    """The keys of up to ``limit`` due rows of each handler, the longest waiting first, locked (``SKIP LOCKED``).

    Handler by handler, each on its own part of the pending rows' index: a backlog of one handler costs
    the others nothing. The status inline, as the partial index is written, so a generic plan uses it.
    """
    handlers = func.unnest(literal(handler_names(), ARRAY(String))).table_valued("name").render_derived()
    rows = _HANDLER_ROWS.c
    oldest = (
        select(rows.event_id, rows.handler)
        .where(rows.handler == handlers.c.name, rows.status == literal_column(f"'{HandlerStatus.PENDING.value}'"),
               rows.next_attempt_at <= func.now())
        .order_by(rows.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .lateral("oldest")
    )
    return select(oldest.c.event_id, oldest.c.handler).select_from(handlers).join(oldest, true())


def relay_due(db: Session, *, limit: int = 500) -> list[Dispatch]:
    """Claim pending work whose redelivery time has passed and schedule its next one.

    ``FOR UPDATE SKIP LOCKED`` lets two relays run at once without sending the
    same row twice, and skips rows a handler is working on right now. The
    attempt counted here is taken back by :func:`reschedule_unsent` if its
    message does not reach the broker.
    """
    rows = db.execute(
        select(OutboxHandler, OutboxEvent.aggregate_id, OutboxEvent.request_id)
        .join(OutboxEvent, OutboxEvent.id == OutboxHandler.event_id)
        .where(tuple_(OutboxHandler.event_id, OutboxHandler.handler).in_(_due_rows(limit)))
        .order_by(OutboxHandler.next_attempt_at)
        .limit(limit)
    ).all()
    dispatches: list[Dispatch] = []
    for row, aggregate_id, request_id in rows:
        row.attempts += 1
        row.next_attempt_at = func.now() + redeliver_delay(row.attempts)
        dispatch = Dispatch(row.handler, row.event_id, aggregate_id, request_id, redelivery=True)
        pending_dispatches(db).append(dispatch)
        dispatches.append(dispatch)
    return dispatches


def reschedule_unsent(db: Session, dispatches: list[Dispatch]) -> int:
    """Work whose message did not reach the broker is due again at once, and that attempt does not count.

    Backoff spaces out deliveries that reached a worker (whose handler may be
    failing); an outage of the broker must not push work minutes out, so the
    next relay after the broker returns sends it. Returns how many rows were
    still pending.
    """
    if not dispatches:
        return 0
    keys = [(dispatch.event_id, dispatch.handler) for dispatch in dispatches]
    result = db.execute(
        update(_HANDLER_ROWS)
        .where(tuple_(_HANDLER_ROWS.c.event_id, _HANDLER_ROWS.c.handler).in_(keys),
               _HANDLER_ROWS.c.status == HandlerStatus.PENDING.value)
        .values(attempts=func.greatest(_HANDLER_ROWS.c.attempts - 1, 0), next_attempt_at=func.now())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for an UPDATE


def make_pending_due(db: Session) -> int:
    """Every pending row is due now: the broker lost the messages already sent for them (e.g. Redis restarted empty).

    Without this, work whose message was lost waits out its backoff (up to
    ``OUTBOX_REDELIVER_MAX_SECONDS``). A row whose work failed keeps the backoff
    of its failure. Returns how many rows were waiting.
    """
    due_at = func.greatest(func.now(), func.coalesce(_HANDLER_ROWS.c.backoff_until, func.now()))
    result = db.execute(
        update(_HANDLER_ROWS)
        .where(_HANDLER_ROWS.c.status == HandlerStatus.PENDING.value, _HANDLER_ROWS.c.next_attempt_at > due_at)
        .values(next_attempt_at=due_at)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for an UPDATE


@dataclass(frozen=True)
class HandlerBacklog:
    """One handler's rows not done: how many, and when the oldest one's event happened."""

    handler: str
    pending: int
    oldest_pending_at: datetime | None


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    oldest_pending_at: datetime | None
    handlers: list[HandlerBacklog]


def outbox_status(db: Session) -> OutboxStatus:
    """Work not done, in all and per handler (every handler listed, idle ones with nothing), in one query."""
    rows = db.execute(
        select(OutboxHandler.handler, func.count(), func.min(OutboxEvent.created_at))
        .join(OutboxEvent, OutboxEvent.id == OutboxHandler.event_id)
        .where(OutboxHandler.status == HandlerStatus.PENDING)
        .group_by(OutboxHandler.handler)
    ).all()
    found = {handler: HandlerBacklog(handler, pending, oldest) for handler, pending, oldest in rows}
    names = sorted(set(handler_names()) | set(found))
    handlers = [found.get(name, HandlerBacklog(name, 0, None)) for name in names]
    oldest_times = [backlog.oldest_pending_at for backlog in handlers if backlog.oldest_pending_at is not None]
    return OutboxStatus(pending=sum(backlog.pending for backlog in handlers),
                        oldest_pending_at=min(oldest_times, default=None), handlers=handlers)
