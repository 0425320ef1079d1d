"""Single sign-on: the organisations' identity providers an admin added (OpenID Connect or SAML 2.0), the email
domains each owns, the programmes each enrols its people into, the accounts linked to an identity at one, the sign-ins
under way, the SAML assertions already taken, and SCIM provisioning: each provider's token and the users and groups
it provisioned (``workflows.sign_on``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
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
MAX_METADATA_URL = 2048
MAX_SAML_METADATA = 512 * 1024  # an IdP's metadata document (one entity; a federation's aggregate is not taken)
MAX_ASSERTION_ID = 256
ATTRIBUTES = ("email", "name", "groups")  # what a SAML provider's attributes are mapped to, per provider


class Protocol(StrEnum):
    OIDC = "oidc"
    SAML = "saml"


class IdentityProvider(IdMixin, Base):
    """An organisation's identity provider and what an admin decided of it.

    OpenID Connect: where it is (``issuer``, whose discovery document says the rest) and this service's client there
    (the secret sealed under ``CREDENTIALS_KEYS``). SAML 2.0: ``issuer`` is the IdP's entity id, ``saml_metadata`` its
    metadata as read (from ``metadata_url`` or pasted), ``client_id`` this service's entity id there (the SP), and
    ``client_secret`` the SP's private key, sealed, whose certificate (``sp_certificate``) the SP metadata publishes
    for signed requests and encrypted assertions."""

    __tablename__ = "identity_providers"
    __table_args__ = (
        CheckConstraint(f"length(display_name) BETWEEN 1 AND {MAX_DISPLAY_NAME}", name="display_name_length"),
        CheckConstraint(f"length(issuer) BETWEEN 8 AND {MAX_ISSUER}", name="issuer_length"),
        CheckConstraint(f"length(client_id) BETWEEN 1 AND {MAX_CLIENT_ID}", name="client_id_length"),
        CheckConstraint(f"session_hours BETWEEN {SESSION_HOURS[0]} AND {SESSION_HOURS[1]}", name="session_hours_range"),
        CheckConstraint("(disabled_at IS NULL) OR NOT password_sign_in_off", name="enforced_only_when_enabled"),
        UniqueConstraint("issuer", name="uq_identity_providers_issuer"),
        CheckConstraint(check_in("protocol", Protocol), name="protocol_values"),
        CheckConstraint("protocol = 'oidc' OR (saml_metadata IS NOT NULL AND sp_certificate IS NOT NULL)",
                        name="saml_has_metadata"),
        CheckConstraint(f"metadata_url IS NULL OR length(metadata_url) <= {MAX_METADATA_URL}",
                        name="metadata_url_length"),
        CheckConstraint(f"saml_metadata IS NULL OR length(saml_metadata) <= {MAX_SAML_METADATA}",
                        name="saml_metadata_length"),
    )

    protocol: Mapped[Protocol] = mapped_column(stored_as_text(Protocol), default=Protocol.OIDC,
                                               server_default="oidc")
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
    # SAML 2.0 only (see the class).
    saml_metadata: Mapped[str | None] = mapped_column(Text)
    metadata_url: Mapped[str | None] = mapped_column(String(MAX_METADATA_URL))
    sp_certificate: Mapped[str | None] = mapped_column(Text)
    # Which attribute (by its name or friendly name) gives the email, the name and the groups: ``ATTRIBUTES``.
    attribute_map: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    # An assertion the IdP sends unasked (IdP-initiated sign-in) is taken: off unless an admin turns it on.
    idp_initiated: Mapped[bool] = mapped_column(default=False, server_default="false")


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


class SamlAssertionSeen(Base):
    """An assertion a SAML provider sent that signed someone in: the same one again is a replay. Kept until it
    expires (its conditions' ``NotOnOrAfter``, with the clock skew allowed), then pruned by retention."""

    __tablename__ = "saml_assertions_seen"
    __table_args__ = (
        Index("ix_saml_assertions_seen_expires_at", "expires_at"),  # retention: the oldest expired first
    )

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"),
                                                   primary_key=True)
    assertion_id: Mapped[str] = mapped_column(String(MAX_ASSERTION_ID), primary_key=True)
    expires_at: Mapped[datetime]


# SCIM 2.0 provisioning (``workflows.sign_on.scim``, ``workflows.sign_on.scim_groups``).
MAX_USER_NAME = 255
MAX_EXTERNAL_ID = 255
MAX_GROUP_NAME = 200
MAX_ENTERPRISE_VALUE = 200


class ScimToken(IdMixin, Base):
    """The bearer token a provider provisions with, kept as its SHA-256 (shown once). One live token per provider:
    a new one revokes the old at once."""

    __tablename__ = "scim_tokens"
    __table_args__ = (
        Index("ix_scim_tokens_provider_live", "provider_id", unique=True, postgresql_where="revoked_at IS NULL"),
    )

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ScimUser(IdMixin, Base):
    """A user a provider provisioned: its SCIM resource (``id`` is the SCIM id), and the account it is (none until
    the resource gives an email). ``active`` false is the account deprovisioned (disabled, its sign-ins and
    participations ended); ``version`` makes the ETag."""

    __tablename__ = "scim_users"
    __table_args__ = (
        CheckConstraint(f"length(user_name) BETWEEN 1 AND {MAX_USER_NAME}", name="user_name_length"),
        UniqueConstraint("provider_id", "external_id", name="uq_scim_users_provider_external_id"),
        UniqueConstraint("user_id", name="uq_scim_users_user"),
    )

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Compared as the provider sends it, and without case (RFC 7643 §4.1.1: userName is case-insensitive).
    user_name: Mapped[str] = mapped_column(String(MAX_USER_NAME))
    external_id: Mapped[str | None] = mapped_column(String(MAX_EXTERNAL_ID))
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    # The enterprise extension's department and manager (its id and display name), and the name parts as sent.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


# userName is unique per provider without case (RFC 7643 §4.1.1), by the database too: two creates at once cannot both.
Index("ix_scim_users_provider_lower_user_name", ScimUser.provider_id, func.lower(ScimUser.user_name), unique=True)


class ScimGroup(IdMixin, Base):
    """A group a provider sends: its members are what its programme rules read as the ``groups`` claim."""

    __tablename__ = "scim_groups"
    __table_args__ = (
        CheckConstraint(f"length(display_name) BETWEEN 1 AND {MAX_GROUP_NAME}", name="display_name_length"),
        UniqueConstraint("provider_id", "display_name", name="uq_scim_groups_provider_display_name"),
        UniqueConstraint("provider_id", "external_id", name="uq_scim_groups_provider_external_id"),
    )

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String(MAX_GROUP_NAME))
    external_id: Mapped[str | None] = mapped_column(String(MAX_EXTERNAL_ID))
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ScimGroupMember(Base):
    __tablename__ = "scim_group_members"
    __table_args__ = (Index("ix_scim_group_members_user", "scim_user_id"),)

    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scim_groups.id", ondelete="CASCADE"), primary_key=True)
    scim_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scim_users.id", ondelete="CASCADE"),
                                                    primary_key=True)
    display: Mapped[str | None] = mapped_column(String(MAX_GROUP_NAME))  # as the provider names the member
