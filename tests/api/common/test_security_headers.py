"""What every answer tells the browser: API answers are never stored, pages say where scripts come from and
which devices they may not use, and a public https service asks for https only."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from infra.config import get_settings
from tests.factories.accounts import UserFactory, as_caller


def test_api_answers_are_never_stored_errors_included(client: FlaskClient, db: Session) -> None:
    caller = as_caller(UserFactory())
    answers = [client.get("/api/v1/me", headers=caller.headers), client.get("/api/v1/me"),
               client.post("/api/v1/auth/token", json={"email": caller.user.email, "password": "wrong password"}),
               client.get("/api/v1/notifications", headers=caller.headers)]
    assert [answer.status_code for answer in answers] == [200, 401, 401, 200]
    assert all(answer.headers["Cache-Control"] == "no-store" for answer in answers)


def test_every_html_page_has_a_content_security_policy_and_a_permissions_policy(client: FlaskClient) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and docs.mimetype == "text/html"
    policy = docs.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    (inline,) = re.findall(rb"<script>(.*?)</script>", docs.get_data(), re.DOTALL)
    assert f"'sha256-{base64.b64encode(hashlib.sha256(inline).digest()).decode()}'" in policy
    app = client.get("/")
    app.close()
    assert "script-src 'self';" in app.headers["Content-Security-Policy"]  # the web app's own, no inline script
    for page in (docs, app):
        permissions = page.headers["Permissions-Policy"]
        assert "camera=()" in permissions and "geolocation=()" in permissions


def test_a_public_https_service_sends_strict_transport_security(session_factory: sessionmaker[Session]) -> None:
    assert "Strict-Transport-Security" not in create_app(
        get_settings(), session_factory=session_factory).test_client().get("/health/live").headers
    settings = dataclasses.replace(get_settings(), public_url="https://mentorship.example.com")
    answer = create_app(settings, session_factory=session_factory).test_client().get("/health/live")
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
