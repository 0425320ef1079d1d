"""Webhook endpoints, their messages (one per endpoint and event) and every delivery attempt."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.enums import WebhookMessageStatus, check_in, stored_as_text


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        CheckConstraint("url ~ '^https?://'", name="url_scheme"),
        CheckConstraint("consecutive_failures >= 0", name="consecutive_failures_non_negative"),
        Index("ix_webhook_endpoints_owner_created", "owner_user_id", "created_at", "id"),
        # Those failing or disabled, newest first, for admins.
        Index("ix_webhook_endpoints_troubled", "created_at", "id",
              postgresql_where=text("failing_since IS NOT NULL OR NOT enabled")),
    )

    owner_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    event_types: Mapped[list[Any]] = mapped_column(JSONB, default=lambda: ["*"], server_default='["*"]')
    secret: Mapped[str] = mapped_column(String(128))
    # The secret a rotation replaced: deliveries are signed with it too until it expires, so
    # receivers can switch over without dropping any.
    previous_secret: Mapped[str | None] = mapped_column(String(128))
    previous_secret_expires_at: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(default=True, server_default="true")
    # Made (or enabled again) while its owner's address was unconfirmed: whoever did it may not own the address, so
    # taking the address back, a password reset and signing out everywhere disable it.
    made_unconfirmed: Mapped[bool] = mapped_column(default=False, server_default="false")
    disabled_reason: Mapped[str | None] = mapped_column(Text)  # while disabled: why
    # When and why it was last disabled; kept when it is enabled again.
    last_disabled_at: Mapped[datetime | None]
    last_disabled_reason: Mapped[str | None] = mapped_column(Text)
    # The failure record, cleared by a delivery (or a new URL), not by re-enabling. ``failing_since``: the
    # first failure after a success; five days of failure disable the endpoint. ``consecutive_failures``:
    # failed attempts since; the endpoint's backoff grows with it, and no attempt starts before ``backoff_until``.
    failing_since: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    backoff_until: Mapped[datetime | None]
    # The owner's manual retries of the last minute (at most WEBHOOK_RETRIES_PER_MINUTE are kept): their rate limit.
    recent_retries_at: Mapped[list[datetime]] = mapped_column(
        ARRAY(DateTime(timezone=True)), default=list, server_default="{}")


class WebhookMessage(Base):
    """One event for one endpoint. Its id is the ``webhook-id`` header, stable across retries."""

    __tablename__ = "webhook_messages"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        CheckConstraint(check_in("status", WebhookMessageStatus), name="status_values"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_webhook_messages_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_webhook_messages_endpoint_created", "endpoint_id", "created_at", "id"),
        # An endpoint's pending messages: its busy check and its next due message, however long its history.
        Index("ix_webhook_messages_endpoint_pending", "endpoint_id", "next_attempt_at", "created_at",
              postgresql_where=text("status = 'pending'")),
        # The few messages under a lease: an endpoint's busy check, however many retries it has waiting.
        Index("ix_webhook_messages_leased", "endpoint_id", postgresql_where=text("lease_id IS NOT NULL")),
        # An event's messages: whether retention may prune it, and its ON DELETE SET NULL when it does.
        Index("ix_webhook_messages_event", "event_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("outbox_events.id", ondelete="SET NULL"))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Stored as its value in a VARCHAR(16) (the check constraint limits it), read back as the enum.
    status: Mapped[WebhookMessageStatus] = mapped_column(
        stored_as_text(WebhookMessageStatus),
        default=WebhookMessageStatus.PENDING, server_default=WebhookMessageStatus.PENDING.value,
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    # The attempt in flight: set with the lease (``next_attempt_at`` is then the lease's end), cleared by
    # its outcome; its attempt row is written under this id. Left set by a worker that died.
    lease_id: Mapped[uuid.UUID | None]
    # Its place in the batch that leased it (1 = sent first): of a dead batch's messages, the first
    # without an outcome is the one whose attempt was in flight.
    lease_rank: Mapped[int | None]
    last_status_code: Mapped[int | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class WebhookAttempt(IdMixin, Base):
    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_message", "message_id", "attempted_at"),
        Index("ix_webhook_attempts_attempted", "attempted_at"),  # retention: the oldest first
    )

    message_id: Mapped[str] = mapped_column(ForeignKey("webhook_messages.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    status_code: Mapped[int | None]
    duration_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
