"""Refresh tokens: long-lived, opaque, single-use, and revoked a whole sign-in at a time.

A token is 256 random bits; only its SHA-256 is stored. Each use spends it and issues the next of
its *family* (the tokens descended from one sign-in). A spent token presented again means two
parties hold copies of one token, and the server cannot tell which is the rightful one: the whole
family is revoked, the newest token included (OAuth 2.0 Security BCP, refresh token rotation).
Signing out and changing the password revoke every family of the user.

Access tokens already issued are not refresh tokens: they stay valid until they expire
(``ACCESS_TOKEN_TTL_SECONDS``) unless the user signs out, which ends them too.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import ClassVar

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import RefreshToken, User
from workflows.clock import utcnow
from workflows.errors import Unauthenticated

log = structlog.get_logger(__name__)


class RefreshTokenReused(Unauthenticated):
    """A spent token came back: its family is revoked, and that revocation is kept though the request fails."""

    keeps_changes: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__("the refresh token was already used; every token of this sign-in is now revoked")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(db: Session, user_id: uuid.UUID, *, family_id: uuid.UUID | None = None,
          now: datetime | None = None) -> str:
    """A new refresh token of ``family_id`` (a new family: a new sign-in); returned once, stored hashed."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.add(RefreshToken(id=uuid.uuid4(), user_id=user_id, family_id=family_id or uuid.uuid4(),
                        token_hash=_digest(token),
                        expires_at=now + timedelta(days=get_settings().refresh_token_ttl_days)))
    db.flush()
    return token


def rotate(db: Session, token: str, *, now: datetime | None = None) -> tuple[User, str]:
    """Spend ``token``: its user and the next token of its family; 401 when it is unknown, expired,
    revoked, or already spent (which revokes its family, see :class:`RefreshTokenReused`)."""
    now = now or utcnow()
    # Locked: of two uses of one token at once, the second waits and sees it spent.
    stored = db.scalars(select(RefreshToken).where(RefreshToken.token_hash == _digest(token))
                        .with_for_update()).one_or_none()
    if stored is None:
        raise Unauthenticated("the refresh token is invalid")
    if stored.revoked_at is not None:
        raise Unauthenticated("the refresh token has been revoked; sign in again")
    if stored.spent_at is not None:
        revoke_family(db, stored.family_id, now=now)
        log.warning("auth.refresh_token_reused", user_id=str(stored.user_id), family_id=str(stored.family_id))
        raise RefreshTokenReused
    if stored.expires_at <= now:
        raise Unauthenticated("the refresh token has expired; sign in again")
    user = db.get(User, stored.user_id)
    if user is None or user.deleted_at is not None:
        raise Unauthenticated("the refresh token is invalid")
    stored.spent_at = now
    return user, issue(db, stored.user_id, family_id=stored.family_id, now=now)


def revoke_family(db: Session, family_id: uuid.UUID, *, now: datetime | None = None) -> None:
    db.execute(update(RefreshToken).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
               .values(revoked_at=now or utcnow()))


def revoke_all(db: Session, user_id: uuid.UUID, *, now: datetime | None = None) -> None:
    """Every refresh token of the user stops working (sign-out, password change, account deletion)."""
    db.execute(update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
               .values(revoked_at=now or utcnow()))
