"""Refresh tokens: long-lived, opaque, single-use, and revoked a whole sign-in at a time.

A token is 256 random bits; only its SHA-256 is stored. Each use spends it and issues the next of
its *family*, the tokens of one sign-in (:mod:`workflows.accounts.sign_ins`; the family id is the sign-in's
id). A spent token presented again means two parties hold copies of one token, and the server cannot
tell which is the rightful one: the whole sign-in is ended, its newest token and the access tokens
issued with it included (OAuth 2.0 Security BCP, refresh token rotation).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import RefreshToken, SignIn, User
from workflows.accounts import enforcement, sign_ins
from workflows.accounts.sign_ins import ClientInfo
from workflows.clock import utcnow
from workflows.errors import Unauthenticated, refusal

log = structlog.get_logger(__name__)


class RefreshTokenReused(Unauthenticated):
    """A spent token came back: its sign-in is ended, and that is kept though the request fails."""

    keeps_changes: ClassVar[bool] = True

    def __init__(self, user_id: uuid.UUID) -> None:
        super().__init__(refusal("the refresh token was already used; every token of this sign-in is now revoked"))
        self.user_id = user_id


@dataclass(frozen=True)
class SignedIn:
    """A user's credentials to hand out: the sign-in the access token names, and its refresh token (once)."""

    user: User
    sign_in_id: uuid.UUID
    refresh_token: str


def _expiry(now: datetime) -> datetime:
    return now + timedelta(days=get_settings().refresh_token_ttl_days)


def _issue(db: Session, user_id: uuid.UUID, sign_in_id: uuid.UUID, expires_at: datetime) -> str:
    token = secrets.token_urlsafe(32)
    db.add(RefreshToken(id=uuid.uuid4(), user_id=user_id, family_id=sign_in_id, token_hash=sign_ins.digest(token),
                        expires_at=expires_at))
    db.flush()
    return token


def sign_in(db: Session, user: User, client: ClientInfo, *, now: datetime | None = None,
            provider_id: uuid.UUID | None = None, reauth_at: datetime | None = None) -> SignedIn:
    """A new sign-in of ``user`` (whose password was just checked, or who just signed in at ``provider_id``: then
    refreshed until ``reauth_at`` at most) and its first refresh token."""
    now = now or utcnow()
    expires_at = _expiry(now) if reauth_at is None else min(_expiry(now), reauth_at)
    started = sign_ins.start(db, user.id, client, expires_at=expires_at, now=now, provider_id=provider_id,
                             reauth_at=reauth_at)
    return SignedIn(user, started.id, _issue(db, user.id, started.id, expires_at))


def rotate(db: Session, token: str, client: ClientInfo, *, now: datetime | None = None) -> SignedIn:
    """Spend ``token`` for the next of its sign-in; 401 when it is unknown, expired, revoked, or already
    spent (which ends its sign-in, see :class:`RefreshTokenReused`)."""
    now = now or utcnow()
    family = db.scalar(select(RefreshToken.family_id).where(RefreshToken.token_hash == sign_ins.digest(token)))
    # The sign-in first, then the token (the lock order of workflows.accounts.sign_ins): of two uses of one
    # token at once, the second waits and sees it spent.
    signed_in = (db.get(SignIn, family, with_for_update={"key_share": True}, populate_existing=True)
                 if family is not None else None)
    stored = db.scalars(select(RefreshToken).where(RefreshToken.token_hash == sign_ins.digest(token)).with_for_update()
                        .execution_options(populate_existing=True)).one_or_none()
    if signed_in is None or stored is None:
        raise Unauthenticated("the refresh token is invalid")
    if db.scalar(select(User.disabled_at).where(User.id == stored.user_id)) is not None:
        raise sign_ins.AccountDisabled(stored.user_id)  # said before "revoked": disabling it ended its sign-ins
    if signed_in.revoked_at is not None or stored.revoked_at is not None:
        raise Unauthenticated("the refresh token has been revoked; sign in again")
    if stored.spent_at is not None:
        sign_ins.end_family(db, signed_in.id, now=now)
        log.warning("auth.refresh_token_reused", user_id=str(stored.user_id), sign_in_id=str(signed_in.id))
        raise RefreshTokenReused(stored.user_id)
    if signed_in.reauth_at is not None and signed_in.reauth_at <= now:
        raise Unauthenticated("your organisation asks you to sign in with it again")
    if signed_in.provider_id is None and enforcement.sign_on_only(
            db, db.scalar(select(User.email).where(User.id == stored.user_id)) or "") is not None:
        # A password sign-in of an address whose organisation turned passwords off since: it is not renewed.
        raise Unauthenticated("your organisation asks you to sign in with it: passwords are not used for this address")
    if stored.expires_at <= now:
        raise Unauthenticated("the refresh token has expired; sign in again")
    user = db.get(User, stored.user_id)
    if user is None or user.deleted_at is not None:
        raise Unauthenticated("the refresh token is invalid")
    stored.spent_at = now
    expires_at = _expiry(now) if signed_in.reauth_at is None else min(_expiry(now), signed_in.reauth_at)
    sign_ins.renewed(db, signed_in, client, expires_at=expires_at, now=now)
    return SignedIn(user, signed_in.id, _issue(db, user.id, signed_in.id, expires_at))
