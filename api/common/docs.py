"""Documented error responses, so each route lists the errors it can return."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask_smorest import Blueprint

F = TypeVar("F", bound=Callable[..., Any])

# OpenAPI security requirement of the routes anyone may call (auth, health).
PUBLIC: list[dict[str, list[str]]] = [{}]

_RESPONSE_NAMES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
    503: "SERVICE_UNAVAILABLE",
}


def documents_errors(blp: Blueprint, *codes: int) -> Callable[[F], F]:
    """Stack ``alt_response`` for each status code, pointing at flask-smorest's error body."""

    def decorate(func: F) -> F:
        for code in codes:
            func = blp.alt_response(code, response=_RESPONSE_NAMES[code])(func)
        return func

    return decorate
