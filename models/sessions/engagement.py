"""After a session: review eligibility and reviews, in-app notifications, mentor statistics."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin
from models.enums import EmailStatus, check_in, stored_as_text


class ReviewEligibility(Base):
    """Unlocked by the reviews worker when a session completes, one row per mentee."""

    __tablename__ = "review_eligibilities"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    mentee_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    unlocked_at: Mapped[datetime] = mapped_column(server_default=func.now())


ONE_REVIEW_PER_SESSION = "uq_reviews_session_id"


class Review(IdMixin, Base):
    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        # One review per mentee and session: the second attempt is a conflict.
        UniqueConstraint("session_id", "mentee_user_id"),
        Index("ix_reviews_mentor_created", "mentor_profile_id", "created_at", "id"),
        Index("ix_reviews_created", "created_at", "id"),  # every review, newest first, for admins
    )

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"))
    mentee_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Shown as "A mentee" instead of the author's first name and initial.
    anonymous: Mapped[bool] = mapped_column(default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Hidden by an admin: out of public lists and of the mentor's rating.
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(Text)


class Notification(IdMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # A redelivered event never notifies the same person twice.
        UniqueConstraint("event_id", "user_id", "type"),
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),
        Index("ix_notifications_user_unread", "user_id", "created_at", postgresql_where=text("read_at IS NULL")),
        Index("ix_notifications_email_due", "created_at", postgresql_where=text("email_status = 'pending'")),
        # Retention: read notifications, the longest read first.
        Index("ix_notifications_read", "read_at", postgresql_where=text("read_at IS NOT NULL")),
        CheckConstraint(check_in("email_status", EmailStatus), name="email_status_values"),
        CheckConstraint("message IS NOT NULL OR (title IS NOT NULL AND body IS NOT NULL)", name="said"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("outbox_events.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(64))
    # What it says: its message key (``workflows.wording.notice``) and its typed words (``workflows.wording.render``),
    # written for each reader in their own language, zone and locale when read. A row from before keys keeps its
    # English templates in ``title`` and ``body`` (and no key).
    message: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    words: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    read_at: Mapped[datetime | None]
    email_status: Mapped[EmailStatus] = mapped_column(
        stored_as_text(EmailStatus), default=EmailStatus.NONE, server_default=EmailStatus.NONE.value
    )
    email_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class MentorStats(Base):
    """Counters kept by the analytics worker; each event is counted once (outbox handler row)."""

    __tablename__ = "mentor_stats"
    __table_args__ = (
        CheckConstraint(
            "sessions_completed >= 0 AND minutes_completed >= 0 AND sessions_cancelled >= 0 AND sessions_missed >= 0",
            name="counters_non_negative",
        ),
        CheckConstraint("sessions_no_show >= 0", name="no_shows_non_negative"),
    )

    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentor_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    sessions_completed: Mapped[int] = mapped_column(default=0, server_default="0")
    minutes_completed: Mapped[int] = mapped_column(default=0, server_default="0")
    sessions_cancelled: Mapped[int] = mapped_column(default=0, server_default="0")
    sessions_missed: Mapped[int] = mapped_column(default=0, server_default="0")
    # Sessions someone did not come to (mentee_no_show or mentor_no_show): with the completed and the missed, the
    # sessions whose time came, over which a mentor's no-show rate is shown.
    sessions_no_show: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
