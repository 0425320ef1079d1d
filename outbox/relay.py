"""Relaying: work whose kick was lost is kicked again once its row's ``next_attempt_at`` passes.

A row's ``next_attempt_at`` is the relay's timer: set at recording (``OUTBOX_REDELIVER_SECONDS``
ahead) and moved out by each redelivery with exponential backoff. A redelivery that does not reach
the broker is taken back (:func:`reschedule_unsent`), and when Redis has lost its data every pending
row is due at once (:func:`make_pending_due`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Select, String, Table, func, literal, literal_column, select, true, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import Session

from models import HandlerStatus, OutboxEvent, OutboxHandler
from outbox.recording import Dispatch, pending_dispatches, redeliver_delay
from outbox.registry import REGISTRY

_HANDLER_ROWS = cast(Table, OutboxHandler.__table__)


def _due_rows(limit: int) -> Select[tuple[uuid.UUID, str]]:
    """The keys of up to ``limit`` due rows of each handler, the longest waiting first, locked (``SKIP LOCKED``).

    Handler by handler, each on its own part of the pending rows' index: a backlog of one handler costs
    the others nothing. The status inline, as the partial index is written, so a generic plan uses it.
    """
    names = REGISTRY.handler_names()
    if not names:  # a process that never imported its handlers would relay nothing, and say nothing
        raise RuntimeError("no handler is declared: import workflows.handlers first")
    handlers = func.unnest(literal(names, ARRAY(String))).table_valued("name").render_derived()
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
    """One handler's rows not done: how many, when the oldest one's event happened, how many failed at least once,
    and the error of the latest event among those."""

    handler: str
    pending: int
    oldest_pending_at: datetime | None
    failing: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    oldest_pending_at: datetime | None
    handlers: list[HandlerBacklog]


def outbox_status(db: Session) -> OutboxStatus:
    """Work not done, in all and per handler (every handler listed, idle ones with nothing), in one query."""
    failed = OutboxHandler.last_error.is_not(None)
    errors = func.array_agg(aggregate_order_by(OutboxHandler.last_error, OutboxEvent.created_at.desc()),
                            type_=ARRAY(String)).filter(failed)
    rows = db.execute(
        select(OutboxHandler.handler, func.count(), func.min(OutboxEvent.created_at), func.count().filter(failed),
               errors[1])
        .join(OutboxEvent, OutboxEvent.id == OutboxHandler.event_id)
        .where(OutboxHandler.status == HandlerStatus.PENDING)
        .group_by(OutboxHandler.handler)
    ).all()
    found = {handler: HandlerBacklog(handler, pending, oldest, failing, last_error)
             for handler, pending, oldest, failing, last_error in rows}
    names = sorted(set(REGISTRY.handler_names()) | set(found))
    handlers = [found.get(name, HandlerBacklog(name, 0, None)) for name in names]
    oldest_times = [backlog.oldest_pending_at for backlog in handlers if backlog.oldest_pending_at is not None]
    return OutboxStatus(pending=sum(backlog.pending for backlog in handlers),
                        oldest_pending_at=min(oldest_times, default=None), handlers=handlers)
