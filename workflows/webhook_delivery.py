"""Webhook delivery: fan-out, leases, signed attempts, retries, and isolation between endpoints.

**Fan-out.** The ``webhooks.fan_out`` handler writes one ``WebhookMessage`` per
enabled endpoint that subscribes to the event type and may see the event (its
owner takes part, or is an admin), with ``INSERT … SELECT … ON CONFLICT
(endpoint_id, event_id) DO NOTHING``: an event handled twice yields one message
per endpoint. After commit it sends ``webhooks.deliver`` for each new message
whose endpoint has no batch in flight and no older message due (see
:func:`send_deliveries`). The message id (``msg_…``) is the
``webhook-id`` header, stable across retries.

**One batch = three steps.** ``webhooks.deliver`` names one message, and
delivers that message and whatever else its endpoint has due, up to
``BATCH_SIZE``, oldest first. (1) One statement takes a *lease* on each of
them: pending and due, its ``next_attempt_at`` moves to now + the lease (longer
than a batch can take, see :func:`lease_duration`) and its ``lease_id`` gets a
new id, the id its attempt will be recorded under. (2) Outside any transaction
the target is checked once, then the messages are POSTed one after another
over one connection, each within ``WEBHOOK_TIMEOUT_SECONDS`` from its first byte
sent to its last byte read. The batch stops at the first failure and starts no
attempt after ``BATCH_SECONDS``. Each delivery is recorded as it comes (the
worker writes them from a thread of its own while the batch goes on). (3) One
statement writes each attempt with its outcome and marks the delivered
messages; failures get their retry time (or fail, or disable the endpoint) one
by one. A message whose lease was lost meanwhile (it no longer carries that
``lease_id``: a manual retry replaced it) is left to whoever holds it now; the
late outcome is only recorded on its attempt. Leased messages left unsent lose
their lease and are due again at once, their attempt count as before.

**A batch that dies** (worker killed, or out of time) leaves leases that expire.
The next lease of the endpoint settles them first: deliveries recorded so far
stay delivered (not sent again); the first message still leased, in the batch's
order (``lease_rank``), was in flight and counts as a failed attempt, with its
retry time, ``failing_since`` and the five-day disable like any failure, so a
message that keeps killing its worker ends ``failed`` on the normal schedule;
the ones after it were never sent and are due again at once. The task's hard
time limit is shorter than the lease, so no attempt outlives its lease.

**Long waits live in the database.** Retries are a ``next_attempt_at``, never a
broker countdown. ``webhooks.dispatch_due`` (beat, every 5 s) sends
``webhooks.deliver`` for due messages it locks with ``FOR UPDATE SKIP LOCKED``;
it changes nothing itself, so two copies running at once, or a copy repeated,
at worst send a redundant ``deliver`` that finds no due message and returns.

**Isolation.** At most one batch is in flight per endpoint, and a batch sends
one request at a time: a message under a live lease marks the endpoint busy,
and the lease transaction locks the endpoint row, so the check and the new
lease cannot race. A ``deliver`` for a busy endpoint returns at
once, leaving its message due; when the busy batch finishes, its outcome
transaction sends ``deliver`` for the endpoint's next due message (and
``dispatch_due`` picks up anything missed). So an endpoint that hangs until the
timeout holds at most one worker slot, however many messages it has, and the
other slots keep delivering to everyone else; a busy healthy endpoint holds a
slot for ``BATCH_SECONDS`` and one more answer at most before its next batch queues
behind the others' work. With the default single worker (``--concurrency 2``)
one hanging endpoint leaves a slot free; run the ``webhooks`` queue on a worker
with more slots (``-Q webhooks -c 8``) to ride out several at once. One request
at a time also keeps each endpoint's deliveries in order while it is healthy.

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
import random
import re
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import structlog
from sqlalchemy import (
    CTE,
    ColumnElement,
    DateTime,
    Insert,
    Integer,
    Select,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from models import MentorProfile, OutboxEvent, User, WebhookAttempt, WebhookEndpoint, WebhookMessage
from workflows import webhook_http, webhook_targets
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

BATCH_SIZE = 500  # messages one ``deliver`` leases from its endpoint
BATCH_SECONDS = 1  # a batch starts no attempt after this (the rest go back to due): a slot is shared
DISABLE_AFTER_FAILING_FOR = timedelta(days=5)
JITTER = 0.2
RESPONSE_EXCERPT_BYTES = 1024
USER_AGENT = "mentorship-webhooks/1.0"
# An attempt ends within the timeout (see webhook_http), and the target is resolved once per batch
# before it; the task's time limits and the lease follow from that bound.
_DNS_ALLOWANCE_SECONDS = 10
_LEASE_MARGIN_SECONDS = 10
_LOST_ATTEMPT = "no outcome recorded: the worker stopped before saving it"
# The batch paths write many rows with one statement each: table-level statements, without the ORM's
# per-object bookkeeping (and no object of the session is left stale: the ORM holds none of these rows).
_MESSAGES = cast(Table, WebhookMessage.__table__)
_ATTEMPTS = cast(Table, WebhookAttempt.__table__)
_ASCII_DIGITS = re.compile(r"[0-9]+")
_RETRY_AFTER_CAP = 10**8  # seconds; retry_delay caps it again at the schedule's longest step
_JITTER_RNG = random.Random()  # noqa: S311 - spreads retries out; nothing secret depends on it


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


# -- time limits -------------------------------------------------------------------------------------------


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


# -- fan-out -----------------------------------------------------------------------------------------------


def participant_ids(payload: dict[str, Any]) -> tuple[uuid.UUID | None, list[uuid.UUID]]:
    """The mentor profile and the mentees an event's resource concerns (``mentee_user_ids`` for groups)."""
    mentor = payload.get("mentor_profile_id")
    mentees = list(payload.get("mentee_user_ids") or [])
    if payload.get("mentee_user_id"):
        mentees.append(payload["mentee_user_id"])
    return (uuid.UUID(mentor) if mentor else None), [uuid.UUID(str(m)) for m in mentees]


def _fan_out_statement() -> Insert:
    """One message per enabled, subscribed endpoint allowed to see an event: built once, run with its values.

    Subscribed: to every event (``*``) or to this event's type. Allowed: an admin's endpoint, or one
    owned by the mentor or a mentee the event concerns.
    """
    mentor_user = select(MentorProfile.user_id).where(
        MentorProfile.id == bindparam("mentor_profile_id", type_=Uuid)).scalar_subquery()
    owner = WebhookEndpoint.owner_user_id
    visible = or_(User.is_admin, owner.in_(bindparam("mentees", expanding=True, type_=Uuid)), owner == mentor_user)
    targets = (
        select(
            literal("msg_") + func.replace(func.gen_random_uuid().cast(WebhookMessage.id.type), "-", ""),
            WebhookEndpoint.id,
            bindparam("event_id", type_=Uuid),
            bindparam("event_type", type_=Text),
            bindparam("payload", type_=WebhookMessage.payload.type),
            func.now(),
        )
        .join(User, User.id == WebhookEndpoint.owner_user_id)
        # ``?|``: the endpoint's list holds one of the strings in ``subscribed``.
        .where(WebhookEndpoint.enabled, WebhookEndpoint.event_types.has_any(bindparam("subscribed", type_=ARRAY(Text))),
               visible)
    )
    columns = ["id", "endpoint_id", "event_id", "event_type", "payload", "next_attempt_at"]
    return (
        insert(_MESSAGES).from_select(columns, targets)
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        .returning(_MESSAGES.c.id, _MESSAGES.c.endpoint_id)
    )


_FAN_OUT = _fan_out_statement()


def fan_out(db: Session, event: OutboxEvent) -> list[str]:
    """One message per enabled, subscribed endpoint allowed to see ``event``; deliveries sent after commit."""
    mentor_profile_id, mentees = participant_ids(event.payload)
    created = [(row.id, row.endpoint_id) for row in db.execute(_FAN_OUT, {
        "mentor_profile_id": mentor_profile_id, "mentees": mentees, "event_id": event.id, "event_type": event.type,
        "payload": event.payload, "subscribed": [ALL_EVENTS, event.type],
    })]
    send_deliveries(db, created)
    log.info("webhooks.fanned_out", event_id=str(event.id), event_type=event.type, messages=len(created))
    return [message_id for message_id, _ in created]


def send_deliveries(db: Session, messages: Sequence[tuple[str, uuid.UUID]]) -> None:
    """Send ``deliver`` after commit for new (message, endpoint) pairs, once per endpoint that needs it.

    An endpoint needs none when a batch is in flight (it sends the next ``deliver`` itself when it
    finishes) or an older message of it is due (its ``deliver`` is queued; if that was lost, the
    periodic dispatcher resends it): a burst of events to one endpoint queues one task, not one per
    event, so it cannot crowd other endpoints out of the queue. The endpoint row lock, held until
    commit, orders this with the batch's outcome transaction: if the outcome commits first, the
    check here finds the endpoint free and sends; if this commits first, the outcome's
    :func:`kick_endpoint` sees the new message.
    """
    endpoint_ids = sorted({endpoint_id for _, endpoint_id in messages})
    if not endpoint_ids:
        return
    db.execute(select(WebhookEndpoint.id).where(WebhookEndpoint.id.in_(endpoint_ids))
               .order_by(WebhookEndpoint.id).with_for_update(key_share=True))
    older_due = select(1).where(
        WebhookMessage.endpoint_id == WebhookEndpoint.id, _due_now(),
        WebhookMessage.id.not_in([m for m, _ in messages]),
    ).exists()
    # A statement of its own, after the locks: it sees any outcome committed while this waited for them.
    taken_care_of = set(db.scalars(
        select(WebhookEndpoint.id)
        .where(WebhookEndpoint.id.in_(endpoint_ids), or_(endpoint_busy(WebhookEndpoint.id), older_due))
    ))
    for message_id, endpoint_id in messages:
        if endpoint_id not in taken_care_of:
            enqueue_after_commit(db, DELIVER_TASK, message_id)
            taken_care_of.add(endpoint_id)  # this message's batch takes the endpoint's other new messages


def handle_event(db: Session, event: OutboxEvent) -> None:
    """The ``webhooks.fan_out`` outbox handler."""
    fan_out(db, event)


# -- leases ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """Everything one attempt needs, taken under a lease, so the request runs outside any transaction."""

    message_id: str
    attempt_id: uuid.UUID  # the lease's token, and the id its attempt is recorded under
    attempt_number: int
    endpoint_id: uuid.UUID
    url: str
    secret: str
    body: str
    previous_secret: str | None = None  # the secret a rotation replaced, while its overlap lasts


def envelope(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> str:
    """The request body: ``{"type", "timestamp", "data"}``, serialised once and signed as is."""
    timestamp = occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": data}, separators=(",", ":"))


def _due_now() -> ColumnElement[bool]:
    """A message waiting to be sent: pending, and its next attempt's time (or a dead lease's end) has come."""
    return and_(WebhookMessage.status == PENDING, WebhookMessage.next_attempt_at <= func.now())


def _leased_now() -> ColumnElement[bool]:
    """A message with an attempt in flight: pending, leased, and the lease not yet run out."""
    return and_(WebhookMessage.status == PENDING, WebhookMessage.lease_id.is_not(None),
                WebhookMessage.next_attempt_at > func.now())


def endpoint_busy(endpoint_id: Any) -> ColumnElement[bool]:
    """Whether a batch is in flight for ``endpoint_id``: one of its messages is under a live lease."""
    return select(1).where(WebhookMessage.endpoint_id == endpoint_id, _leased_now()).exists()


def message_in_flight(db: Session, message_id: str) -> bool:
    return bool(db.scalar(select(select(1).where(WebhookMessage.id == message_id, _leased_now()).exists())))


def _record_lost(leases: Select[tuple[uuid.UUID, str]]) -> Insert:
    """Leases (lease id, message id) a dead worker left behind, as attempts that never got an outcome, once each."""
    lost = leases.add_columns(literal(0), literal(_LOST_ATTEMPT))
    return (insert(_ATTEMPTS).from_select(["id", "message_id", "duration_ms", "error"], lost)
            .on_conflict_do_nothing(index_elements=["id"]))


def close_lost_attempts(db: Session, message_id: str) -> None:
    """A lease a dead worker left on ``message_id``: recorded as a lost attempt, and the message freed of it."""
    db.execute(_record_lost(select(_MESSAGES.c.lease_id, _MESSAGES.c.id)
                            .where(_MESSAGES.c.id == message_id, _MESSAGES.c.lease_id.is_not(None))))
    db.execute(update(_MESSAGES).where(_MESSAGES.c.id == message_id).values(lease_id=None, lease_rank=None))


def settle_dead_batch(db: Session, endpoint: WebhookEndpoint, *, settings: Settings) -> None:
    """Close the batch a dead worker left on ``endpoint`` (its leases have run out); the endpoint row is locked.

    Outcomes the batch got were recorded as they came, so what still holds a lease had none: the first
    of those in the batch's order was in flight when the worker died (killed, or out of time), and counts
    as a failed attempt, with the retry schedule, ``failing_since`` and the five-day disable as for any
    other failure; the ones after it were never sent and are due again at once, their attempt not spent.
    """
    dead = db.execute(
        select(_MESSAGES.c.id, _MESSAGES.c.lease_id)
        .where(_MESSAGES.c.endpoint_id == endpoint.id, _MESSAGES.c.status == PENDING,
               _MESSAGES.c.lease_id.is_not(None), _MESSAGES.c.next_attempt_at <= func.now())
        .order_by(_MESSAGES.c.lease_rank.nulls_first(), _MESSAGES.c.created_at)
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
    _apply_failure(db, endpoint, message, Outcome(None, 0, error=_LOST_ATTEMPT), now=now, settings=settings)
    if unsent:
        db.execute(update(_MESSAGES).where(_MESSAGES.c.id.in_(unsent))
                   .values(lease_id=None, lease_rank=None, attempts=_MESSAGES.c.attempts - 1,
                           next_attempt_at=func.now()))
    db.flush()
    log.warning("webhooks.dead_batch_settled", endpoint_id=str(endpoint.id), message_id=message.id,
                outcome=message.status, unsent=len(unsent))


def lease_batch(db: Session, message_id: str, *, settings: Settings, limit: int = BATCH_SIZE) -> list[Delivery]:
    """Lease ``message_id`` and its endpoint's oldest other due messages, up to ``limit``, in the order to send them.

    Nothing when ``message_id`` is not due (delivered, failed, leased, or waiting for its retry time),
    or its endpoint is disabled or busy with another batch. A batch a dead worker left is settled first.
    """
    endpoint_id = db.scalar(
        select(WebhookMessage.endpoint_id)
        .where(WebhookMessage.id == message_id, _due_now())
    )
    if endpoint_id is None:
        return []
    # The endpoint row lock serialises leases and outcomes of one endpoint: the busy check cannot race.
    endpoint = db.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    )
    if endpoint is None:
        return []
    if db.scalar(select(endpoint_busy(endpoint.id))):
        log.info("webhooks.endpoint_busy", message_id=message_id, endpoint_id=str(endpoint.id))
        return []
    settle_dead_batch(db, endpoint, settings=settings)
    due = (
        select(_MESSAGES.c.id, _MESSAGES.c.next_attempt_at, _MESSAGES.c.created_at,
               OutboxEvent.created_at.label("occurred_at"))
        .outerjoin(OutboxEvent, OutboxEvent.id == _MESSAGES.c.event_id)
        .where(_MESSAGES.c.endpoint_id == endpoint.id, _due_now())
        .order_by((_MESSAGES.c.id == message_id).desc(), _MESSAGES.c.next_attempt_at, _MESSAGES.c.created_at)
        .limit(limit)
        .with_for_update(of=_MESSAGES, skip_locked=True)
        .cte("due")
    )
    # The order to send them in; a window function cannot share a statement level with FOR UPDATE.
    ranked = select(due, func.row_number().over(order_by=(due.c.next_attempt_at, due.c.created_at))
                    .label("rank")).cte("ranked")
    leased = (
        update(_MESSAGES)
        .where(_MESSAGES.c.id == ranked.c.id)
        .values(next_attempt_at=func.now() + lease_duration(settings), attempts=_MESSAGES.c.attempts + 1,
                lease_id=func.gen_random_uuid(), lease_rank=ranked.c.rank)
        .returning(_MESSAGES.c.id, _MESSAGES.c.attempts, _MESSAGES.c.event_type, _MESSAGES.c.payload,
                   _MESSAGES.c.lease_id, _MESSAGES.c.lease_rank,
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


def lease_message(db: Session, message_id: str, *, settings: Settings) -> Delivery | None:
    """Lease ``message_id`` alone; ``None`` when it is not due or its endpoint is disabled or busy."""
    leased = lease_batch(db, message_id, settings=settings, limit=1)
    return leased[0] if leased else None


# -- the request -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str | None = None
    retry_after: timedelta | None = None
    response_excerpt: str | None = None
    attempted_at: datetime | None = None  # when the request was sent, or refused

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300  # noqa: PLR2004 - the 2xx range


def signed_headers(delivery: Delivery, sent_at: datetime) -> dict[str, str]:
    """Standard Webhooks headers: a receiver using the ``standardwebhooks`` package verifies them unchanged.

    After a rotation, and until the old secret expires, the signature header carries one signature per
    secret (space-separated, as the standard allows): receivers still on the old secret keep verifying.
    """
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(
            Webhook(secret).sign(delivery.message_id, sent_at, delivery.body)
            for secret in (delivery.secret, delivery.previous_secret) if secret
        ),
    }


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date; ``None`` when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if _ASCII_DIGITS.fullmatch(value):
        # Only ASCII digits: str.isdigit() also takes superscripts and other scripts' digits, which
        # int() refuses or reads otherwise; int() refuses thousands of digits: longer than the cap is the cap.
        return timedelta(seconds=_RETRY_AFTER_CAP if len(value) > len(str(_RETRY_AFTER_CAP)) else
                         min(int(value), _RETRY_AFTER_CAP))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
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


def _post(client: httpx.Client, deadline: webhook_http.AttemptDeadline, target: webhook_targets.PinnedTarget,
          delivery: Delivery, timeout: float) -> Outcome:
    """One attempt: POST the signed body to the checked address, no redirects, keep an excerpt of the answer.

    The whole exchange, from sending to the last byte of the excerpt, ends within ``timeout``.
    """
    deadline.start(timeout)
    began = time.monotonic()
    sent_at = datetime.now(UTC)

    def elapsed_ms() -> int:
        return int((time.monotonic() - began) * 1000)

    headers = {**signed_headers(delivery, sent_at), **target.headers}
    try:
        with client.stream("POST", target.url, content=delivery.body.encode(), headers=headers,
                           extensions=target.extensions) as response:
            excerpt = b""
            for chunk in response.iter_raw():
                excerpt += chunk
                if len(excerpt) >= RESPONSE_EXCERPT_BYTES:
                    break
    except (httpx.HTTPError, OSError) as exc:
        return Outcome(None, elapsed_ms(), error=_describe(exc, timeout), attempted_at=sent_at)
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
        attempted_at=sent_at,
    )


def send_batch(deliveries: Sequence[Delivery], *, settings: Settings,
               on_outcome: Callable[[Delivery, Outcome], None] | None = None) -> list[Outcome]:
    """Attempt one endpoint's batch in order, one request at a time; ``outcomes[i]`` is ``deliveries[i]``'s.

    The target is checked once, then each delivery is POSTed over the same connection. The batch
    stops after the first failure (an endpoint that fails or hangs is not sent the rest now), and
    starts no attempt after ``BATCH_SECONDS``; the deliveries left unsent go back to due.
    ``on_outcome`` hears each outcome as it comes (to record it before the batch ends).
    """
    if not deliveries:
        return []
    began = time.monotonic()
    try:
        target = webhook_targets.pin_target(deliveries[0].url, scope=webhook_targets.configured_scope(settings))
    except webhook_targets.TargetRefused as exc:
        return [Outcome(None, 0, error=f"target refused, nothing sent: {exc.message}", attempted_at=datetime.now(UTC))]
    timeout = settings.webhook_timeout_seconds
    outcomes: list[Outcome] = []
    client, deadline = webhook_http.batch_client(timeout)
    with client:
        for delivery in deliveries:
            if outcomes and time.monotonic() - began >= BATCH_SECONDS:
                break
            outcomes.append(_post(client, deadline, target, delivery, timeout))
            if on_outcome is not None:
                on_outcome(delivery, outcomes[-1])
            if not outcomes[-1].delivered:
                break
    return outcomes


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
    written = insert(_ATTEMPTS).from_select(columns, select(
        results.c.attempt_id, results.c.message_id, func.coalesce(results.c.sent_at, func.now()),
        results.c.status_code, results.c.duration_ms, results.c.error, results.c.response_excerpt,
    ))
    # An attempt a later lease already recorded as lost gets its real outcome, late.
    recorded = written.on_conflict_do_update(
        index_elements=["id"],
        set_={name: written.excluded[name] for name in ("status_code", "duration_ms", "error", "response_excerpt")},
    ).cte("recorded")
    delivered = (
        update(_MESSAGES)
        .where(_MESSAGES.c.id == results.c.message_id, _MESSAGES.c.status == PENDING,
               _MESSAGES.c.lease_id == results.c.attempt_id, results.c.status_code.between(200, 299))
        .values(status=DELIVERED, delivered_at=func.now(), next_attempt_at=None, lease_id=None, lease_rank=None,
                last_status_code=results.c.status_code)
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
                                             WebhookEndpoint.failing_since.is_not(None))
               .values(failing_since=None))


def record_outcomes(db: Session, deliveries: Sequence[Delivery], outcomes: Sequence[Outcome], *,
                    settings: Settings, recorded: Collection[str] = ()) -> list[str | None]:
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
        select(_MESSAGES.c.id, _MESSAGES.c.status, _MESSAGES.c.lease_id)
        .where(_MESSAGES.c.id.in_([d.message_id for d in deliveries]))
        .cte("prior")
    )
    query = select(prior.c.id, prior.c.status, prior.c.lease_id)
    unwritten = [(d, o) for d, o in sent if d.message_id not in recorded]
    if unwritten:
        query = query.add_cte(*_write_outcomes(unwritten))
    before = {row.id: row for row in db.execute(query)}
    held = {d.message_id for d in deliveries
            if d.message_id in before and before[d.message_id].status == PENDING
            and before[d.message_id].lease_id == d.attempt_id}
    # Delivered: by this statement, or already by record_delivered as the batch went on.
    statuses = {d.message_id: DELIVERED for d, o in sent if o.delivered and d.message_id in before
                and (d.message_id in held or before[d.message_id].status == DELIVERED)}
    if statuses:
        endpoint.failing_since = None
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
        _apply_failure(db, endpoint, message, outcome, now=now, settings=settings)
        statuses[delivery.message_id] = message.status
        log.info("webhooks.attempt_failed", message_id=message.id, endpoint_id=str(endpoint.id),
                 attempt=delivery.attempt_number, status_code=outcome.status_code, error=outcome.error,
                 outcome=message.status, duration_ms=outcome.duration_ms)
    unsent = [d.message_id for d in deliveries[len(sent):] if d.message_id in held]
    if unsent:
        db.execute(update(_MESSAGES).where(_MESSAGES.c.id.in_(unsent))
                   .values(lease_id=None, lease_rank=None, attempts=_MESSAGES.c.attempts - 1,
                           next_attempt_at=func.now()))
    if endpoint.enabled:
        kick_endpoint(db, endpoint.id)
    return [statuses.get(d.message_id, before[d.message_id].status if d.message_id in before else None)
            for d in deliveries]


def record_outcome(db: Session, delivery: Delivery, outcome: Outcome, *, settings: Settings) -> str | None:
    """Close one attempt and move its message on; returns the message's status (``None`` if it is gone)."""
    return record_outcomes(db, [delivery], [outcome], settings=settings)[0]


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
    """Send ``deliver`` for the endpoint's oldest due message (its next batch) after commit."""
    oldest = db.scalar(
        select(WebhookMessage.id)
        .where(WebhookMessage.endpoint_id == endpoint_id, _due_now())
        .order_by(WebhookMessage.next_attempt_at, WebhookMessage.created_at)
        .limit(1)
    )
    if oldest is not None:
        enqueue_after_commit(db, DELIVER_TASK, oldest)


# -- the periodic dispatcher -------------------------------------------------------------------------------


def dispatch_due(db: Session, *, limit: int = 500) -> list[str]:
    """Send ``deliver`` for due messages: the oldest of each enabled endpoint with no batch in flight.

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
        .where(_due_now())
        .subquery()
    )
    chosen = select(ranked.c.id).where(
        ranked.c.rank == 1, ~endpoint_busy(ranked.c.endpoint_id)
    )
    due = list(db.scalars(
        select(WebhookMessage.id)
        .where(WebhookMessage.id.in_(chosen), _due_now())
        .order_by(WebhookMessage.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))
    for message_id in due:
        enqueue_after_commit(db, DELIVER_TASK, message_id)
    if due:
        log.info("webhooks.dispatched_due", count=len(due))
    return due
