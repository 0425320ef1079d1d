"""Sending one endpoint's batch: the signed Standard Webhooks request, and what came back.

The HTTP exchange runs outside any transaction, through ``infra.http_client`` (one connection,
a deadline per attempt) to an address ``infra.http_targets`` checked once per batch; nothing here
touches the database, so a slow receiver holds no lock and no connection of ours.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from standardwebhooks import Webhook

from infra import http_bodies, http_client, http_targets
from infra.config import Settings
from workflows.webhooks.retry import parse_retry_after

BATCH_SECONDS = 1  # a batch starts no attempt after this (the rest go back to due): a slot is shared
RESPONSE_EXCERPT_BYTES = 1024
USER_AGENT = "mentorship-webhooks/1.0"


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


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: the receiver's status (``None`` without an answer) and what to record."""

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


def _text(value: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL, and a receiver's answer may contain anything.
    return value.replace("\x00", "\ufffd")[:limit]


def _describe(exc: Exception, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout:g} s ({type(exc).__name__})"
    return _text(f"{type(exc).__name__}: {exc}", 1000)


def _post(client: httpx.Client, deadline: http_client.AttemptDeadline, target: http_targets.PinnedTarget,
          delivery: Delivery, timeout: float) -> Outcome:
    """One attempt: POST the signed body to the checked address, no redirects, keep an excerpt of the answer.

    The whole exchange, from sending to the last byte of the excerpt, ends within ``timeout``.
    """
    deadline.start(timeout)
    began = time.monotonic()
    sent_at = datetime.now(UTC)

    def elapsed_ms() -> int:
        return int((time.monotonic() - began) * 1000)

    headers = {**signed_headers(delivery, sent_at), "Accept-Encoding": http_bodies.ACCEPTED_ENCODINGS,
               **target.headers}
    try:
        with client.stream("POST", target.url, content=delivery.body.encode(), headers=headers,
                           extensions=target.extensions) as response:
            # Its first bytes only, inflated within the same bound if compressed (a gzip bomb costs nothing).
            try:
                excerpt = http_bodies.read_bounded(response, RESPONSE_EXCERPT_BYTES, truncate=True)
            except http_bodies.BodyRefused as refused:
                excerpt = f"({refused})".encode()
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
        target = http_targets.pin_target(deliveries[0].url, scope=http_targets.configured_scope(settings),
                                         https_only=settings.https_targets_only)
    except http_targets.TargetRefused as exc:
        return [Outcome(None, 0, error=f"target refused, nothing sent: {exc!s}", attempted_at=datetime.now(UTC))]
    timeout = settings.webhook_timeout_seconds
    outcomes: list[Outcome] = []
    client, deadline = http_client.batch_client(timeout)
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
