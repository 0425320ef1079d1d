"""Leases: how a ``deliver`` task takes one endpoint's due messages for itself, and the time it may take.

A lease moves each message's ``next_attempt_at`` past the end of any batch (:func:`lease_duration`)
and gives it a ``lease_id``, the id its attempt is recorded under. A live lease marks the endpoint
busy, so at most one batch is in flight per endpoint; the endpoint row lock makes that check and the
new lease one step. Live leases also count against the owner's slots (``WEBHOOK_MAX_INFLIGHT_PER_OWNER``),
checked under the owner's row lock; a lease that runs out stops counting, so a dead worker holds a slot
for :func:`lease_duration` at most. Leases a dead worker left behind are settled by the endpoint's next lease.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Insert, Select, Text, Uuid, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.config import Settings
from models import OutboxEvent, User, WebhookEndpoint, WebhookMessage, WebhookMessageStatus
from workflows.webhooks.messages import ATTEMPTS, MESSAGES, due_now, endpoint_busy, owner_batches_in_flight
from workflows.webhooks.outcomes import apply_failure
from workflows.webhooks.sending import BATCH_SECONDS, Delivery, Outcome, envelope

log = structlog.get_logger(__name__)

BATCH_SIZE = 500  # messages one ``deliver`` leases from its endpoint
# An attempt ends within the timeout (see infra.http_client), and the target is resolved once per batch
# before it; the task's time limits and the lease follow from that bound.
_DNS_ALLOWANCE_SECONDS = 10
_LEASE_MARGIN_SECONDS = 10
_LOST_ATTEMPT = "no outcome recorded: the worker stopped before saving it"


def attempt_budget(settings: Settings) -> int:
    """Seconds one attempt may take at most."""
    return math.ceil(settings.webhook_timeout_seconds) + _DNS_ALLOWANCE_SECONDS


def task_soft_time_limit(settings: Settings) -> int:
    """The deliver task's soft limit: the last attempt of a batch starts before ``BATCH_SECONDS``."""
    return BATCH_SECONDS + attempt_budget(settings)


def task_time_limit(settings: Settings) -> int:
    """The deliver task's hard limit: the pool kills the process after it, so no attempt outlives its lease."""
    return task_soft_time_limit(settings) + _LEASE_MARGIN_SECONDS


def lease_duration(settings: Settings) -> timedelta:
    """How long a leased message is left alone: longer than any batch can run."""
    return timedelta(seconds=task_time_limit(settings) + _LEASE_MARGIN_SECONDS)


def _record_lost(leases: Select[tuple[uuid.UUID, str]]) -> Insert:
    """Leases (lease id, message id) a dead worker left behind, as attempts that never got an outcome, once each."""
    lost = leases.add_columns(literal(0), literal(_LOST_ATTEMPT))
    return (insert(ATTEMPTS).from_select(["id", "message_id", "duration_ms", "error"], lost)
            .on_conflict_do_nothing(index_elements=["id"]))


def close_lost_attempts(db: Session, message_id: str) -> None:
    """A lease a dead worker left on ``message_id``: recorded as a lost attempt, and the message freed of it."""
    db.execute(_record_lost(select(MESSAGES.c.lease_id, MESSAGES.c.id)
                            .where(MESSAGES.c.id == message_id, MESSAGES.c.lease_id.is_not(None))))
    db.execute(update(MESSAGES).where(MESSAGES.c.id == message_id).values(lease_id=None, lease_rank=None))


def settle_dead_batch(db: Session, endpoint: WebhookEndpoint, *, settings: Settings) -> None:
    """Close the batch a dead worker left on ``endpoint`` (its leases have run out); the endpoint row is locked.

    Outcomes the batch got were recorded as they came, so what still holds a lease had none: the first
    of those in the batch's order was in flight when the worker died (killed, or out of time), and counts
    as a failed attempt, with the retry schedule, the endpoint's failure record and backoff, and the five-day
    disable as for any other failure; the ones after it were never sent and are due again once the endpoint's
    backoff ends, their attempt not spent.
    """
    dead = db.execute(
        select(MESSAGES.c.id, MESSAGES.c.lease_id)
        .where(MESSAGES.c.endpoint_id == endpoint.id, MESSAGES.c.status == WebhookMessageStatus.PENDING,
               MESSAGES.c.lease_id.is_not(None), MESSAGES.c.next_attempt_at <= func.statement_timestamp())
        .order_by(MESSAGES.c.lease_rank.nulls_first(), MESSAGES.c.created_at)
        .with_for_update()
    ).all()
    if not dead:
        return
    in_flight, unsent = dead[0], [row.id for row in dead[1:]]
    db.execute(_record_lost(select(literal(in_flight.lease_id, Uuid), literal(in_flight.id, Text))))
    message = db.scalar(select(WebhookMessage).where(WebhookMessage.id == in_flight.id)
                        .execution_options(populate_existing=True))
    assert message is not None  # locked above
    now: datetime = db.execute(select(func.now())).scalar_one()
    message.lease_id, message.lease_rank, message.last_status_code = None, None, None
    apply_failure(db, endpoint, message, Outcome(None, 0, error=_LOST_ATTEMPT), now=now, settings=settings)
    if unsent:
        db.execute(update(MESSAGES).where(MESSAGES.c.id.in_(unsent))
                   .values(lease_id=None, lease_rank=None, attempts=MESSAGES.c.attempts - 1,
                           next_attempt_at=func.now()))
    db.flush()
    log.warning("webhooks.dead_batch_settled", endpoint_id=str(endpoint.id), message_id=message.id,
                outcome=message.status, unsent=len(unsent))


def lease_batch(db: Session, message_id: str, *, settings: Settings, limit: int = BATCH_SIZE) -> list[Delivery]:
    """Lease ``message_id`` and its endpoint's oldest other due messages, up to ``limit``, in the order to send them.

    Nothing when ``message_id`` is not due (delivered, failed, leased, or waiting for its retry time), its
    endpoint is disabled, busy with another batch or backing off, or its owner has
    ``WEBHOOK_MAX_INFLIGHT_PER_OWNER`` batches in flight already. A batch a dead worker left is settled first.
    """
    found = db.execute(
        select(WebhookMessage.endpoint_id, WebhookEndpoint.owner_user_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookMessage.endpoint_id)
        .where(WebhookMessage.id == message_id, due_now())
    ).first()
    if found is None:
        return []
    # The owner's row lock serialises the leases of its endpoints, whichever processes take them: counting its
    # batches in flight and adding one is one step (FOR NO KEY UPDATE: references to the user still go on).
    db.execute(select(User.id).where(User.id == found.owner_user_id).with_for_update(key_share=True))
    # The endpoint row lock serialises leases and outcomes of one endpoint: the busy check cannot race.
    row = db.execute(
        select(WebhookEndpoint, func.statement_timestamp())
        .where(WebhookEndpoint.id == found.endpoint_id, WebhookEndpoint.enabled)
        .with_for_update(of=WebhookEndpoint, key_share=True).execution_options(populate_existing=True)
    ).first()
    if row is None:
        return []
    endpoint, now = row
    if db.scalar(select(endpoint_busy(endpoint.id))):
        log.info("webhooks.endpoint_busy", message_id=message_id, endpoint_id=str(endpoint.id))
        return []
    settle_dead_batch(db, endpoint, settings=settings)
    if endpoint.backoff_until is not None and endpoint.backoff_until > now:
        log.info("webhooks.endpoint_backing_off", message_id=message_id, endpoint_id=str(endpoint.id),
                 until=endpoint.backoff_until.isoformat())
        return []
    in_flight: int = db.execute(select(owner_batches_in_flight(endpoint.owner_user_id))).scalar_one()
    if in_flight >= settings.webhook_max_inflight_per_owner:
        log.info("webhooks.owner_slots_taken", message_id=message_id, endpoint_id=str(endpoint.id),
                 owner_user_id=str(endpoint.owner_user_id))
        return []
    due = (
        select(MESSAGES.c.id, MESSAGES.c.next_attempt_at, MESSAGES.c.created_at,
               OutboxEvent.created_at.label("occurred_at"))
        .outerjoin(OutboxEvent, OutboxEvent.id == MESSAGES.c.event_id)
        .where(MESSAGES.c.endpoint_id == endpoint.id, due_now())
        .order_by((MESSAGES.c.id == message_id).desc(), MESSAGES.c.next_attempt_at, MESSAGES.c.created_at)
        .limit(limit)
        .with_for_update(of=MESSAGES, skip_locked=True)
        .cte("due")
    )
    # The order to send them in; a window function cannot share a statement level with FOR UPDATE.
    ranked = select(due, func.row_number().over(order_by=(due.c.next_attempt_at, due.c.created_at))
                    .label("rank")).cte("ranked")
    leased = (
        update(MESSAGES)
        .where(MESSAGES.c.id == ranked.c.id)
        .values(next_attempt_at=func.now() + lease_duration(settings), attempts=MESSAGES.c.attempts + 1,
                lease_id=func.gen_random_uuid(), lease_rank=ranked.c.rank)
        .returning(MESSAGES.c.id, MESSAGES.c.attempts, MESSAGES.c.event_type, MESSAGES.c.payload,
                   MESSAGES.c.lease_id, MESSAGES.c.lease_rank,
                   func.coalesce(ranked.c.occurred_at, ranked.c.created_at).label("occurred_at"))
        .cte("leased")
    )
    rows = db.execute(
        select(leased.c.id, leased.c.attempts, leased.c.event_type, leased.c.payload, leased.c.occurred_at,
               leased.c.lease_id, func.now().label("now"))
        .order_by(leased.c.lease_rank)
    ).all()
    previous = None
    expires = endpoint.previous_secret_expires_at
    if rows and endpoint.previous_secret and expires is not None and expires > rows[0].now:
        previous = endpoint.previous_secret
    return [
        Delivery(message_id=row.id, attempt_id=row.lease_id, attempt_number=row.attempts, endpoint_id=endpoint.id,
                 url=endpoint.url, secret=endpoint.secret, body=envelope(row.event_type, row.occurred_at, row.payload),
                 previous_secret=previous)
        for row in rows
    ]
