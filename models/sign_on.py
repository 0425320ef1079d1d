"""Single sign-on: the organisations' OpenID providers an admin added, the email domains each owns, the programmes
each enrols its people into, the accounts linked to an identity at one, and the sign-ins under way
(``workflows.sign_on``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin
from models.enums import ParticipantRole, check_in, stored_as_text

MAX_ISSUER = 500  # an issuer URL, as discovery must repeat it exactly
MAX_CLIENT_ID = 255
MAX_DISPLAY_NAME = 100
MAX_DOMAIN = 253
MAX_DOMAINS = 20  # the email domains one provider owns
MAX_ENROLMENTS = 20  # the programme rules of one provider
MAX_CLAIM = 64
MAX_CLAIM_VALUE = 200
MAX_SUBJECT = 255  # OpenID Connect Core §2: `sub` is at most 255 ASCII characters
SESSION_HOURS = (1, 24 * 90)  # how long a sign-in through a provider may be refreshed, at most


class IdentityProvider(IdMixin, Base):
    """An organisation's OpenID provider: where it is (``issuer``, whose discovery document says the rest), this
    service's client there (the secret sealed under ``CREDENTIALS_KEYS``), and what an admin decided of it."""

    __tablename__ = "identity_providers"
    __table_args__ = (
        CheckConstraint(f"length(display_name) BETWEEN 1 AND {MAX_DISPLAY_NAME}", name="display_name_length"),
        CheckConstraint(f"length(issuer) BETWEEN 8 AND {MAX_ISSUER}", name="issuer_length"),
        CheckConstraint(f"length(client_id) BETWEEN 1 AND {MAX_CLIENT_ID}", name="client_id_length"),
        CheckConstraint(f"session_hours BETWEEN {SESSION_HOURS[0]} AND {SESSION_HOURS[1]}", name="session_hours_range"),
        CheckConstraint("(disabled_at IS NULL) OR NOT password_sign_in_off", name="enforced_only_when_enabled"),
        UniqueConstraint("issuer", name="uq_identity_providers_issuer"),
    )

    display_name: Mapped[str] = mapped_column(String(MAX_DISPLAY_NAME))
    issuer: Mapped[str] = mapped_column(String(MAX_ISSUER))
    client_id: Mapped[str] = mapped_column(String(MAX_CLIENT_ID))
    # A Fernet token of the client secret (``infra.sealing``): never shown, never logged.
    client_secret: Mapped[str] = mapped_column(Text)
    # The provider may live on a private network (a company's own): the outbound guard lets it through.
    private_network: Mapped[bool] = mapped_column(default=False, server_default="false")
    # People of its domains sign in through it only: no password sign-in, reset, registration or invitation.
    password_sign_in_off: Mapped[bool] = mapped_column(default=False, server_default="false")
    # A sign-in through it is refreshed for at most this long; then its user signs in at the provider again.
    session_hours: Mapped[int] = mapped_column(default=24 * 7, server_default="168")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    disabled_at: Mapped[datetime | None]


class ProviderDomain(Base):
    """An email domain a provider owns: addresses there are verified by it, and found their way to it. One provider
    per domain."""

    __tablename__ = "identity_provider_domains"
    __table_args__ = (
        CheckConstraint(f"length(domain) BETWEEN 3 AND {MAX_DOMAIN} AND domain = lower(domain)", name="domain_shape"),
        Index("ix_identity_provider_domains_provider", "provider_id"),
    )

    domain: Mapped[str] = mapped_column(String(MAX_DOMAIN), primary_key=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))


class ProviderEnrolment(IdMixin, Base):
    """A programme a provider enrols its people into, in a role, when a claim of theirs holds a value (a group); with
    no claim, everyone who signs in through it. Checked at every sign-in."""

    __tablename__ = "identity_provider_enrolments"
    __table_args__ = (
        CheckConstraint(check_in("role", ParticipantRole), name="role_values"),
        CheckConstraint(f"claim IS NULL OR length(claim) BETWEEN 1 AND {MAX_CLAIM}", name="claim_length"),
        CheckConstraint(f"(claim IS NULL) = (value IS NULL) AND (value IS NULL OR length(value) <= {MAX_CLAIM_VALUE})",
                        name="value_with_claim"),
        UniqueConstraint("provider_id", "programme_id", "role", name="uq_identity_provider_enrolments_rule"),
        Index("ix_identity_provider_enrolments_programme", "programme_id"),
    )

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))
    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    role: Mapped[ParticipantRole] = mapped_column(stored_as_text(ParticipantRole))
    claim: Mapped[str | None] = mapped_column(String(MAX_CLAIM))
    value: Mapped[str | None] = mapped_column(String(MAX_CLAIM_VALUE))


class UserIdentity(IdMixin, Base):
    """An account's identity at a provider: (issuer, subject) is one person there, for good. The email the provider
    gave is kept as last seen; a change of it never moves the link."""

    __tablename__ = "user_identities"
    __table_args__ = (
        CheckConstraint(f"length(subject) BETWEEN 1 AND {MAX_SUBJECT}", name="subject_length"),
        UniqueConstraint("issuer", "subject", name="uq_user_identities_issuer_subject"),
        UniqueConstraint("user_id", "provider_id", name="uq_user_identities_user_provider"),
        Index("ix_user_identities_provider", "provider_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(MAX_ISSUER))
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_sign_in_at: Mapped[datetime | None]


class SignOnAttempt(IdMixin, Base):
    """A sign-in at a provider under way: what the callback must find again (``state``, kept as its SHA-256, the
    ``nonce`` and the PKCE verifier), used once, for ten minutes; then, when an existing account must be proven by
    its password first, the identity waiting to be linked (its ticket kept as a SHA-256)."""

    __tablename__ = "sign_on_attempts"
    __table_args__ = (
        Index("ix_sign_on_attempts_expires_at", "expires_at"),  # retention: the oldest first
    )

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The browser that started it holds this in a cookie: a callback from another browser is refused.
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # Once the provider answered with an identity an existing password account's owner must prove first.
    link_ticket_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    link_claims: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The browser's timezone and locale, as a password sign-up takes them: an account made by this sign-in has them.
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(35))
