"""SCIM 2.0 provisioning by an organisation's identity provider (``workflows.sign_on.scim_*``): the bearer token it
provisions with, the users it provisioned (each an account of this service, linked to the provider) and the groups
it sends, whose members the provider's programme rules read as the ``groups`` claim."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin

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
        UniqueConstraint("provider_id", "user_name", name="uq_scim_users_provider_user_name"),
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


Index("ix_scim_users_provider_lower_user_name", ScimUser.provider_id, func.lower(ScimUser.user_name))


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
