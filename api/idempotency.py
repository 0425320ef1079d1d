"""``Idempotency-Key`` on creation routes: the first response is stored and replayed.

The key is scoped to the caller. The stored row is written in the same
transaction as the resource it created, so a replay never points at something
that was rolled back. The same key with another body is refused (422); two
requests racing with one key collide on the primary key and the loser gets 409.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar, cast

from flask import Response, request
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from api.database import db_session
from api.security import current_actor
from models import IdempotencyKey
from workflows.errors import Conflict, InvalidInput

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"

_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
    "description": "Retry-safe creation: the same key and body replay the first response; "
                   "the same key with another body is refused with 422.",
}


def _request_hash() -> str:
    body = request.get_json(silent=True)
    canonical = json.dumps(
        {"method": request.method, "path": request.path, "body": body}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _without(body: Any, fields: tuple[str, ...]) -> Any:
    if isinstance(body, dict) and fields:
        return {name: value for name, value in body.items() if name not in fields}
    return body


def idempotent(blp: Blueprint, *, never_stored: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Apply outside ``blp.response`` so the finished response can be stored.

    ``never_stored`` names fields of the response kept out of the stored copy (a secret shown once):
    a replay answers without them.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
                raise InvalidInput("{header} must be 1-{max_key_length} printable characters",
                                   words={"header": HEADER, "max_key_length": MAX_KEY_LENGTH})
            db = db_session()
            actor = current_actor()
            fingerprint = _request_hash()
            stored = db.get(IdempotencyKey, (actor.user_id, key))
            if stored is not None:
                if stored.request_hash != fingerprint:
                    raise InvalidInput("this {header} was used with a different request", words={"header": HEADER})
                replay = Response(
                    json.dumps(stored.response_body), status=stored.status_code, mimetype="application/json"
                )
                replay.headers[REPLAYED_HEADER] = "true"
                return replay
            response = cast(Response, view(*args, **kwargs))
            if response.status_code < HTTPStatus.BAD_REQUEST:
                try:
                    with db.begin_nested():
                        db.add(IdempotencyKey(
                            user_id=actor.user_id, key=key, endpoint=f"{request.method} {request.path}",
                            request_hash=fingerprint, status_code=response.status_code,
                            response_body=_without(response.get_json(), never_stored),
                        ))
                        db.flush()
                except IntegrityError:
                    raise Conflict("a request with this {header} is already in progress", words={"header": HEADER},
                                   reason="idempotency_in_progress") from None
            return response

        return cast(F, blp.doc(parameters=[_PARAMETER])(wrapper))

    return decorate
