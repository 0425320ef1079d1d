"""Bearer tokens (PyJWT) and the authenticated actor of a request.

A token names its user, their token version and its sign-in (``sid``); whether that still holds is
decided by :func:`workflows.accounts.sign_ins.actor_for`, one query per request.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from flask import g, request

from api.database import db_session
from infra.config import Settings, get_settings
from workflows.accounts.sign_ins import Credential, actor_for
from workflows.actors import Actor
from workflows.errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = "mentorship"


def issue_token(user_id: uuid.UUID, token_version: int, sign_in_id: uuid.UUID | None = None,
                settings: Settings | None = None) -> tuple[str, int]:
    """A signed token for the user at their current ``token_version`` (``users.token_version``), of the
    sign-in ``sign_in_id``: ending that sign-in ends the token."""
    settings = settings or get_settings()
    now = int(time.time())
    ttl = settings.access_token_ttl_seconds
    claims: dict[str, Any] = {"sub": str(user_id), "ver": token_version, "iat": now, "exp": now + ttl, "iss": ISSUER}
    if sign_in_id is not None:
        claims["sid"] = str(sign_in_id)
    return jwt.encode(claims, settings.jwt_secret_key, algorithm=ALGORITHM), ttl


def _credential_from_token(token: str) -> Credential:
    """What a token signed by us and not expired proves."""
    try:
        claims = jwt.decode(
            token,
            get_settings().jwt_secret_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
        user_id = uuid.UUID(claims["sub"])
        sign_in = claims.get("sid")
        sign_in_id = uuid.UUID(sign_in) if sign_in is not None else None
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the token has expired") from None
    except (jwt.InvalidTokenError, ValueError, TypeError, AttributeError):
        raise Unauthenticated("the token is invalid") from None
    # Tokens issued before versions existed carry none: they are version 0 until the first revocation.
    # Those issued before sign-ins were recorded carry no sign-in: the version alone ends them.
    version = claims.get("ver", 0)
    if type(version) is not int:
        raise Unauthenticated("the token is invalid")
    return Credential(user_id, version, sign_in_id)


def require_login() -> None:
    """``before_request`` hook of every protected blueprint: sets ``g.actor``."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer token")
    act_as(_credential_from_token(token.strip()))


def act_as(credential: Credential) -> None:
    """Set ``g.actor`` for a credential: 401 if it has been revoked since it was issued."""
    g.actor = actor_for(db_session(), credential)
    g.credential = credential


def current_credential() -> Credential:
    """The credential the request authenticated with: what a credential derived from it carries."""
    credential: Credential = g.credential
    return credential


def current_actor() -> Actor:
    actor: Actor = g.actor
    return actor
