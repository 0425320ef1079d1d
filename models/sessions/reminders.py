"""Reminders sent before a session, and the private calendar feeds that list a user's sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.enums import FeedRevocation, check_in, stored_as_text


class SessionReminder(Base):
    """One reminder told to one participant of a session at one offset before its start.

    The primary key is the exactly-once guarantee: the beat task inserts with ``ON CONFLICT DO
    NOTHING`` and tells only the people whose row it inserted, in the same transaction.
    """

    __tablename__ = "session_reminders"
    __table_args__ = (
        CheckConstraint("offset_seconds > 0", name="offset_positive"),
        Index("ix_session_reminders_sent_at", "sent_at"),  # retention: the oldest first
    )

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    offset_seconds: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CalendarFeed(Base):
    """A user's private iCalendar feed: the token in its URL is the credential, stored only as a SHA-256 hash.

    A revoked feed keeps its row without a token, with when and why, so its owner sees what ended it.
    """

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        CheckConstraint("(token_hash IS NULL) = (revoked_at IS NOT NULL)", name="revoked_without_token"),
        CheckConstraint(check_in("revoked_reason", FeedRevocation), name="revoked_reason_values"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[FeedRevocation | None] = mapped_column(stored_as_text(FeedRevocation))
    # Issued while its owner's address was unconfirmed: ended when the address's owner proves it (taking it back,
    # a password reset) or signs out everywhere.
    made_unconfirmed: Mapped[bool] = mapped_column(default=False, server_default="false")
