"""Webhook delivery: fan-out, leases, signed attempts, retries, and isolation between endpoints.

**Fan-out.** The ``webhooks.fan_out`` handler writes one ``WebhookMessage`` per
enabled endpoint that subscribes to the event type and may see the event (its
owner takes part, or is an admin), with ``INSERT … SELECT … ON CONFLICT
(endpoint_id, event_id) DO NOTHING``: an event handled twice yields one message
per endpoint. Each new message's ``webhooks.deliver`` is sent after commit. The
message id (``msg_…``) is the ``webhook-id`` header, stable across retries.

**One attempt = three steps.** (1) A short transaction takes a *lease*: the
message must be pending and due; its ``next_attempt_at`` moves to now + the
lease (longer than an attempt can take, see :func:`lease_duration`) and an
*open* ``WebhookAttempt`` row (no status, no error) is written. (2) The HTTP
POST runs outside any transaction. (3) A second transaction closes the attempt
and applies the outcome — delivered, retry at a time, failed, endpoint disabled
— unless the lease was lost meanwhile: the lease belongs to the open attempt,
and a newer lease or a manual retry closes it first; a late outcome is then
only recorded on its attempt. A worker killed between (1) and (3) leaves a
lease that simply expires: the message becomes due again,
``webhooks.dispatch_due`` resends it, and the next lease closes the dead
attempt with an error. Same message, same ``webhook-id``. The task's hard time
limit is shorter than the lease, so no attempt outlives its lease.

**Long waits live in the database.** Retries are a ``next_attempt_at``, never a
broker countdown. ``webhooks.dispatch_due`` (beat, every 5 s) sends
``webhooks.deliver`` for due messages it locks with ``FOR UPDATE SKIP LOCKED``;
it changes nothing itself, so two copies running at once, or a copy repeated,
at worst send a redundant ``deliver`` that finds no due message and returns.

**Isolation.** At most ``MAX_IN_FLIGHT_PER_ENDPOINT`` (1) attempts are in
flight per endpoint: an open attempt younger than its lease marks the endpoint
busy, and the lease transaction locks the endpoint row, so the check and the
new lease cannot race. A ``deliver`` for a busy endpoint returns at once,
leaving its message due; when the busy attempt finishes, its outcome
transaction sends ``deliver`` for the endpoint's next due message (and
``dispatch_due`` picks up anything missed). So an endpoint that hangs until the
timeout holds at most one worker slot, however many messages it has, and the
other slots keep delivering to everyone else. With the default single worker
(``--concurrency 2``) one hanging endpoint leaves a slot free; run the
``webhooks`` queue on a worker with more slots (``-Q webhooks -c 8``) to ride
out several at once. One in flight also keeps each endpoint's deliveries in
order while it is healthy.

**Retries.** Non-2xx (3xx included: redirects are not followed), timeouts,
connection errors and refused targets are failures, retried after
``WEBHOOK_RETRY_SCHEDULE`` (±20 % jitter, never sooner than a ``Retry-After``,
itself capped at the longest step); after the last step the message is
``failed``. 410 Gone fails the message and disables the endpoint. An endpoint
failing without a success for five days (``failing_since``) is disabled and its
owner notified. A disabled endpoint's pending messages wait; re-enabling it
resumes them.
"""

from __future__ import annotations

import email.utils
import json
import math
import os
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from models import MentorProfile, OutboxEvent, User, WebhookAttempt, WebhookEndpoint, WebhookMessage
from workflows import webhook_targets
from workflows.config import Settings
from workflows.notifications import notify_user
from workflows.outbox import enqueue_after_commit

log = structlog.get_logger(__name__)

DELIVER_TASK = "webhooks.deliver"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATUSES = (PENDING, DELIVERED, FAILED)
ALL_EVENTS = "*"
TEST_EVENT = "webhook.test"
ENDPOINT_DISABLED = "webhook.endpoint_disabled"

MAX_IN_FLIGHT_PER_ENDPOINT = 1
DISABLE_AFTER_FAILING_FOR = timedelta(days=5)
JITTER = 0.2
RESPONSE_EXCERPT_BYTES = 1024
USER_AGENT = "mentorship-webhooks/1.0"
# An attempt has four phases each bounded by the timeout (connect, write, first byte, excerpt)
# plus DNS resolution; the task's time limits and the lease follow from that bound.
_HTTP_PHASES = 4
_DNS_ALLOWANCE_SECONDS = 10
_LEASE_MARGIN_SECONDS = 10
_LOST_ATTEMPT = "no outcome recorded: the worker stopped during the attempt"
_JITTER_RNG = random.Random()  # noqa: S311 - spreads retries out; nothing secret depends on it


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


# -- time limits -------------------------------------------------------------------------------------------


def attempt_budget(settings: Settings) -> int:
    """Seconds one attempt may take at most (the deliver task's soft time limit)."""
    return math.ceil(settings.webhook_timeout_seconds * _HTTP_PHASES) + _DNS_ALLOWANCE_SECONDS


def task_time_limit(settings: Settings) -> int:
    """The deliver task's hard limit: the pool kills the process after it, so no attempt outlives it."""
    return attempt_budget(settings) + _LEASE_MARGIN_SECONDS


def lease_duration(settings: Settings) -> timedelta:
    """How long a leased message is left alone: longer than any attempt can run."""
    return timedelta(seconds=task_time_limit(settings) + _LEASE_MARGIN_SECONDS)


# -- fan-out -----------------------------------------------------------------------------------------------


def participant_ids(payload: dict[str, Any]) -> tuple[uuid.UUID | None, list[uuid.UUID]]:
    """The mentor profile and the mentees an event's resource concerns (``mentee_user_ids`` for groups)."""
    mentor = payload.get("mentor_profile_id")
    mentees = list(payload.get("mentee_user_ids") or [])
    if payload.get("mentee_user_id"):
        mentees.append(payload["mentee_user_id"])
    return (uuid.UUID(mentor) if mentor else None), [uuid.UUID(str(m)) for m in mentees]


def subscribed_to(event_type: str) -> ColumnElement[bool]:
    return or_(WebhookEndpoint.event_types.contains([ALL_EVENTS]), WebhookEndpoint.event_types.contains([event_type]))


def fan_out(db: Session, event: OutboxEvent) -> list[str]:
    """One message per enabled, subscribed endpoint allowed to see ``event``; deliveries sent after commit."""
    mentor_profile_id, mentees = participant_ids(event.payload)
    mentor_user = select(MentorProfile.user_id).where(MentorProfile.id == mentor_profile_id).scalar_subquery()
    owner = WebhookEndpoint.owner_user_id
    visible = or_(User.is_admin, owner.in_(mentees), owner == mentor_user)
    targets = (
        select(
            literal("msg_") + func.replace(func.gen_random_uuid().cast(WebhookMessage.id.type), "-", ""),
            WebhookEndpoint.id,
            literal(event.id),
            literal(event.type),
            literal(event.payload, WebhookMessage.payload.type),
            func.now(),
        )
        .join(User, User.id == WebhookEndpoint.owner_user_id)
        .where(WebhookEndpoint.enabled, subscribed_to(event.type), visible)
    )
    columns = ["id", "endpoint_id", "event_id", "event_type", "payload", "next_attempt_at"]
    created = list(db.scalars(
        insert(WebhookMessage).from_select(columns, targets)
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        .returning(WebhookMessage.id)
    ))
    for message_id in created:
        enqueue_after_commit(db, DELIVER_TASK, message_id)
    log.info("webhooks.fanned_out", event_id=str(event.id), event_type=event.type, messages=len(created))
    return created


def handle_event(db: Session, event: OutboxEvent) -> None:
    """The ``webhooks.fan_out`` outbox handler."""
    fan_out(db, event)


# -- leases ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """Everything one attempt needs, taken under a lease, so the request runs outside any transaction."""

    message_id: str
    attempt_id: uuid.UUID
    attempt_number: int
    endpoint_id: uuid.UUID
    url: str
    secret: str
    body: str


def envelope(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> str:
    """The request body: ``{"type", "timestamp", "data"}``, serialised once and signed as is."""
    timestamp = occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": data}, separators=(",", ":"))


def _attempts_in_flight() -> Select[int]:
    """Attempts without an outcome yet whose message is still under its lease."""
    return (
        select(func.count())
        .select_from(WebhookAttempt)
        .join(WebhookMessage, WebhookMessage.id == WebhookAttempt.message_id)
        .where(
            WebhookMessage.status == PENDING,
            WebhookMessage.next_attempt_at > func.now(),
            WebhookAttempt.status_code.is_(None),
            WebhookAttempt.error.is_(None),
        )
    )


def open_attempts(endpoint_id: Any) -> ColumnElement[int]:
    """How many attempts are in flight for ``endpoint_id`` (the endpoint's busy marker)."""
    return _attempts_in_flight().where(WebhookMessage.endpoint_id == endpoint_id).scalar_subquery()


def message_in_flight(db: Session, message_id: str) -> bool:
    return bool(db.scalar(_attempts_in_flight().where(WebhookMessage.id == message_id)))


def close_lost_attempts(db: Session, message_id: str) -> None:
    """Attempts left open by a worker that died: they will never get an outcome."""
    db.execute(
        update(WebhookAttempt)
        .where(WebhookAttempt.message_id == message_id, WebhookAttempt.status_code.is_(None),
               WebhookAttempt.error.is_(None))
        .values(error=_LOST_ATTEMPT)
    )


def lease_message(db: Session, message_id: str, *, settings: Settings) -> Delivery | None:
    """Take the lease of a due message whose endpoint is enabled and not busy; ``None`` otherwise."""
    endpoint_id = db.scalar(
        select(WebhookMessage.endpoint_id)
        .where(WebhookMessage.id == message_id, WebhookMessage.status == PENDING,
               WebhookMessage.next_attempt_at <= func.now())
    )
    if endpoint_id is None:
        return None
    # The endpoint row lock serialises leases and outcomes of one endpoint: the busy check cannot race.
    endpoint = db.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    )
    if endpoint is None:
        return None
    if (db.scalar(select(open_attempts(endpoint.id))) or 0) >= MAX_IN_FLIGHT_PER_ENDPOINT:
        log.info("webhooks.endpoint_busy", message_id=message_id, endpoint_id=str(endpoint.id))
        return None
    leased = db.execute(
        update(WebhookMessage)
        .where(WebhookMessage.id == message_id, WebhookMessage.status == PENDING,
               WebhookMessage.next_attempt_at <= func.now())
        .values(next_attempt_at=func.now() + lease_duration(settings), attempts=WebhookMessage.attempts + 1)
        .returning(WebhookMessage.attempts, WebhookMessage.event_type, WebhookMessage.payload,
                   WebhookMessage.created_at, WebhookMessage.event_id)
    ).one_or_none()
    if leased is None:
        return None
    attempts, event_type, payload, created_at, event_id = leased
    close_lost_attempts(db, message_id)
    attempt = WebhookAttempt(id=uuid.uuid4(), message_id=message_id, duration_ms=0)
    db.add(attempt)
    occurred_at = (db.scalar(select(OutboxEvent.created_at).where(OutboxEvent.id == event_id))
                   if event_id else None) or created_at
    db.flush()
    return Delivery(
        message_id=message_id, attempt_id=attempt.id, attempt_number=attempts, endpoint_id=endpoint.id,
        url=endpoint.url, secret=endpoint.secret, body=envelope(event_type, occurred_at, payload),
    )


# -- the request -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str | None = None
    retry_after: timedelta | None = None
    response_excerpt: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300  # noqa: PLR2004 - the 2xx range


def signed_headers(delivery: Delivery, sent_at: datetime) -> dict[str, str]:
    """Standard Webhooks headers: a receiver using the ``standardwebhooks`` package verifies them unchanged."""
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(delivery.secret).sign(delivery.message_id, sent_at, delivery.body),
    }


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date; ``None`` when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=min(int(value), 10**8))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


def _text(value: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL, and a receiver's answer may contain anything.
    return value.replace("\x00", "\ufffd")[:limit]


def _describe(exc: Exception, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout:g} s ({type(exc).__name__})"
    return _text(f"{type(exc).__name__}: {exc}", 1000)


_CLIENTS: dict[tuple[int, float], httpx.Client] = {}


def _client(timeout: float) -> httpx.Client:
    """One client per process (and timeout): its TLS context, the costly part, is built once, not per attempt.

    It keeps no idle connection: every attempt connects anew to the address
    ``pin_target`` has just checked, with that attempt's host as TLS server name.
    """
    key = (os.getpid(), timeout)
    client = _CLIENTS.get(key)
    if client is None:
        client = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False,
                              limits=httpx.Limits(max_keepalive_connections=0))
        _CLIENTS[key] = client
    return client


def send(delivery: Delivery, *, settings: Settings) -> Outcome:
    """Make one attempt: check the target again, POST the signed body to the checked address, no redirects."""
    began = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - began) * 1000)

    try:
        target = webhook_targets.pin_target(delivery.url, allow_private=settings.webhook_allow_private_targets)
    except webhook_targets.TargetRefused as exc:
        return Outcome(None, elapsed_ms(), error=f"target refused, nothing sent: {exc.message}")
    sent_at = datetime.now(UTC)
    headers = {**signed_headers(delivery, sent_at), **target.headers}
    timeout = settings.webhook_timeout_seconds
    try:
        with _client(timeout).stream("POST", target.url, content=delivery.body.encode(), headers=headers,
                                     extensions=target.extensions) as response:
            excerpt = b""
            for chunk in response.iter_raw():
                excerpt += chunk
                if len(excerpt) >= RESPONSE_EXCERPT_BYTES:
                    break
    except (httpx.HTTPError, OSError) as exc:
        return Outcome(None, elapsed_ms(), error=_describe(exc, timeout))
    code = response.status_code
    error = None
    if response.is_redirect:
        error = _text(f"HTTP {code}: redirects are not followed (to {response.headers.get('location', '?')})", 1000)
    elif not 200 <= code < 300:  # noqa: PLR2004 - the 2xx range
        error = f"HTTP {code}"
    return Outcome(
        code, elapsed_ms(), error=error,
        retry_after=parse_retry_after(response.headers.get("retry-after"), sent_at),
        response_excerpt=_text(excerpt[:RESPONSE_EXCERPT_BYTES].decode("utf-8", "replace"), RESPONSE_EXCERPT_BYTES)
        or None,
    )


# -- outcomes ----------------------------------------------------------------------------------------------


def retry_delay(
    attempt_number: int, schedule: tuple[timedelta, ...], retry_after: timedelta | None = None,
    *, rng: random.Random | None = None,
) -> timedelta | None:
    """When to try again after failed attempt ``attempt_number`` (1-based); ``None`` when the schedule is spent."""
    if attempt_number > len(schedule):
        return None
    jitter = (rng or _JITTER_RNG).uniform(1 - JITTER, 1 + JITTER)
    delay = schedule[attempt_number - 1] * jitter
    if retry_after is not None:
        delay = max(delay, min(retry_after, max(schedule)))
    return delay


def disable_endpoint(db: Session, endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop sending to ``endpoint`` and tell its owner why."""
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    notify_user(
        db, endpoint.owner_user_id, type_=ENDPOINT_DISABLED, title="Webhook endpoint disabled",
        body=f"Deliveries to {endpoint.url} have stopped: {reason}. Fix it, then re-enable the endpoint.",
        data={"endpoint_id": str(endpoint.id), "url": endpoint.url, "reason": reason},
    )
    log.warning("webhooks.endpoint_disabled", endpoint_id=str(endpoint.id), reason=reason)


def record_outcome(db: Session, delivery: Delivery, outcome: Outcome, *, settings: Settings) -> str | None:
    """Close the attempt and move the message on; returns the message's status (``None`` if it is gone)."""
    endpoint = db.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.id == delivery.endpoint_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    message = db.scalar(select(WebhookMessage).where(WebhookMessage.id == delivery.message_id).with_for_update()
                        .execution_options(populate_existing=True))
    attempt = db.scalar(select(WebhookAttempt).where(WebhookAttempt.id == delivery.attempt_id)
                        .execution_options(populate_existing=True))
    if endpoint is None or message is None or attempt is None:
        return None  # the endpoint was deleted meanwhile
    # Our lease holds while our attempt is still open: a new lease or a manual retry closes it first.
    lease_held = message.status == PENDING and attempt.status_code is None and attempt.error is None
    attempt.status_code = outcome.status_code
    attempt.duration_ms = outcome.duration_ms
    attempt.error = outcome.error
    attempt.response_excerpt = outcome.response_excerpt
    if not lease_held:
        # The lease expired and another attempt (or a manual retry) took over: it decides the state.
        log.info("webhooks.lease_lost", message_id=message.id, attempt_id=str(attempt.id))
        return message.status
    now: datetime = db.execute(select(func.now())).scalar_one()
    message.last_status_code = outcome.status_code
    if outcome.delivered:
        message.status, message.delivered_at, message.next_attempt_at = DELIVERED, now, None
        endpoint.failing_since = None
    else:
        _apply_failure(db, endpoint, message, outcome, now=now, settings=settings)
    log.info("webhooks.attempted", message_id=message.id, endpoint_id=str(endpoint.id), attempt=message.attempts,
             status_code=outcome.status_code, error=outcome.error, outcome=message.status,
             duration_ms=outcome.duration_ms)
    if endpoint.enabled:
        kick_endpoint(db, endpoint.id)
    return message.status


def _apply_failure(db: Session, endpoint: WebhookEndpoint, message: WebhookMessage, outcome: Outcome, *,
                   now: datetime, settings: Settings) -> None:
    if outcome.status_code == 410:  # noqa: PLR2004 - HTTP 410 Gone
        message.status, message.next_attempt_at = FAILED, None
        if endpoint.enabled:
            disable_endpoint(db, endpoint, "the endpoint answered 410 Gone")
        return
    delay = retry_delay(message.attempts, settings.webhook_retry_schedule, outcome.retry_after)
    if delay is None:
        message.status, message.next_attempt_at = FAILED, None
    else:
        message.next_attempt_at = now + delay
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    elif endpoint.enabled and now - endpoint.failing_since >= DISABLE_AFTER_FAILING_FOR:
        disable_endpoint(db, endpoint, f"every delivery has failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC")


def kick_endpoint(db: Session, endpoint_id: uuid.UUID) -> None:
    """Send ``deliver`` for the endpoint's next due messages, up to its free in-flight slots, after commit."""
    due = db.scalars(
        select(WebhookMessage.id)
        .where(WebhookMessage.endpoint_id == endpoint_id, WebhookMessage.status == PENDING,
               WebhookMessage.next_attempt_at <= func.now())
        .order_by(WebhookMessage.next_attempt_at, WebhookMessage.created_at)
        .limit(MAX_IN_FLIGHT_PER_ENDPOINT)
    )
    for message_id in due:
        enqueue_after_commit(db, DELIVER_TASK, message_id)


# -- the periodic dispatcher -------------------------------------------------------------------------------


def dispatch_due(db: Session, *, limit: int = 500) -> list[str]:
    """Send ``deliver`` for due messages: the oldest of each enabled endpoint that has a free slot.

    Retries and messages whose first ``deliver`` was lost (broker down, worker killed, lease expired)
    all come back this way. Rows being leased right now are skipped, not waited for.
    """
    ranked = (
        select(
            WebhookMessage.id,
            WebhookMessage.endpoint_id,
            func.row_number().over(
                partition_by=WebhookMessage.endpoint_id,
                order_by=(WebhookMessage.next_attempt_at, WebhookMessage.created_at),
            ).label("rank"),
        )
        .join(WebhookEndpoint, and_(WebhookEndpoint.id == WebhookMessage.endpoint_id, WebhookEndpoint.enabled))
        .where(WebhookMessage.status == PENDING, WebhookMessage.next_attempt_at <= func.now())
        .subquery()
    )
    chosen = select(ranked.c.id).where(
        ranked.c.rank <= MAX_IN_FLIGHT_PER_ENDPOINT, open_attempts(ranked.c.endpoint_id) < MAX_IN_FLIGHT_PER_ENDPOINT
    )
    due = list(db.scalars(
        select(WebhookMessage.id)
        .where(WebhookMessage.id.in_(chosen), WebhookMessage.status == PENDING,
               WebhookMessage.next_attempt_at <= func.now())
        .order_by(WebhookMessage.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))
    for message_id in due:
        enqueue_after_commit(db, DELIVER_TASK, message_id)
    if due:
        log.info("webhooks.dispatched_due", count=len(due))
    return due
