"""Two-step sign-in for password accounts: a person's authenticators, their recovery codes, the challenges a password
sign-in leaves open until its second step, and where an admin requires one."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin

MAX_AUTHENTICATOR_NAME = 60
MAX_REQUIRED_DOMAIN = 253  # the longest DNS name
# The row that requires a second step of every password account, beside the rows of single domains.
EVERY_DOMAIN = "*"


class Authenticator(IdMixin, Base):
    """One authenticator app of a person (TOTP, RFC 6238): its secret sealed (``infra.sealing``), and the last time
    step a code of it was accepted at, so a code already used in its window is refused. It counts once confirmed with a
    first code; until then it is being set up and signs no one in."""

    __tablename__ = "authenticators"
    __table_args__ = (
        Index("ix_authenticators_user", "user_id"),
        CheckConstraint("length(name) BETWEEN 1 AND 60", name="name_length"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(MAX_AUTHENTICATOR_NAME))
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    confirmed_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    last_step: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class SecurityKey(IdMixin, Base):
    """One passkey or security key of a person (WebAuthn): its credential id and public key as the browser registered
    them, and the signature counter it last reported (a counter that goes back marks a cloned key)."""

    __tablename__ = "security_keys"
    __table_args__ = (
        Index("ix_security_keys_user", "user_id"),
        Index("ix_security_keys_credential", "credential_id", unique=True),
        CheckConstraint("length(name) BETWEEN 1 AND 60", name="name_length"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(MAX_AUTHENTICATOR_NAME))
    credential_id: Mapped[bytes] = mapped_column(LargeBinary)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_used_at: Mapped[datetime | None]


class RecoveryCode(IdMixin, Base):
    """One single-use recovery code, kept as a SHA-256 of the code (a random code of 50 bits: no password to stretch).
    A new set voids the old."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user_hash", "user_id", "code_hash"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    used_at: Mapped[datetime | None]


class SecondStepChallenge(IdMixin, Base):
    """A password sign-in waiting for its second step: the password was right, no sign-in exists yet. The client
    holds its token (kept here as a SHA-256); it lives minutes, is spent by the sign-in it completes, and dies after a
    few wrong codes."""

    __tablename__ = "second_step_challenges"
    __table_args__ = (
        Index("ix_second_step_challenges_token", "token_hash", unique=True),
        Index("ix_second_step_challenges_expires_at", "expires_at"),  # retention: the oldest expired first
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    # The person has no authenticator but a rule requires one: this challenge may set one up, once.
    enrolment: Mapped[bool] = mapped_column(default=False, server_default="false")
    # The random bytes a security key signs to take this step (the person has one).
    webauthn_challenge: Mapped[bytes | None] = mapped_column(LargeBinary)


class SecondStepRequirement(Base):
    """An admin requires a second step of the password accounts of one email domain, or of every one
    (``EVERY_DOMAIN``)."""

    __tablename__ = "second_step_requirements"

    domain: Mapped[str] = mapped_column(String(MAX_REQUIRED_DOMAIN), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
