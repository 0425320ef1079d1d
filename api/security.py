"""Bearer tokens (PyJWT) and the authenticated actor of a request."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from flask import g, request
from sqlalchemy import bindparam, select

from api.database import db_session
from infra.config import Settings, get_settings
from models import MentorProfile, User
from workflows.actors import Actor
from workflows.errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = "mentorship"


def issue_token(user_id: uuid.UUID, token_version: int, settings: Settings | None = None) -> tuple[str, int]:
    """A signed token for the user at their current ``token_version`` (``users.token_version``)."""
    settings = settings or get_settings()
    now = int(time.time())
    ttl = settings.access_token_ttl_seconds
    claims: dict[str, Any] = {"sub": str(user_id), "ver": token_version, "iat": now, "exp": now + ttl, "iss": ISSUER}
    return jwt.encode(claims, settings.jwt_secret_key, algorithm=ALGORITHM), ttl


def _claims_from_token(token: str) -> tuple[uuid.UUID, int]:
    """The user id and token version of a token signed by us and not expired."""
    try:
        claims = jwt.decode(
            token,
            get_settings().jwt_secret_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
        user_id = uuid.UUID(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the token has expired") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthenticated("the token is invalid") from None
    # Tokens issued before versions existed carry none: they are version 0 until the first revocation.
    version = claims.get("ver", 0)
    if type(version) is not int:
        raise Unauthenticated("the token is invalid")
    return user_id, version


# The token's user, their token version and their mentor profile, if any: one query, built once.
_ACTOR = (
    select(User.id, User.is_admin, User.token_version, MentorProfile.id)
    .outerjoin(MentorProfile, MentorProfile.user_id == User.id)
    .where(User.id == bindparam("user_id"))
)


def require_login() -> None:
    """``before_request`` hook of every protected blueprint: sets ``g.actor``."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer token")
    user_id, version = _claims_from_token(token.strip())
    act_as(user_id, version)


def act_as(user_id: uuid.UUID, token_version: int) -> None:
    """Set ``g.actor`` for a credential of the user at ``token_version``: 401 if it has been revoked since."""
    row = db_session().execute(_ACTOR, {"user_id": user_id}).one_or_none()
    if row is None:
        raise Unauthenticated("the token's user no longer exists")
    if row[2] != token_version:
        raise Unauthenticated("the token has been revoked (signed out, or the password changed)")
    g.actor = Actor(user_id=row[0], is_admin=row[1], mentor_profile_id=row[3])
    g.token_version = token_version


def current_token_version() -> int:
    """The token version the request authenticated with: what a credential derived from it carries."""
    version: int = g.token_version
    return version


def current_actor() -> Actor:
    actor: Actor = g.actor
    return actor
