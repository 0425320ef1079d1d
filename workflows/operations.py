"""Operator views and repairs: outbox status, reconciliation, webhook recovery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import HandlerStatus, OutboxEvent, OutboxHandler
from workflows import outbox


@dataclass(frozen=True)
class HandlerBacklog:
    handler: str
    pending: int
    oldest_pending_at: datetime | None
    failing: int
    last_error: str | None


@dataclass(frozen=True)
class OutboxReport:
    pending: int
    oldest_pending_at: datetime | None
    handlers: list[HandlerBacklog]


def outbox_report(db: Session) -> OutboxReport:
    """Work not done, per handler: how much, since when, and the latest error."""
    status = outbox.outbox_status(db)
    rows = db.execute(
        select(OutboxHandler.handler, func.count(), func.min(OutboxEvent.created_at),
               func.count().filter(OutboxHandler.last_error.is_not(None)))
        .join(OutboxEvent, OutboxEvent.id == OutboxHandler.event_id)
        .where(OutboxHandler.status == HandlerStatus.PENDING)
        .group_by(OutboxHandler.handler)
        .order_by(OutboxHandler.handler)
    ).all()
    handlers = []
    for handler, pending, oldest, failing in rows:
        last_error = db.scalar(
            select(OutboxHandler.last_error)
            .join(OutboxEvent, OutboxEvent.id == OutboxHandler.event_id)
            .where(OutboxHandler.handler == handler, OutboxHandler.status == HandlerStatus.PENDING,
                   OutboxHandler.last_error.is_not(None))
            .order_by(OutboxEvent.created_at.desc()).limit(1)
        )
        handlers.append(HandlerBacklog(handler, pending, oldest, failing, last_error))
    return OutboxReport(status.pending, status.oldest_pending_at, handlers)


def reconcile(db: Session, *, limit: int = 5000) -> int:
    """Redo work not done now: every pending handler row is made due and relayed at once."""
    db.execute(
        update(OutboxHandler)
        .where(OutboxHandler.status == HandlerStatus.PENDING)
        .values(next_attempt_at=func.now())
    )
    return len(outbox.relay_due(db, limit=limit))
