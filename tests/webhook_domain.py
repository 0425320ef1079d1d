"""The webhook domain driven by hand, in the test's transaction: endpoints and messages made through the
domain, a lease and an outcome one message at a time, and time passing for leases and backoffs.

Inside one test transaction ``now()`` stands still, so "time passes" is written as moving
``next_attempt_at`` or ``backoff_until`` into the past.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from infra.config import Settings, get_settings
from models import OutboxEvent, WebhookEndpoint, WebhookMessage, WebhookMessageStatus
from outbox import record_events
from outbox.recording import TaskCall, pending_dispatches
from tests.factories.accounts import UserFactory
from workflows.actors import Actor
from workflows.webhooks import endpoints, leases, messages, outcomes
from workflows.webhooks.sending import Delivery, Outcome


def lease_message(db: Session, message_id: str, *, settings: Settings) -> Delivery | None:
    """Lease ``message_id`` alone; ``None`` when it is not due or its endpoint is disabled or busy."""
    leased = leases.lease_batch(db, message_id, settings=settings, limit=1)
    return leased[0] if leased else None


def record_outcome(db: Session, delivery: Delivery, outcome: Outcome, *, settings: Settings
                   ) -> WebhookMessageStatus | None:
    """Close one attempt and move its message on; returns the message's status (``None`` if it is gone)."""
    return outcomes.record_outcomes(db, [delivery], [outcome], settings=settings)[0]


def settings(**changes: Any) -> Settings:
    return dataclasses.replace(get_settings(), **changes)


def make_endpoint(db: Session, owner: Any = None, **fields: Any) -> WebhookEndpoint:
    user = owner or UserFactory()
    return endpoints.create_endpoint(db, Actor(user.id), url="https://hooks.example.com/in", **fields)


def make_message(db: Session, endpoint: WebhookEndpoint, *, due_in: timedelta = timedelta(0)) -> WebhookMessage:
    message = WebhookMessage(id=messages.new_message_id(), endpoint_id=endpoint.id,
                             event_type="booking.accepted", payload={"id": str(uuid.uuid4())},
                             next_attempt_at=db_now(db) + due_in)
    db.add(message)
    db.flush()
    return message


def db_now(db: Session) -> datetime:
    now: datetime = db.execute(select(func.now())).scalar_one()
    return now


def delivered_task_args(db: Session) -> list[str]:
    """Message ids whose ``webhooks.deliver`` this session would send after commit."""
    return [call.args[0] for call in pending_dispatches(db)
            if isinstance(call, TaskCall) and call.task == messages.DELIVER_TASK]


def event(db: Session, event_type: str, payload: dict[str, Any]) -> OutboxEvent:
    [recorded] = record_events(db, event_type, [(uuid.uuid4(), payload)], actor=None)
    db.flush()
    return recorded


def lease(db: Session, message: WebhookMessage, config: Settings | None = None) -> Delivery | None:
    return lease_message(db, message.id, settings=config or get_settings())


def expire_leases(db: Session, *messages: WebhookMessage) -> None:
    """The worker holding these leases died; their time runs out."""
    db.execute(update(WebhookMessage).where(WebhookMessage.id.in_([m.id for m in messages]))
               .values(next_attempt_at=func.now() - timedelta(seconds=1)))


def end_backoff(db: Session, *endpoints: WebhookEndpoint) -> None:
    """The endpoints' backoff after their failures runs out."""
    db.execute(update(WebhookEndpoint).where(WebhookEndpoint.id.in_([e.id for e in endpoints]))
               .values(backoff_until=func.now() - timedelta(seconds=1)))
