"""Sign-ins: each device or browser a user signed in on, and whether a credential from one still holds.

A sign-in starts with ``POST /auth/token`` (or a password change) and lives while its refresh tokens
(:mod:`workflows.accounts.refresh_tokens`) are renewed. Its access tokens and stream tickets carry its id, so
ending it ends them all at once: every request reads the sign-in in the query that reads its caller
(:func:`actor_for`), a primary-key probe inside the same statement, so the check costs no extra round
trip and is as current as the database, on every API process alike. Live streams repeat the check
every few seconds, and end when it fails.

A user holds at most ``MAX_REFRESH_TOKENS_PER_USER`` live sign-ins: starting one more ends the least
recently used. Ending sign-ins revokes their refresh tokens in the same transaction. Locks are taken
in one order everywhere (the user, then sign-ins, then refresh tokens), so two of these at once wait
for each other and never deadlock.
"""

from __future__ import annotations

import hashlib
import ipaddress
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlalchemy import ColumnElement, and_, bindparam, select, update
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import MentorProfile, RefreshToken, SecondStepChallenge, SignIn, User
from models.accounts.tokens import MAX_IP_ADDRESS_LENGTH, MAX_USER_AGENT_LENGTH
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import Forbidden, NotFound, Unauthenticated, refusal


class AccountDisabled(Forbidden):
    """An administrator disabled the account: no sign-in and no refresh until one enables it again. Refused only
    once the password (or refresh token) was right, so it tells nothing to whoever does not hold them; the audit
    trail's record of the refused sign-in is kept."""

    keeps_changes: ClassVar[bool] = True

    def __init__(self, user_id: uuid.UUID) -> None:
        super().__init__(refusal("this account has been disabled by an administrator"))
        self.user_id = user_id


@dataclass(frozen=True)
class Credential:
    """What a bearer token or a stream ticket proves: its user, their token version when it was issued,
    and the sign-in it belongs to (``None`` only for tokens issued before sign-ins were recorded, which
    end with the token version alone)."""

    user_id: uuid.UUID
    token_version: int
    sign_in_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ClientInfo:
    """What a client says of itself, as kept: printable, bounded, and ``None`` when unknown."""

    user_agent: str | None = None
    ip_address: str | None = None

    @classmethod
    def of(cls, user_agent: str | None, ip_address: str | None) -> ClientInfo:
        agent = "".join(c for c in user_agent or "" if unicodedata.category(c)[0] != "C").strip()
        try:
            address: str | None = str(ipaddress.ip_address(ip_address or ""))
        except ValueError:
            address = None
        if address is not None and len(address) > MAX_IP_ADDRESS_LENGTH:
            address = None  # an IPv6 address with a long zone name: not one a user would recognise anyway
        return cls(agent[:MAX_USER_AGENT_LENGTH] or None, address)


@dataclass(frozen=True)
class ListedSignIn:
    """One live sign-in as its user sees it: never a token."""

    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip_address: str | None
    current: bool


# The credential's user, their token version and mentor profile, and its sign-in: one query, built once.
# The sign-in is joined by primary key and must be the user's own.
_ACTOR = (
    select(User.id, User.is_admin, User.token_version, MentorProfile.id, SignIn.id, SignIn.revoked_at,
           SignIn.reauth_at)
    .outerjoin(MentorProfile, MentorProfile.user_id == User.id)
    .outerjoin(SignIn, and_(SignIn.id == bindparam("sign_in_id"), SignIn.user_id == User.id))
    .where(User.id == bindparam("user_id"))
)


def actor_for(db: Session, credential: Credential) -> Actor:
    """The actor a credential stands for; :class:`Unauthenticated` once it no longer holds."""
    row = db.execute(_ACTOR, {"user_id": credential.user_id, "sign_in_id": credential.sign_in_id}).one_or_none()
    if row is None:
        raise Unauthenticated("the token's user no longer exists")
    user_id, is_admin, token_version, mentor_profile_id, sign_in_id, revoked_at, reauth_at = row
    if token_version != credential.token_version:
        raise Unauthenticated("the token has been revoked (signed out, or the password changed)")
    if credential.sign_in_id is not None and (sign_in_id is None or revoked_at is not None):
        raise Unauthenticated("the token's sign-in has ended (signed out there, or its refresh token was reused)")
    if reauth_at is not None and reauth_at <= utcnow():
        raise Unauthenticated("your organisation asks you to sign in with it again")
    return Actor(user_id=user_id, is_admin=is_admin, mentor_profile_id=mentor_profile_id)


def digest(value: str) -> str:
    """How a secret a client holds is kept (a refresh token, a mailed link's token, a second step's challenge, a
    sign-on's state): its SHA-256, hex."""
    return hashlib.sha256(value.encode()).hexdigest()


def _live(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return SignIn.revoked_at.is_(None), SignIn.expires_at > now


def start(db: Session, user_id: uuid.UUID, client: ClientInfo, *, expires_at: datetime, now: datetime,
          provider_id: uuid.UUID | None = None, reauth_at: datetime | None = None) -> SignIn:
    """A new sign-in of the user (through an organisation's provider, refreshed until ``reauth_at`` at most, when
    ``provider_id`` is given); beyond ``MAX_REFRESH_TOKENS_PER_USER`` live ones, the least recently used are
    ended."""
    # The user's row, locked: two sign-ins at once count one after the other, so the cap holds.
    # FOR NO KEY UPDATE, so a refresh inserting its token (a key share on the user) never waits on it.
    # A disable committed meanwhile is seen here, under the lock: no sign-in starts after it.
    if db.scalar(select(User.disabled_at).where(User.id == user_id).with_for_update(key_share=True)) is not None:
        raise AccountDisabled(user_id)
    sign_in = SignIn(id=uuid.uuid4(), user_id=user_id, created_at=now, last_used_at=now, expires_at=expires_at,
                     user_agent=client.user_agent, ip_address=client.ip_address, provider_id=provider_id,
                     reauth_at=reauth_at)
    db.add(sign_in)
    db.flush()
    keep = get_settings().max_refresh_tokens_per_user - 1  # the others kept besides the new one
    beyond = (select(SignIn.id).where(SignIn.user_id == user_id, SignIn.id != sign_in.id, *_live(now))
              .order_by(SignIn.last_used_at.desc(), SignIn.created_at.desc(), SignIn.id).offset(keep))
    _end(db, SignIn.id.in_(beyond), now=now)
    return sign_in


def renewed(db: Session, sign_in: SignIn, client: ClientInfo, *, expires_at: datetime, now: datetime) -> None:
    """A refresh used the sign-in: it lives until its new token expires; the client is as last seen."""
    sign_in.last_used_at = now
    sign_in.expires_at = expires_at
    sign_in.user_agent = client.user_agent or sign_in.user_agent
    sign_in.ip_address = client.ip_address or sign_in.ip_address


def list_sign_ins(db: Session, actor: Actor, current: uuid.UUID | None, *,
                  now: datetime | None = None) -> list[ListedSignIn]:
    """The actor's live sign-ins, most recently used first; ``current`` marks the caller's own."""
    rows = db.scalars(select(SignIn).where(SignIn.user_id == actor.user_id, *_live(now or utcnow()))
                      .order_by(SignIn.last_used_at.desc(), SignIn.created_at.desc(), SignIn.id)).all()
    return [ListedSignIn(row.id, row.created_at, row.last_used_at, row.expires_at, row.user_agent, row.ip_address,
                         row.id == current) for row in rows]


def end_sign_in(db: Session, actor: Actor, sign_in_id: uuid.UUID, *, now: datetime | None = None) -> None:
    """End one of the actor's live sign-ins; 404 for one that is not theirs, not known, or over already."""
    now = now or utcnow()
    if not _end(db, SignIn.id == sign_in_id, SignIn.user_id == actor.user_id, SignIn.expires_at > now, now=now):
        raise NotFound("sign-in not found")


def end_family(db: Session, sign_in_id: uuid.UUID, *, now: datetime | None = None) -> None:
    """End one sign-in whoever asks: its refresh token came back after being spent."""
    _end(db, SignIn.id == sign_in_id, now=now or utcnow())


def end_all(db: Session, user_id: uuid.UUID, *, now: datetime | None = None) -> None:
    """Every credential of the user ends: the token version moves on (tokens of no sign-in, tickets,
    and any not yet checked) and every sign-in is ended with its refresh tokens. Used by signing out
    everywhere, changing the password and deleting the account. A sign-in waiting for its second step ends as
    well."""
    # An ORM-enabled UPDATE: a loaded User of this session sees the new version (it may sign in again).
    db.execute(update(User).where(User.id == user_id).values(token_version=User.token_version + 1))
    now = now or utcnow()
    _end(db, SignIn.user_id == user_id, now=now)
    # A password sign-in waiting for its second step ends too: it was begun with what is now ended.
    db.execute(update(SecondStepChallenge).where(SecondStepChallenge.user_id == user_id,
                                                 SecondStepChallenge.used_at.is_(None)).values(used_at=now))


def end_by_provider(db: Session, provider_id: uuid.UUID, *, now: datetime | None = None) -> int:
    """Every live sign-in made through a provider ends (an admin disabled it); how many."""
    return len(_end(db, SignIn.provider_id == provider_id, now=now or utcnow()))


def end_by_ids(db: Session, sign_in_ids: list[uuid.UUID], *, now: datetime | None = None) -> int:
    """These sign-ins end (a SAML IdP's single logout named them); how many were live."""
    return len(_end(db, SignIn.id.in_(sign_in_ids), now=now or utcnow())) if sign_in_ids else 0


def _end(db: Session, *conditions: ColumnElement[bool], now: datetime) -> list[uuid.UUID]:
    """Revoke the live sign-ins meeting ``conditions`` (the provider's ID token kept for signing out there goes with
    them), then their refresh tokens; the ids ended."""
    ended = list(db.scalars(update(SignIn).where(SignIn.revoked_at.is_(None), *conditions)
                            .values(revoked_at=now, id_token=None).returning(SignIn.id),
                            execution_options={"synchronize_session": False}))
    if ended:
        db.execute(update(RefreshToken).where(RefreshToken.family_id.in_(ended), RefreshToken.revoked_at.is_(None))
                   .values(revoked_at=now), execution_options={"synchronize_session": False})
    return ended
