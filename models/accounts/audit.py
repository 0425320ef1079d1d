from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin
from models.enums import AuthEventKind, check_in, stored_as_text

MAX_REASON = 32
MAX_DETAIL = 300


class AdminAction(IdMixin, Base):
    """What an administrator did to someone else's account, session or review, and why: the audit trail."""

    __tablename__ = "admin_actions"
    __table_args__ = (
        Index("ix_admin_actions_created", "created_at", "id"),
        Index("ix_admin_actions_target", "target_id", "created_at"),
    )

    # Kept when the admin's account goes: the trail outlives the people in it.
    admin_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[uuid.UUID]
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AuthEvent(IdMixin, Base):
    """A sign-in, a failed one, a lock-out, a password or email change: who (when known) and from where.

    Never the password, a token or an email address: a failed sign-in of an unknown address has no user.
    """

    __tablename__ = "auth_events"
    __table_args__ = (
        CheckConstraint(check_in("kind", AuthEventKind), name="kind_values"),
        Index("ix_auth_events_created", "created_at", "id"),
        Index("ix_auth_events_user", "user_id", "created_at"),
        Index("ix_auth_events_provider", "provider_id", "created_at", postgresql_where="provider_id IS NOT NULL"),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[AuthEventKind] = mapped_column(stored_as_text(AuthEventKind, length=32))
    # The client address as counted by the rate limits (an IPv6 client's /64).
    client_address: Mapped[str | None] = mapped_column(String(64))
    # A refused sign-in through an organisation's provider: which provider, the check that refused it (``aud``,
    # ``iss``, ``signature``, ``nonce``, ``state``, ``expired``…) and what it found, for the admin who debugs it.
    provider_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity_providers.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(MAX_REASON))
    detail: Mapped[str | None] = mapped_column(String(MAX_DETAIL))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
