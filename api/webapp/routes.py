"""The browser app: ``web/`` served as static files, ``/`` for its page and ``/web/…`` for its modules.

The page is a client of the public API like any other; nothing here knows about bookings. The
files have no content hash in their names (there is no build step), so browsers revalidate them
on every load (``no-cache`` with an ETag answers 304 when nothing changed).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, request, send_from_directory

from api.webapp import screens
from workflows import language

WEB_ROOT = Path(__file__).resolve().parents[2] / "web"

# Only our own origin: scripts, styles, and the API the page calls. No inline script, no framing.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

blp = Blueprint("webapp", __name__)


def _served(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blp.get("/")
def page() -> Response:
    return _served(send_from_directory(WEB_ROOT, "index.html"))


@blp.get("/web/<path:filename>")
def asset(filename: str) -> Response:
    return _served(send_from_directory(WEB_ROOT, filename))


@blp.get("/words/<tag>.json")
def words(tag: str) -> Response:
    """The screens' words for a reader's tag (``fr-CA``): the nearest shipped language's, English's (none) else; the
    pseudo-locale's for ``en-XA``."""
    code = language.language_of(tag[:35])
    path = screens.table_path(code)
    response = Response(path.read_bytes() if path.exists() else screens.written_table(code),
                        mimetype="application/json")
    response.add_etag()  # revalidated on every load (no-cache), answered 304 while the words are the same
    response.make_conditional(request)
    return _served(response)
