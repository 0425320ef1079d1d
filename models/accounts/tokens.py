"""Sign-ins and their refresh tokens: opaque, stored only as a hash, rotated on each use, revoked by sign-in."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin

# What is kept of the client that signed in: enough to recognise it, bounded whatever it sends.
MAX_USER_AGENT_LENGTH = 255
MAX_IP_ADDRESS_LENGTH = 45  # the longest textual IPv6 address, IPv4-mapped form included


class SignIn(IdMixin, Base):
    """One sign-in of a user (one device or browser): the family of refresh tokens descended from one
    ``POST /auth/token``, and the access tokens issued with them, which carry its id.

    Revoking it ends all of them at once: each request checks ``revoked_at`` in the same query that
    reads the caller. ``expires_at`` is its newest refresh token's; ``last_used_at`` moves on each refresh.
    """

    __tablename__ = "sign_ins"
    __table_args__ = (
        Index("ix_sign_ins_user", "user_id"),
        Index("ix_sign_ins_expires_at", "expires_at"),  # retention: the oldest expired first
        Index("ix_sign_ins_provider_live", "provider_id",
              postgresql_where="provider_id IS NOT NULL AND revoked_at IS NULL"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_used_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # The client's own words and address, at sign-in and then at each refresh; either may be unknown.
    user_agent: Mapped[str | None] = mapped_column(String(MAX_USER_AGENT_LENGTH))
    ip_address: Mapped[str | None] = mapped_column(String(MAX_IP_ADDRESS_LENGTH))
    # A sign-in through an organisation's provider: which one (disabling it ends the sign-in), and when its user must
    # sign in there again (no refresh after it).
    provider_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))
    reauth_at: Mapped[datetime | None]
    # What signing out at the provider needs, kept only while the sign-in lives (cleared when it ends): an OpenID
    # provider's ID token (sent back as ``id_token_hint``), or a SAML provider's NameID and SessionIndex as JSON
    # (``workflows.sign_on.saml.logout_key``: a LogoutRequest from the IdP finds the sign-ins it ends by it).
    id_token: Mapped[str | None] = mapped_column(Text)


class RefreshToken(IdMixin, Base):
    """One refresh token. Every token of one sign-in shares its ``family_id`` (the sign-in's id):
    presenting a token that was already spent revokes the whole sign-in, so a stolen token dies with
    the one it was copied from."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_family", "family_id"),
        Index("ix_refresh_tokens_user", "user_id"),
        Index("ix_refresh_tokens_expires_at", "expires_at"),  # retention: the oldest expired first
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    family_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sign_ins.id", ondelete="CASCADE"))
    # SHA-256 of the token, hex: the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    spent_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
