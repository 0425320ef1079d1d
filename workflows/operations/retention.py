"""How long history is kept: outbox events, webhook attempts, idempotency keys, read notifications,
expired refresh tokens and account links, the audit trail of credentials, and sent reminders.

Each kind of row has a retention period (``*_RETENTION_DAYS``) and is removed in batches of at most
``RETENTION_BATCH_SIZE`` rows, each batch one short statement in its own transaction (the caller
commits), so pruning a large backlog never holds long locks or one huge transaction. Rows another
transaction has locked are skipped (``SKIP LOCKED``) and taken by a later run, so two runs at once
never wait on each other or on live work.

Nothing still needed goes: an outbox event stays while any of its handlers is pending or a pending
webhook message was made from it (its delivery reads the event's time); delivered and failed
messages keep their own copy of the payload and lose only the link (``ON DELETE SET NULL``). A read
notification stays while its email is still to be sent. A refresh token goes a day after it expires
(it is refused from then on, its family's reuse check with it), and so does an emailed account link
(verification or reset); a sign-in too, once none of its tokens is left (it expires with its newest, so
they all go by then); an attempt to sign in at an organisation's provider a day after its ten minutes; a
reminder row once it is the
longest ``REMINDER_OFFSETS`` plus two days old (sent at most that offset before its session, which
has then started two days ago at least).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Delete, delete, exists, func, select, tuple_
from sqlalchemy.orm import QueryableAttribute, Session

from infra.config import Settings
from models import (
    AccountToken,
    AuthEvent,
    EmailStatus,
    HandlerStatus,
    IdempotencyKey,
    Notification,
    OutboxEvent,
    OutboxHandler,
    RefreshToken,
    SamlAssertionSeen,
    SecondStepChallenge,
    SessionReminder,
    SignIn,
    SignOnAttempt,
    WebhookAttempt,
    WebhookMessage,
    WebhookMessageStatus,
)


@dataclass(frozen=True)
class Target:
    """One kind of history: its name, how long it is kept, and the statement that removes one batch."""

    name: str
    retention_days: Callable[[Settings], int]
    statement: Callable[[timedelta, int], Delete]

    def prune_batch(self, db: Session, settings: Settings) -> int:
        """Remove up to ``RETENTION_BATCH_SIZE`` rows older than the horizon; how many went."""
        horizon = timedelta(days=self.retention_days(settings))
        result = cast(CursorResult[Any], db.execute(self.statement(horizon, settings.retention_batch_size)))
        return result.rowcount


def _batch(model: type[Any], keys: tuple[QueryableAttribute[Any], ...], age: QueryableAttribute[Any], limit: int,
           *conditions: ColumnElement[bool]) -> Delete:
    """``DELETE … WHERE key IN (the oldest `limit` rows meeting the conditions, skipping locked ones)``.

    The victims are a materialized CTE, chosen once: as a plain subquery the planner may scan it again for
    each outer row, and each scan skips the rows this statement has already deleted and takes the next
    ones, so one batch could remove more than ``limit`` rows.
    """
    victims = (select(*keys).where(*conditions).order_by(age).limit(limit).with_for_update(skip_locked=True)
               .cte("victims").prefix_with("MATERIALIZED"))
    return delete(model).where(tuple_(*keys).in_(select(*victims.c)))


def _outbox_events(horizon: timedelta, limit: int) -> Delete:
    pending_handler = exists().where(OutboxHandler.event_id == OutboxEvent.id,
                                     OutboxHandler.status == HandlerStatus.PENDING)
    pending_message = exists().where(WebhookMessage.event_id == OutboxEvent.id,
                                     WebhookMessage.status == WebhookMessageStatus.PENDING)
    return _batch(OutboxEvent, (OutboxEvent.id,), OutboxEvent.created_at, limit,
                  OutboxEvent.created_at < func.now() - horizon, ~pending_handler, ~pending_message)


def _webhook_attempts(horizon: timedelta, limit: int) -> Delete:
    return _batch(WebhookAttempt, (WebhookAttempt.id,), WebhookAttempt.attempted_at, limit,
                  WebhookAttempt.attempted_at < func.now() - horizon)


def _idempotency_keys(horizon: timedelta, limit: int) -> Delete:
    return _batch(IdempotencyKey, (IdempotencyKey.user_id, IdempotencyKey.key), IdempotencyKey.created_at, limit,
                  IdempotencyKey.created_at < func.now() - horizon)


def _read_notifications(horizon: timedelta, limit: int) -> Delete:
    return _batch(Notification, (Notification.id,), Notification.read_at, limit,
                  Notification.read_at < func.now() - horizon, Notification.email_status != EmailStatus.PENDING)


def _expired_refresh_tokens(horizon: timedelta, limit: int) -> Delete:
    return _batch(RefreshToken, (RefreshToken.id,), RefreshToken.expires_at, limit,
                  RefreshToken.expires_at < func.now() - horizon)


def _expired_account_links(horizon: timedelta, limit: int) -> Delete:
    return _batch(AccountToken, (AccountToken.id,), AccountToken.expires_at, limit,
                  AccountToken.expires_at < func.now() - horizon)


def _expired_sign_on_attempts(horizon: timedelta, limit: int) -> Delete:
    return _batch(SignOnAttempt, (SignOnAttempt.id,), SignOnAttempt.expires_at, limit,
                  SignOnAttempt.expires_at < func.now() - horizon)


def _expired_second_step_challenges(horizon: timedelta, limit: int) -> Delete:
    return _batch(SecondStepChallenge, (SecondStepChallenge.id,), SecondStepChallenge.expires_at, limit,
                  SecondStepChallenge.expires_at < func.now() - horizon)


def _expired_saml_assertions(horizon: timedelta, limit: int) -> Delete:
    keys = (SamlAssertionSeen.provider_id, SamlAssertionSeen.assertion_id)
    return _batch(SamlAssertionSeen, keys, SamlAssertionSeen.expires_at, limit,
                  SamlAssertionSeen.expires_at < func.now() - horizon)


def _expired_sign_ins(horizon: timedelta, limit: int) -> Delete:
    tokens_left = exists().where(RefreshToken.family_id == SignIn.id)
    return _batch(SignIn, (SignIn.id,), SignIn.expires_at, limit,
                  SignIn.expires_at < func.now() - horizon, ~tokens_left)


def _auth_events(horizon: timedelta, limit: int) -> Delete:
    return _batch(AuthEvent, (AuthEvent.id,), AuthEvent.created_at, limit, AuthEvent.created_at < func.now() - horizon)


def _sent_reminders(horizon: timedelta, limit: int) -> Delete:
    keys = (SessionReminder.session_id, SessionReminder.user_id, SessionReminder.offset_seconds)
    return _batch(SessionReminder, keys, SessionReminder.sent_at, limit, SessionReminder.sent_at < func.now() - horizon)


def _days_after_the_longest_reminder(settings: Settings) -> int:
    return max(settings.reminder_offsets).days + 2


TARGETS: tuple[Target, ...] = (
    Target("outbox_events", lambda s: s.outbox_retention_days, _outbox_events),
    Target("webhook_attempts", lambda s: s.webhook_attempt_retention_days, _webhook_attempts),
    Target("idempotency_keys", lambda s: s.idempotency_retention_days, _idempotency_keys),
    Target("notifications", lambda s: s.notification_retention_days, _read_notifications),
    Target("refresh_tokens", lambda _: 1, _expired_refresh_tokens),
    Target("account_tokens", lambda _: 1, _expired_account_links),
    Target("auth_events", lambda s: s.auth_event_retention_days, _auth_events),
    Target("sign_ins", lambda _: 1, _expired_sign_ins),
    Target("sign_on_attempts", lambda _: 1, _expired_sign_on_attempts),
    Target("second_step_challenges", lambda _: 1, _expired_second_step_challenges),
    Target("saml_assertions_seen", lambda _: 1, _expired_saml_assertions),
    Target("session_reminders", _days_after_the_longest_reminder, _sent_reminders),
)
