"""Headers on every answer that say how a browser may keep and show it.

- ``/api/v1`` answers carry tokens and personal data: ``Cache-Control: no-store``, errors included; but for
  ``/api/v1/public``, whose answers are the same for everyone (its routes say how long they may be kept).
- ``Strict-Transport-Security`` when the service is public over https (``PUBLIC_URL``).
- Every HTML page gets a Content-Security-Policy (the web app sets its own; Swagger UI gets one that admits
  its one inline script by hash) and a ``Permissions-Policy`` that turns off the devices no page uses.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, request

from infra.config import Settings

HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS_POLICY = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
                      "midi=(), magnetometer=(), gyroscope=(), accelerometer=()")
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
_MAX_HTML_SCANNED = 64 * 1024
PUBLIC_API = "/api/v1/public/"


def html_policy(body: bytes) -> str:
    """Only our own origin, and the page's inline scripts by their SHA-256 (Swagger UI starts itself inline)."""
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
              for script in _INLINE_SCRIPT.findall(body)]
    return "; ".join([
        "default-src 'none'",
        " ".join(["script-src 'self'", *hashes]),
        "style-src 'self' 'unsafe-inline'",  # Swagger UI sets style attributes
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def init_security_headers(app: Flask, settings: Settings) -> None:
    https = settings.public_url.startswith("https://")

    def add_headers(response: Response) -> Response:
        if request.path.startswith("/api/v1") and not request.path.startswith(PUBLIC_API):
            response.headers["Cache-Control"] = "no-store"
        if https:
            response.headers["Strict-Transport-Security"] = HSTS
        if response.mimetype == "text/html":
            response.headers["Permissions-Policy"] = PERMISSIONS_POLICY
            if "Content-Security-Policy" not in response.headers:
                body = b"" if response.direct_passthrough or response.is_streamed else response.get_data()
                response.headers["Content-Security-Policy"] = html_policy(body[:_MAX_HTML_SCANNED])
        return response

    app.after_request(add_headers)
