"""Endpoints as their owners manage them: create, change, rotate the secret, send a test, see and retry deliveries.

Only an endpoint's owner sees or changes it; anyone else gets ``NotFound``, so ids leak nothing. An endpoint made
while its owner's address was unconfirmed is marked so, and disabled when the address's owner proves it or signs
out everywhere (:func:`disable_made_unconfirmed`).
Where a URL may point is decided by ``infra.http_targets``.
"""

from __future__ import annotations

import base64
import math
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra import http_targets
from infra.config import Settings, get_settings
from models import User, WebhookAttempt, WebhookEndpoint, WebhookMessage, WebhookMessageStatus
from outbox import enqueue_after_commit
from workflows.actors import Actor
from workflows.errors import Conflict, InvalidInput, NotFound, RateLimited, refusal
from workflows.events import EventType
from workflows.pagination import Page, paginate
from workflows.webhooks.leases import close_lost_attempts
from workflows.webhooks.messages import ALL_EVENTS, DELIVER_TASK, TEST_EVENT, message_in_flight, new_message_id
from workflows.webhooks.outcomes import clear_record, mark_disabled

log = structlog.get_logger(__name__)

# What an endpoint may subscribe to: every event the webhooks handler receives, and the test event.
EVENT_TYPES: tuple[str, ...] = tuple(EventType)
SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
SECRET_BYTES = 32
EDITABLE_FIELDS = frozenset({"url", "event_types", "description", "enabled"})
DISABLED_BY_OWNER = "disabled by its owner"
_MANUAL_WINDOW = timedelta(minutes=1)  # test sends and manual retries are limited per endpoint per minute


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def normalise_event_types(event_types: Iterable[str]) -> list[str]:
    """Known event types without repeats, or ``["*"]`` for all of them."""
    chosen = list(dict.fromkeys(event_types))
    if not chosen:
        raise InvalidInput("event_types must name at least one event type, or be [\"*\"] for all")
    if ALL_EVENTS in chosen:
        if len(chosen) > 1:
            raise InvalidInput("event_types is either [\"*\"] (every event) or a list of event types, not both")
        return chosen
    unknown = [event for event in chosen if event not in EVENT_TYPES]
    if unknown:
        raise InvalidInput("unknown event types: {unknown}",
                           words={"unknown": ', '.join(unknown)}, known=", ".join(EVENT_TYPES))
    return chosen


def _target(url: str, settings: Settings | None) -> str:
    settings = settings or get_settings()
    try:
        return http_targets.validate_target(url, scope=http_targets.configured_scope(settings),
                                            https_only=settings.https_targets_only)
    except http_targets.TargetRefused as refused:
        raise InvalidInput("this address is refused: {problem}", words={"problem": refused}) from None


def create_endpoint(
    db: Session, actor: Actor, *, url: str, event_types: Iterable[str] = (ALL_EVENTS,), description: str = "",
    settings: Settings | None = None,
) -> WebhookEndpoint:
    """A new endpoint of the caller's; its ``secret`` is shown now and after each rotation only.

    At most ``WEBHOOK_MAX_ENDPOINTS_PER_USER`` per user: the owner's row is locked while counting,
    so concurrent creations cannot both take the last place.
    """
    settings = settings or get_settings()
    verified_at = db.execute(select(User.email_verified_at).where(User.id == actor.user_id)
                             .with_for_update(key_share=True)).scalar_one_or_none()
    owned = db.scalar(select(func.count()).select_from(WebhookEndpoint)
                      .where(WebhookEndpoint.owner_user_id == actor.user_id))
    if (owned or 0) >= settings.webhook_max_endpoints_per_user:
        raise Conflict("you have {owned} webhook endpoints, the most one user may have; delete one first",
                       words={"owned": owned},
                       limit=settings.webhook_max_endpoints_per_user, reason="endpoint_limit")
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(), owner_user_id=actor.user_id, url=_target(url, settings),
        event_types=normalise_event_types(event_types), description=description, secret=new_secret(),
        enabled=True, made_unconfirmed=verified_at is None,
    )
    db.add(endpoint)
    db.flush()
    log.info("webhooks.endpoint_created", endpoint_id=str(endpoint.id), actor=str(actor))
    return endpoint


def get_endpoint(db: Session, actor: Actor, endpoint_id: uuid.UUID, *, for_update: bool = False) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    if for_update:
        query = query.with_for_update(key_share=True)
    endpoint = db.scalar(query)
    if endpoint is None or endpoint.owner_user_id != actor.user_id:
        raise NotFound("webhook endpoint not found")
    return endpoint


def list_endpoints(db: Session, actor: Actor, *, limit: int, cursor: str | None) -> Page[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.owner_user_id == actor.user_id)
    return paginate(db, query, WebhookEndpoint.created_at, WebhookEndpoint.id, limit=limit, cursor=cursor,
                    descending=True)


def update_endpoint(
    db: Session, actor: Actor, endpoint_id: uuid.UUID, changes: dict[str, Any], *, settings: Settings | None = None,
) -> WebhookEndpoint:
    """Change url, event types, description or enabled.

    Re-enabling keeps the failure record (failing since, failures in a row, backoff) and when and why the
    endpoint was last disabled: a failing endpoint enabled again is still failing, and the five days count
    on. A new URL starts a clean record: nothing is known about the new target yet.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput("these fields cannot be changed: {unknown}", words={"unknown": ', '.join(sorted(unknown))})
    endpoint = get_endpoint(db, actor, endpoint_id, for_update=True)
    if "url" in changes:
        url = _target(changes["url"], settings)
        if url != endpoint.url:
            endpoint.url = url
            clear_record(endpoint)
    if "event_types" in changes:
        endpoint.event_types = normalise_event_types(changes["event_types"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if "enabled" in changes and changes["enabled"] != endpoint.enabled:
        if changes["enabled"]:
            endpoint.enabled, endpoint.disabled_reason = True, None
            # Enabled again by whoever holds the account now: marked by their address, as a new endpoint is.
            endpoint.made_unconfirmed = db.scalar(select(User.email_verified_at.is_(None))
                                                  .where(User.id == actor.user_id)) is not False
        else:
            mark_disabled(endpoint, DISABLED_BY_OWNER, now=db.execute(select(func.now())).scalar_one())
    db.flush()
    log.info("webhooks.endpoint_updated", endpoint_id=str(endpoint.id), fields=sorted(changes), actor=str(actor))
    return endpoint


def disable_made_unconfirmed(db: Session, owner_user_id: uuid.UUID, reason: str) -> list[str]:
    """Disable the owner's enabled endpoints made (or enabled again) while their address was unconfirmed: whoever
    made them may not own the address. Their URLs; the caller tells the owner."""
    now = db.execute(select(func.now())).scalar_one()
    endpoints = db.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.owner_user_id == owner_user_id, WebhookEndpoint.enabled, WebhookEndpoint.made_unconfirmed)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id).with_for_update(key_share=True)).all()
    for endpoint in endpoints:
        mark_disabled(endpoint, reason, now=now)
        log.warning("webhooks.endpoint_disabled", endpoint_id=str(endpoint.id), reason=reason)
    db.flush()
    return [endpoint.url for endpoint in endpoints]


def delete_endpoint(db: Session, actor: Actor, endpoint_id: uuid.UUID) -> None:
    """Delete the endpoint with its messages and attempts; an attempt in flight is forgotten on return."""
    endpoint = get_endpoint(db, actor, endpoint_id, for_update=True)
    db.delete(endpoint)
    db.flush()
    log.info("webhooks.endpoint_deleted", endpoint_id=str(endpoint_id), actor=str(actor))


def rotate_secret(db: Session, actor: Actor, endpoint_id: uuid.UUID, *, settings: Settings | None = None
                  ) -> WebhookEndpoint:
    """A new secret signs every attempt from now on, retries of older messages included; the old one
    signs them too for ``WEBHOOK_SECRET_OVERLAP`` more, so receivers can switch without dropping any."""
    settings = settings or get_settings()
    endpoint = get_endpoint(db, actor, endpoint_id, for_update=True)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = db.execute(select(func.now())).scalar_one() + settings.webhook_secret_overlap
    endpoint.secret = new_secret()
    db.flush()
    log.info("webhooks.secret_rotated", endpoint_id=str(endpoint.id), actor=str(actor))
    return endpoint


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled; enable it first", disabled_reason=endpoint.disabled_reason or "",
                       reason="endpoint_disabled")


def _refuse_beyond(limit: int, recent: Sequence[datetime], now: datetime, refused: str) -> None:
    """At most ``limit`` per endpoint in any minute (``refused`` says of what); ``recent`` holds those of the last
    minute.

    Beyond: ``RateLimited``, with the seconds until one of them is a minute old.
    """
    if len(recent) < limit:
        return
    oldest = sorted(recent)[len(recent) - limit] if limit else now
    retry_after = max(1, math.ceil((oldest + _MANUAL_WINDOW - now).total_seconds()))
    raise RateLimited(refused, words={"limit": limit, "retry_after": retry_after}, retry_after=retry_after)


def send_test(db: Session, actor: Actor, endpoint_id: uuid.UUID, *, settings: Settings | None = None) -> WebhookMessage:
    """A ``webhook.test`` message for this endpoint only, sent after commit like any other.

    At most ``WEBHOOK_TESTS_PER_MINUTE`` per endpoint, counted under the endpoint's row lock. The test
    goes at once, even while the endpoint backs off after failures (its owner asks to know now); if it
    is delivered, the failure record is cleared and the endpoint's waiting messages follow.
    """
    settings = settings or get_settings()
    endpoint = get_endpoint(db, actor, endpoint_id, for_update=True)
    _require_enabled(endpoint)
    now: datetime = db.execute(select(func.now())).scalar_one()
    recent = db.scalars(select(WebhookMessage.created_at).where(
        WebhookMessage.endpoint_id == endpoint.id, WebhookMessage.event_type == TEST_EVENT,
        WebhookMessage.created_at > now - _MANUAL_WINDOW,
    ).order_by(WebhookMessage.created_at.desc()).limit(settings.webhook_tests_per_minute)).all()
    _refuse_beyond(settings.webhook_tests_per_minute, recent, now,
                   refusal("at most {limit} test deliveries a minute per endpoint; retry in {retry_after} s"))
    message = WebhookMessage(
        id=new_message_id(), endpoint_id=endpoint.id, event_id=None, event_type=TEST_EVENT,
        payload={"endpoint_id": str(endpoint.id), "message": "This is a test delivery. Your endpoint works."},
        status=WebhookMessageStatus.PENDING, attempts=0, next_attempt_at=func.now(),
    )
    endpoint.backoff_until = None
    db.add(message)
    db.flush()
    db.refresh(message)
    enqueue_after_commit(db, DELIVER_TASK, message.id)
    log.info("webhooks.test_queued", endpoint_id=str(endpoint.id), message_id=message.id, actor=str(actor))
    return message


@dataclass(frozen=True)
class DeliveryView:
    """A message with its attempts, oldest attempt first."""

    message: WebhookMessage
    attempts: list[WebhookAttempt]


def _with_attempts(db: Session, messages: list[WebhookMessage]) -> list[DeliveryView]:
    by_message: dict[str, list[WebhookAttempt]] = {m.id: [] for m in messages}
    if messages:
        attempts = db.scalars(
            select(WebhookAttempt).where(WebhookAttempt.message_id.in_(by_message))
            .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
        )
        for attempt in attempts:
            by_message[attempt.message_id].append(attempt)
    return [DeliveryView(m, by_message[m.id]) for m in messages]


def list_deliveries(
    db: Session, actor: Actor, endpoint_id: uuid.UUID, *, status: str | None = None, limit: int,
    cursor: str | None,
) -> Page[DeliveryView]:
    """The endpoint's messages, newest first, each with its attempts."""
    endpoint = get_endpoint(db, actor, endpoint_id)
    query = select(WebhookMessage).where(WebhookMessage.endpoint_id == endpoint.id)
    if status:
        query = query.where(WebhookMessage.status == status)
    page = paginate(db, query, WebhookMessage.created_at, WebhookMessage.id, limit=limit, cursor=cursor,
                    descending=True)
    return Page(_with_attempts(db, page.items), page.next_cursor)


def retry_delivery(db: Session, actor: Actor, endpoint_id: uuid.UUID, message_id: str, *,
                   settings: Settings | None = None) -> DeliveryView:
    """Send a message again now, with the same ``webhook-id`` and a fresh retry schedule.

    At most ``WEBHOOK_RETRIES_PER_MINUTE`` per endpoint (the endpoint row is locked while counting); like a
    test, a retry goes at once even while the endpoint backs off.
    """
    settings = settings or get_settings()
    endpoint = get_endpoint(db, actor, endpoint_id, for_update=True)
    message = db.scalar(
        select(WebhookMessage).where(WebhookMessage.id == message_id, WebhookMessage.endpoint_id == endpoint.id)
        .with_for_update()
    )
    if message is None:
        raise NotFound("delivery not found")
    _require_enabled(endpoint)
    if message_in_flight(db, message.id):
        raise Conflict("an attempt of this delivery is in progress; retry once it has finished",
                       reason="delivery_in_progress")
    now: datetime = db.execute(select(func.now())).scalar_one()
    recent = [at for at in endpoint.recent_retries_at if at > now - _MANUAL_WINDOW]
    _refuse_beyond(settings.webhook_retries_per_minute, recent, now,
                   refusal("at most {limit} manual retries a minute per endpoint; retry in {retry_after} s"))
    endpoint.recent_retries_at = [*recent, now][-settings.webhook_retries_per_minute:]
    endpoint.backoff_until = None
    close_lost_attempts(db, message.id)
    message.status, message.attempts, message.next_attempt_at = WebhookMessageStatus.PENDING, 0, func.now()
    message.delivered_at = None
    db.flush()
    db.refresh(message)
    enqueue_after_commit(db, DELIVER_TASK, message.id)
    log.info("webhooks.retry_queued", endpoint_id=str(endpoint.id), message_id=message.id, actor=str(actor))
    return _with_attempts(db, [message])[0]
