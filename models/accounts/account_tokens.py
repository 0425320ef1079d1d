"""Single-use links mailed to an address: to confirm it, or to set a new password."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin
from models.enums import AccountTokenPurpose, EmailStatus, check_in, stored_as_text


class AccountToken(IdMixin, Base):
    """One link: its token is derived from the row's id with a server key (so the mailer can write the link
    without the database ever holding it) and stored only as its SHA-256. Spent once (``used_at``)."""

    __tablename__ = "account_tokens"
    __table_args__ = (
        CheckConstraint(check_in("purpose", AccountTokenPurpose), name="purpose_values"),
        CheckConstraint(check_in("email_status", EmailStatus), name="email_status_values"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        Index("ix_account_tokens_user_purpose", "user_id", "purpose"),
        Index("ix_account_tokens_expires_at", "expires_at"),  # retention: the oldest first
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[AccountTokenPurpose] = mapped_column(stored_as_text(AccountTokenPurpose))
    # Where the link is mailed; for a verification, the address it confirms (a new email, when changing it).
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    email_status: Mapped[EmailStatus] = mapped_column(stored_as_text(EmailStatus), default=EmailStatus.PENDING)
    email_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
