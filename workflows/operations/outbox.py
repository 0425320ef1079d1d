"""Operator views and repairs: outbox status, reconciliation, webhook recovery."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import HandlerStatus, OutboxEvent, OutboxHandler, WebhookEndpoint, WebhookMessage, WebhookMessageStatus
from outbox import relay
from workflows.errors import Conflict, NotFound
from workflows.pagination import Page, paginate
from workflows.webhooks.fanout import kick_owner

log = structlog.get_logger(__name__)


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
    status = relay.outbox_status(db)
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
        .values(next_attempt_at=func.now(), backoff_until=None)
    )
    return len(relay.relay_due(db, limit=limit))


def recover_failed_messages(db: Session, endpoint_id: uuid.UUID, *, since: datetime,
                            until: datetime | None = None) -> int:
    """Send an endpoint's failed messages of a time window again (as Svix's *recover* does).

    Each keeps its ``webhook-id`` and starts a fresh retry schedule, at once even while the endpoint
    backs off. A disabled endpoint must be enabled by its owner first.
    """
    endpoint = db.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if endpoint is None:
        raise NotFound("webhook endpoint not found")
    if not endpoint.enabled:
        raise Conflict("this endpoint is disabled; enable it before recovering its messages")
    window = [WebhookMessage.endpoint_id == endpoint.id, WebhookMessage.status == WebhookMessageStatus.FAILED,
              WebhookMessage.created_at >= since]
    if until is not None:
        window.append(WebhookMessage.created_at < until)
    recovered = db.scalars(
        update(WebhookMessage).where(*window)
        .values(status=WebhookMessageStatus.PENDING, attempts=0, next_attempt_at=func.now(), delivered_at=None)
        .returning(WebhookMessage.id)
    ).all()
    if recovered:
        endpoint.backoff_until = None  # sent now, as a manual retry is
        kick_owner(db, endpoint.owner_user_id, settings=get_settings())
    log.info("webhooks.recovered", endpoint_id=str(endpoint.id), count=len(recovered))
    return len(recovered)


def failed_deliveries(db: Session, *, endpoint_id: uuid.UUID | None, limit: int, cursor: str | None
                      ) -> Page[WebhookMessage]:
    query = select(WebhookMessage).where(WebhookMessage.status == WebhookMessageStatus.FAILED)
    if endpoint_id is not None:
        query = query.where(WebhookMessage.endpoint_id == endpoint_id)
    return paginate(db, query, WebhookMessage.created_at, WebhookMessage.id, limit=limit, cursor=cursor,
                    descending=True)
