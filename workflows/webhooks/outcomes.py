"""Outcomes: a batch's attempts written down, and its messages moved on (delivered, retried, failed).

Each message changes only while it still carries the lease its attempt was made under, so a late
outcome cannot undo what a newer lease or a manual retry decided. Failures also keep the endpoint's
record (failing since, failures in a row, backoff), which a delivery clears: ``410 Gone``, or five days
without a success, disables it and tells its owner. A finished batch hands its owner's slot on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import structlog
from sqlalchemy import CTE, DateTime, Integer, Text, Uuid, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from infra.config import Settings
from models import WebhookEndpoint, WebhookMessage, WebhookMessageStatus
from workflows import wording
from workflows.inbox import notify_user
from workflows.webhooks.fanout import kick_owner
from workflows.webhooks.messages import ATTEMPTS, MESSAGES
from workflows.webhooks.retry import endpoint_backoff, retry_delay
from workflows.webhooks.sending import Delivery, Outcome

log = structlog.get_logger(__name__)

ENDPOINT_DISABLED = "webhook.endpoint_disabled"
DISABLED = wording.notice("webhook.endpoint_disabled", "Webhook endpoint disabled",
                          "Deliveries to {url} have stopped: {reason}. Fix it, then re-enable the endpoint.")
DISABLE_AFTER_FAILING_FOR = timedelta(days=5)
# The failure record a delivery clears (a new URL too); the same values for the ORM and for a statement.
CLEAN_RECORD: Mapping[str, Any] = MappingProxyType(
    {"failing_since": None, "consecutive_failures": 0, "backoff_until": None})


def clear_record(endpoint: WebhookEndpoint) -> None:
    for name, value in CLEAN_RECORD.items():
        setattr(endpoint, name, value)


def mark_disabled(endpoint: WebhookEndpoint, reason: str, *, now: datetime) -> None:
    """Stop sending to ``endpoint``; when and why stay on record after it is enabled again."""
    endpoint.enabled = False
    endpoint.disabled_reason = endpoint.last_disabled_reason = reason
    endpoint.last_disabled_at = now


def disable_endpoint(db: Session, endpoint: WebhookEndpoint, reason: str, *, now: datetime) -> None:
    """Stop sending to ``endpoint`` and tell its owner why."""
    mark_disabled(endpoint, reason, now=now)
    notify_user(
        db, endpoint.owner_user_id, type_=ENDPOINT_DISABLED, said=DISABLED,
        words={"url": endpoint.url, "reason": reason},
        data={"endpoint_id": str(endpoint.id), "url": endpoint.url, "reason": reason},
    )
    log.warning("webhooks.endpoint_disabled", endpoint_id=str(endpoint.id), reason=reason)


def _write_outcomes(sent: Sequence[tuple[Delivery, Outcome]]) -> tuple[CTE, CTE]:
    """Statements that write each attempt sent and mark the delivered messages whose lease held.

    The outcomes travel as one array per column, whatever the batch's size; both are CTEs, run by
    whatever statement they are added to.
    """
    results = (
        select(func.unnest(
            literal([d.message_id for d, _ in sent], ARRAY(Text)),
            literal([d.attempt_id for d, _ in sent], ARRAY(Uuid)),
            literal([o.status_code for _, o in sent], ARRAY(Integer)),
            literal([o.duration_ms for _, o in sent], ARRAY(Integer)),
            literal([o.error for _, o in sent], ARRAY(Text)),
            literal([o.response_excerpt for _, o in sent], ARRAY(Text)),
            literal([o.attempted_at for _, o in sent], ARRAY(DateTime(timezone=True))),
        ).table_valued("message_id", "attempt_id", "status_code", "duration_ms", "error", "response_excerpt",
                       "sent_at")
         .render_derived())
        .cte("results")
    )
    columns = ["id", "message_id", "attempted_at", "status_code", "duration_ms", "error", "response_excerpt"]
    written = insert(ATTEMPTS).from_select(columns, select(
        results.c.attempt_id, results.c.message_id, func.coalesce(results.c.sent_at, func.now()),
        results.c.status_code, results.c.duration_ms, results.c.error, results.c.response_excerpt,
    ))
    # An attempt a later lease already recorded as lost gets its real outcome, late.
    recorded = written.on_conflict_do_update(
        index_elements=["id"],
        set_={name: written.excluded[name] for name in ("status_code", "duration_ms", "error", "response_excerpt")},
    ).cte("recorded")
    delivered = (
        update(MESSAGES)
        .where(MESSAGES.c.id == results.c.message_id, MESSAGES.c.status == WebhookMessageStatus.PENDING,
               MESSAGES.c.lease_id == results.c.attempt_id, results.c.status_code.between(200, 299))
        .values(status=WebhookMessageStatus.DELIVERED, delivered_at=func.now(), next_attempt_at=None,
                lease_id=None, lease_rank=None, last_status_code=results.c.status_code)
        .cte("delivered")
    )
    return recorded, delivered


def record_delivered(db: Session, sent: Sequence[tuple[Delivery, Outcome]]) -> None:
    """Record attempts that delivered while their batch goes on, so a batch that dies keeps them.

    No endpoint lock: each message changes only while it still carries this batch's lease.
    """
    if not sent:
        return
    db.execute(select(literal(1)).add_cte(*_write_outcomes(sent)))
    db.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == sent[0][0].endpoint_id,
                                             WebhookEndpoint.consecutive_failures > 0)
               .values(**CLEAN_RECORD))


def record_outcomes(db: Session, deliveries: Sequence[Delivery], outcomes: Sequence[Outcome], *,
                    settings: Settings, recorded: Collection[str] = ()) -> list[WebhookMessageStatus | None]:
    """Close a batch's attempts and move its messages on; each message's status afterwards (``None`` if gone).

    ``outcomes[i]`` is that of ``deliveries[i]``; the deliveries past the last outcome were not sent:
    their messages are due again at once, as if never leased. ``recorded`` names the messages whose
    delivery :func:`record_delivered` has already written: they are not written again.
    """
    if not deliveries:
        return []
    endpoint = db.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.id == deliveries[0].endpoint_id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    )
    if endpoint is None:
        return [None] * len(deliveries)  # the endpoint was deleted meanwhile, and its messages with it
    sent = list(zip(deliveries, outcomes, strict=False))
    # Our lease holds while the message still carries it: a new lease or a manual retry replaces it
    # first (and the endpoint lock taken above keeps both out until this transaction ends).
    prior = (
        select(MESSAGES.c.id, MESSAGES.c.status, MESSAGES.c.lease_id)
        .where(MESSAGES.c.id.in_([d.message_id for d in deliveries]))
        .cte("prior")
    )
    query = select(prior.c.id, prior.c.status, prior.c.lease_id)
    unwritten = [(d, o) for d, o in sent if d.message_id not in recorded]
    if unwritten:
        query = query.add_cte(*_write_outcomes(unwritten))
    before = {row.id: row for row in db.execute(query)}
    held = {d.message_id for d in deliveries
            if d.message_id in before and before[d.message_id].status == WebhookMessageStatus.PENDING
            and before[d.message_id].lease_id == d.attempt_id}
    # Delivered: by this statement, or already by record_delivered as the batch went on.
    statuses = {d.message_id: WebhookMessageStatus.DELIVERED for d, o in sent
                if o.delivered and d.message_id in before
                and (d.message_id in held or before[d.message_id].status == WebhookMessageStatus.DELIVERED)}
    if statuses:
        clear_record(endpoint)
        log.info("webhooks.delivered", endpoint_id=str(endpoint.id), count=len(statuses), message_ids=list(statuses))
    for delivery, outcome in sent:
        if delivery.message_id not in before or delivery.message_id in statuses:
            continue
        if delivery.message_id not in held:
            # The lease expired and another attempt (or a manual retry) took over: it decides the state.
            log.info("webhooks.lease_lost", message_id=delivery.message_id, attempt_id=str(delivery.attempt_id))
            statuses[delivery.message_id] = before[delivery.message_id].status
            continue
        message = db.scalar(select(WebhookMessage).where(WebhookMessage.id == delivery.message_id)
                            .execution_options(populate_existing=True))
        assert message is not None  # its endpoint is locked: it cannot have been deleted
        now: datetime = db.execute(select(func.now())).scalar_one()
        message.lease_id, message.lease_rank, message.last_status_code = None, None, outcome.status_code
        apply_failure(db, endpoint, message, outcome, now=now, settings=settings)
        statuses[delivery.message_id] = message.status
        log.info("webhooks.attempt_failed", message_id=message.id, endpoint_id=str(endpoint.id),
                 attempt=delivery.attempt_number, status_code=outcome.status_code, error=outcome.error,
                 outcome=message.status, duration_ms=outcome.duration_ms)
    unsent = [d.message_id for d in deliveries[len(sent):] if d.message_id in held]
    if unsent:
        db.execute(update(MESSAGES).where(MESSAGES.c.id.in_(unsent))
                   .values(lease_id=None, lease_rank=None, attempts=MESSAGES.c.attempts - 1,
                           next_attempt_at=func.now()))
    kick_owner(db, endpoint.owner_user_id, settings=settings)
    return [statuses.get(d.message_id, before[d.message_id].status if d.message_id in before else None)
            for d in deliveries]


def apply_failure(db: Session, endpoint: WebhookEndpoint, message: WebhookMessage, outcome: Outcome, *,
                  now: datetime, settings: Settings) -> None:
    """A failed attempt of a leased ``message``: its retry time, or ``failed``; the endpoint's record with it.

    The endpoint backs off too, by the number of its failures in a row (:func:`endpoint_backoff`): a
    receiver that keeps timing out holds a worker slot once per step of the schedule, not once per message.
    ``410 Gone``, or five days of failures since the last success, disables it and tells its owner.
    """
    endpoint.consecutive_failures += 1
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    pause = endpoint_backoff(endpoint.consecutive_failures, settings.webhook_retry_schedule, outcome.retry_after)
    endpoint.backoff_until = None if pause is None else now + pause
    if outcome.status_code == 410:  # noqa: PLR2004 - HTTP 410 Gone
        message.status, message.next_attempt_at = WebhookMessageStatus.FAILED, None
        if endpoint.enabled:
            disable_endpoint(db, endpoint, "the endpoint answered 410 Gone", now=now)
        return
    delay = retry_delay(message.attempts, settings.webhook_retry_schedule, outcome.retry_after)
    if delay is None:
        message.status, message.next_attempt_at = WebhookMessageStatus.FAILED, None
    else:
        message.next_attempt_at = now + delay
    if endpoint.enabled and now - endpoint.failing_since >= DISABLE_AFTER_FAILING_FOR:
        disable_endpoint(db, endpoint, f"every delivery has failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC",
                         now=now)
