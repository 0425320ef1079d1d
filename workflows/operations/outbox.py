"""Operator views and repairs: outbox status, reconciliation, webhook recovery."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import HandlerStatus, OutboxHandler, WebhookEndpoint, WebhookMessage, WebhookMessageStatus
from outbox import relay
from workflows.errors import Conflict, NotFound
from workflows.pagination import Page, paginate
from workflows.webhooks.fanout import kick_owner

log = structlog.get_logger(__name__)


def outbox_report(db: Session) -> relay.OutboxStatus:
    """Work not done, per handler with any: how much, since when, how much failed, and the latest error (one query,
    ``outbox.relay.outbox_status``, which ``/metrics`` reads too)."""
    status = relay.outbox_status(db)
    return dataclasses.replace(status, handlers=[backlog for backlog in status.handlers if backlog.pending])


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
        raise Conflict("this endpoint is disabled; enable it before recovering its messages",
                       reason="endpoint_disabled")
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


def troubled_endpoints(db: Session, *, limit: int, cursor: str | None) -> Page[WebhookEndpoint]:
    """Webhook endpoints failing now or disabled, newest first: where the failed deliveries come from."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.failing_since.is_not(None) | ~WebhookEndpoint.enabled)
    return paginate(db, query, WebhookEndpoint.created_at, WebhookEndpoint.id, limit=limit, cursor=cursor,
                    descending=True)
