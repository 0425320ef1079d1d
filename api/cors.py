"""Cross-origin requests from the browser origins named in ``CORS_ORIGINS`` (none by default).

flask-cors adds the headers to every response under ``/api/`` (errors included) for an allowed
origin, and answers preflights. A preflight carries no token, so it is answered here before any
blueprint's login check could refuse it: an ``OPTIONS`` to a known route is Flask's automatic
``Allow`` answer, whether or not CORS is configured.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_cors import CORS

from infra.config import Settings

ALLOWED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "X-Request-ID"]
# Headers a browser script may read from a response.
EXPOSED_HEADERS = ["X-Request-ID", "Retry-After", "WWW-Authenticate", "Idempotent-Replayed"]
PREFLIGHT_MAX_AGE_SECONDS = 600


def _answer_preflight() -> Response | None:
    if request.method == "OPTIONS" and request.url_rule is not None:
        return current_app.make_default_options_response()
    return None


def init_cors(app: Flask, settings: Settings) -> None:
    app.before_request(_answer_preflight)
    if not settings.cors_origins:
        return
    # Bearer tokens, not cookies: credentials stay off, so no origin can ride on a browser's cookies.
    CORS(app, resources={r"/api/*": {"origins": list(settings.cors_origins)}}, methods=ALLOWED_METHODS,
         allow_headers=ALLOWED_HEADERS, expose_headers=EXPOSED_HEADERS, max_age=PREFLIGHT_MAX_AGE_SECONDS,
         supports_credentials=False, vary_header=True)
