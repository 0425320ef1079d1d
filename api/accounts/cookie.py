"""The browser app's refresh token, kept where its scripts cannot read it.

A client that asks for it (``refresh_cookie: true`` when it signs in or changes its password) gets its
refresh token as an ``HttpOnly`` cookie, ``SameSite=Strict``, ``Secure`` whenever the service is served over https
(``PUBLIC_URL`` is https, ``APP_ENV`` is production, or the request itself came over https), sent only to
``POST /auth/refresh``; the access token then lives in the page's memory. A refresh by cookie must
come from this service's own origin (its ``Origin`` header names this host): a page elsewhere cannot
make a browser spend the cookie (CSRF), even where ``SameSite`` is not enforced. API clients keep
sending refresh tokens in the body, as before.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Response, after_this_request, request

from api.errors import http_error
from infra.config import get_settings
from workflows.errors import Forbidden

NAME = "mentorship_refresh"
PATH = "/api/v1/auth/refresh"


def secure() -> bool:
    """Whether the cookie is ``Secure``: a TLS-terminating proxy without ``TRUSTED_PROXIES`` makes every request look
    like plain http, so the service's own address and environment decide too."""
    settings = get_settings()
    return request.is_secure or settings.public_url.startswith("https://") or settings.app_env == "production"


def set_refresh_cookie(token: str) -> None:
    """Send ``token`` as the refresh cookie with this response."""
    max_age = get_settings().refresh_token_ttl_days * 86400

    @after_this_request
    def _set(response: Response) -> Response:
        response.set_cookie(NAME, token, max_age=max_age, path=PATH, secure=secure(), httponly=True,
                            samesite="Strict")
        return response


def clear_refresh_cookie() -> None:
    """End the refresh cookie with this response (whatever the response's status)."""

    @after_this_request
    def _clear(response: Response) -> Response:
        response.delete_cookie(NAME, path=PATH, secure=secure(), httponly=True, samesite="Strict")
        return response


def refresh_token_from_cookie() -> str:
    """The refresh cookie's token, for a request from this service's own pages; 403 from anywhere else, and
    422 with neither a cookie nor a token in the body (as before the cookie existed)."""
    token = request.cookies.get(NAME)
    if not token:
        raise http_error(422, "refresh_token: Missing data for required field.",
                         errors_={"json": {"refresh_token": ["Missing data for required field."]}})
    origin = request.headers.get("Origin")
    if origin is None or urlsplit(origin).netloc != request.host:
        raise Forbidden("a refresh by cookie must come from this service's own pages")
    return token


def deliver(body: dict[str, Any], *, cookie: bool) -> dict[str, Any]:
    """The token answer: as it is, or with its refresh token moved into the cookie."""
    if not cookie:
        return body
    set_refresh_cookie(body["refresh_token"])
    return {**body, "refresh_token": None}
