from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, IdMixin
from models.enums import HandlerStatus, check_in, stored_as_text


class OutboxEvent(IdMixin, Base):
    """A domain event, written in the same transaction as the change it records."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_aggregate", "aggregate_id", "created_at"),
        Index("ix_outbox_events_created", "created_at"),
    )

    type: Mapped[str] = mapped_column(String(64))
    aggregate_type: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[uuid.UUID]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    actor: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    handlers: Mapped[list[OutboxHandler]] = relationship(back_populates="event", cascade="all, delete-orphan")


class OutboxHandler(Base):
    """Whether one handler has done its work for one event.

    A handler's task claims its pending rows in batches; a row whose work failed
    is not claimed again before ``backoff_until``. The relay kicks the handler of
    rows still ``pending`` once ``next_attempt_at`` passes, with backoff, so lost
    messages never wait for the broker's visibility timeout.
    """

    __tablename__ = "outbox_handlers"
    __table_args__ = (
        CheckConstraint(check_in("status", HandlerStatus), name="status_values"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        # A handler's batch (its pending rows, the longest waiting first), and the relay's due rows, handler by
        # handler. No index spans every handler's pending rows: a claim planned on one would read past the
        # backlogs of all the others.
        Index("ix_outbox_handlers_pending_by_handler", "handler", "next_attempt_at",
              postgresql_where=text("status = 'pending'")),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outbox_events.id", ondelete="CASCADE"), primary_key=True
    )
    handler: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[HandlerStatus] = mapped_column(stored_as_text(HandlerStatus), default=HandlerStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    backoff_until: Mapped[datetime | None]  # set when the work failed: not claimed again before then
    done_at: Mapped[datetime | None]

    event: Mapped[OutboxEvent] = relationship(back_populates="handlers")


class IdempotencyKey(Base):
    """The first response to a creation request, replayed for retries with the same key."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        CheckConstraint("status_code BETWEEN 200 AND 599", name="status_code_range"),
        Index("ix_idempotency_keys_created", "created_at"),  # retention: the oldest first
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response_body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
