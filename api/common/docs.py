"""Documented error responses, so each route lists the errors it can return."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from typing import Any, TypeVar, cast

from flask import Response, current_app, request
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
    413: "REQUEST_ENTITY_TOO_LARGE",
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


def deprecated(blp: Blueprint, *, since: datetime, sunset: datetime) -> Callable[[F], F]:
    """Retire an operation: ``deprecated`` in the document, and ``Deprecation`` (RFC 9745) and ``Sunset``
    (RFC 8594) headers on every answer, so clients learn it before it goes. Put it above ``blp.response``;
    :func:`add_deprecation_headers` sends them."""
    headers = {"Deprecation": f"@{int(since.timestamp())}", "Sunset": format_datetime(sunset, usegmt=True)}

    def decorate(func: F) -> F:
        setattr(func, _DEPRECATION_HEADERS, headers)
        return cast(F, blp.doc(deprecated=True)(func))

    return decorate


_DEPRECATION_HEADERS = "_deprecation_headers"


def add_deprecation_headers(response: Response) -> Response:
    """``after_request``: a deprecated operation's headers on all its answers, errors included.

    After the request rather than around the view, so that the answers given before the view runs
    carry them too: the blueprint's 401, a 413 for the body, a 422 for the arguments.
    """
    view_class = getattr(current_app.view_functions.get(request.endpoint or ""), "view_class", None)
    headers = getattr(getattr(view_class, request.method.lower(), None), _DEPRECATION_HEADERS, None)
    if headers:
        response.headers.update(headers)
    return response


# A booking's or session's history, as ``GET …/events`` shows it.
TIMELINE_EXAMPLE: dict[str, Any] = {"items": [
    {"id": "1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b", "type": "booking.requested", "actor": "mentee",
     "at": "2030-03-01T12:00:00+00:00"},
    {"id": "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d", "type": "booking.accepted", "actor": "mentor",
     "at": "2030-03-01T12:30:00+00:00"}], "next_cursor": None}
