"""A handler drains its outbox rows in batches: one transaction per batch, one savepoint per failing row.

A handler's task claims up to ``HANDLER_BATCH`` of its own due rows with
``FOR UPDATE SKIP LOCKED`` (two workers drain one backlog side by side, never
the same row), marks them done and does their work in that same transaction.
The work runs for the whole batch at once, set-based where the handler allows;
if that fails, each row runs again in a savepoint of its own, so only the rows
that fail stay pending, each with its error and a backoff of its own. A batch of
one row (the usual case with no backlog) runs without a savepoint: if it fails,
its transaction rolls back, claim included, and :func:`keep_failure` writes the
row's error and backoff in a transaction of its own.

Due: pending, and not waiting out a failure (``backoff_until`` unset or
passed). A fresh row is due at once. ``next_attempt_at`` is the relay's timer
for rows whose kick was lost; it never holds a row back from a batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

import structlog
from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    Interval,
    String,
    Table,
    Uuid,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import HandlerStatus, OutboxEvent, OutboxHandler
from outbox.recording import live_events, pending_dispatches
from outbox.registry import Work

log = structlog.get_logger(__name__)

_EVENTS = cast(Table, OutboxEvent.__table__)
_ROWS = cast(Table, OutboxHandler.__table__)


def _claim_statement() -> Executable:
    """Claim a handler's due rows (the hinted one, then the longest waiting) and mark them done, returning their events.

    Each part locks with ``SKIP LOCKED`` in a CTE of its own: rows another batch holds are left to it. The handler
    and the batch size are written into the statement as it is sent (one prepared statement per handler and size):
    as parameters, PostgreSQL found the generic plan dearer than one made for the values, and planned a kicked
    task's claim again at every batch.
    """
    handler = bindparam("claim_handler", type_=String, literal_execute=True)
    hint = bindparam("hint", type_=Uuid)
    # The status inline, as the partial index on pending rows is written.
    pending: ColumnElement[str] = literal_column(f"'{HandlerStatus.PENDING.value}'")
    due = and_(_ROWS.c.handler == handler, _ROWS.c.status == pending,
               or_(_ROWS.c.backoff_until.is_(None), _ROWS.c.backoff_until <= func.now()))
    hinted = select(_ROWS.c.event_id).where(due, _ROWS.c.event_id == hint).with_for_update(skip_locked=True)
    oldest = (
        select(_ROWS.c.event_id).where(due, _ROWS.c.event_id.is_distinct_from(hint))
        .order_by(_ROWS.c.next_attempt_at).limit(bindparam("others", type_=Integer, literal_execute=True))
        .with_for_update(skip_locked=True)
    )
    hinted_cte, oldest_cte = hinted.cte("hinted"), oldest.cte("oldest")
    claimed = union_all(select(hinted_cte.c.event_id), select(oldest_cte.c.event_id))
    marked = (
        update(_ROWS)
        .where(_ROWS.c.handler == handler, _ROWS.c.event_id.in_(claimed), _EVENTS.c.id == _ROWS.c.event_id)
        .values(status=HandlerStatus.DONE.value, done_at=func.now(), last_error=None, backoff_until=None)
        .returning(*_EVENTS.c)
    )
    return select(OutboxEvent).from_statement(marked)


_CLAIM = _claim_statement()


def claim_due(db: Session, handler: str, *, limit: int, hint: uuid.UUID | None = None) -> list[OutboxEvent]:
    """Up to ``limit`` due rows of ``handler``, ``hint``'s first if it is due, marked done; their events, oldest first.

    The marks are undone with everything else if the transaction rolls back: a batch that dies leaves its
    rows pending, and the relay kicks the handler again once their ``next_attempt_at`` passes.
    """
    others = limit - 1 if hint is not None else limit
    events = list(db.scalars(_CLAIM, {"claim_handler": handler, "hint": hint, "others": others}))
    events.sort(key=lambda event: (event.created_at, event.id))
    return events


@contextmanager
def savepoint(db: Session) -> Iterator[None]:
    """A savepoint whose rollback also forgets the messages and live events written inside it."""
    owed, live = pending_dispatches(db), live_events(db)
    owed_before, live_before = len(owed), len(live)
    try:
        with db.begin_nested():
            yield
    except BaseException:
        del owed[owed_before:]
        del live[live_before:]
        raise


def _backoff_seconds() -> ColumnElement[timedelta]:
    """The row's redelivery delay (``outbox.recording.redeliver_delay`` of its attempts), in SQL."""
    settings = get_settings()
    seconds = func.least(settings.outbox_redeliver_seconds * func.power(2, func.least(_ROWS.c.attempts, 16)),
                         settings.outbox_redeliver_max_seconds)
    return func.make_interval(0, 0, 0, 0, 0, 0, seconds, type_=Interval)


def keep_failures(db: Session, handler: str, errors: dict[uuid.UUID, str], *, still_pending: bool = False) -> None:
    """Rows whose work failed stay pending with their error, not claimed again before their backoff passes.

    The relay's timer moves out with the backoff, so it kicks the handler when the row is due again.
    ``still_pending``: only rows no batch has done since (the failed batch was rolled back, claim and all).
    """
    if not errors:
        return
    retry_at = func.now() + _backoff_seconds()
    where = [_ROWS.c.handler == handler, _ROWS.c.event_id == bindparam("failed_event")]
    if still_pending:
        where.append(_ROWS.c.status == HandlerStatus.PENDING.value)
    db.execute(
        update(_ROWS)
        .where(*where)
        .values(status=HandlerStatus.PENDING.value, done_at=None, last_error=bindparam("error"),
                backoff_until=retry_at, next_attempt_at=func.greatest(_ROWS.c.next_attempt_at, retry_at)),
        [{"failed_event": event_id, "error": error[:2000]} for event_id, error in errors.items()],
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class RowFailed(Exception):
    """The one row of a batch failed: roll its transaction back, then :func:`keep_failure`."""

    def __init__(self, event_id: uuid.UUID, error: str) -> None:
        super().__init__(error)
        self.event_id, self.error = event_id, error


def keep_failure(db: Session, handler: str, failed: RowFailed) -> None:
    """After a one-row batch rolled back: its row keeps the error and backoff, unless a batch did it since."""
    keep_failures(db, handler, {failed.event_id: failed.error}, still_pending=True)
    log.warning("outbox.handler_failed", handler=handler, event_id=str(failed.event_id), error=failed.error)


@dataclass
class Batch:
    """What one batch claimed, and the errors of the rows that failed (left pending)."""

    events: list[OutboxEvent]
    failed: dict[uuid.UUID, str] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return len(self.events) - len(self.failed)


def do_batch(db: Session, handler: str, events: Sequence[OutboxEvent], work: Work, *,
             fatal: tuple[type[BaseException], ...] = ()) -> Batch:
    """Do ``work`` for the claimed ``events``: all at once, or, if that fails, row by row in savepoints.

    One event runs without a savepoint (two round trips fewer); its failure raises :class:`RowFailed`
    for the caller to roll back and :func:`keep_failure`. Exceptions in ``fatal`` (e.g. the task's time
    limit) are not a row's failure: they end the batch.
    """
    batch = Batch(list(events))
    if not events:
        return batch
    if len(events) == 1:
        try:
            work(db, events)
        except fatal:
            raise
        except Exception as exc:
            raise RowFailed(events[0].id, _describe(exc)) from exc
        return batch
    try:
        with savepoint(db):
            work(db, events)
    except fatal:
        raise
    except Exception as exc:  # noqa: BLE001 - each row is tried alone: its own failure is kept on it
        log.warning("outbox.batch_failed", handler=handler, events=len(events), error=_describe(exc))
        for event in events:
            try:
                with savepoint(db):
                    work(db, [event])
            except fatal:
                raise
            except Exception as row_exc:  # noqa: BLE001 - a row's failure is kept on its row
                batch.failed[event.id] = _describe(row_exc)
    for event_id, error in batch.failed.items():
        log.warning("outbox.handler_failed", handler=handler, event_id=str(event_id), error=error)
    keep_failures(db, handler, batch.failed)
    return batch
