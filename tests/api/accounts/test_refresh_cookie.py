"""The browser app's refresh cookie (``api/accounts/cookie.py``): HttpOnly, SameSite=Strict, sent only to the refresh
route, spent only from this service's own pages; API clients keep the refresh token in the body."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie

from cryptography.fernet import Fernet
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tests.api_calls import sign_in
from tests.factories.accounts import PASSWORD, UserFactory

ORIGIN = {"Origin": "http://localhost"}  # the test client's host


def set_cookie(response: TestResponse) -> SimpleCookie:
    (header,) = response.headers.getlist("Set-Cookie")
    jar = SimpleCookie()
    jar.load(header)
    return jar


def test_signing_in_for_the_browser_sets_the_refresh_token_as_a_strict_http_only_cookie_of_the_refresh_route(
        client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    response = sign_in(client, user.email, cookie=True)
    assert response.status_code == 200, response.text
    assert response.json["refresh_token"] is None and response.json["access_token"]
    cookie = set_cookie(response)["mentorship_refresh"]
    assert len(cookie.value) == 43
    assert (cookie["httponly"], cookie["samesite"], cookie["path"]) == (True, "Strict", "/api/v1/auth/refresh")
    assert cookie["secure"] == ""  # plain http here; over https it is Secure
    assert int(cookie["max-age"]) == 30 * 86400


def test_the_cookie_is_spent_from_our_own_pages_and_renewed_and_refused_from_anywhere_else(
        client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    first = set_cookie(sign_in(client, user.email, cookie=True))["mentorship_refresh"].value
    for headers in ({"Origin": "https://attacker.example"}, {"Origin": "null"}, {}):
        refused = client.post("/api/v1/auth/refresh", json={}, headers=headers)
        assert refused.status_code == 403, headers
        assert refused.json["message"] == "a refresh by cookie must come from this service's own pages"
    renewed = client.post("/api/v1/auth/refresh", json={}, headers=ORIGIN)
    assert renewed.status_code == 200 and renewed.json["refresh_token"] is None
    second = set_cookie(renewed)["mentorship_refresh"].value
    assert second != first  # rotated: the refused tries spent nothing
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {renewed.json['access_token']}"})
    assert me.json["id"] == str(user.id)


def test_logout_clears_the_cookie_and_a_refresh_with_neither_cookie_nor_token_is_422(
        client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    access = sign_in(client, user.email, cookie=True).json["access_token"]
    out = client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {access}"})
    assert out.status_code == 204
    cleared = set_cookie(out)["mentorship_refresh"]
    assert cleared.value == "" and cleared["path"] == "/api/v1/auth/refresh" and cleared["max-age"] == "0"
    assert client.get_cookie("mentorship_refresh", path="/api/v1/auth/refresh") is None
    missing = client.post("/api/v1/auth/refresh", json={}, headers=ORIGIN)
    assert missing.status_code == 422 and missing.json["errors"] == {
        "json": {"refresh_token": ["Missing data for required field."]}}


def test_a_revoked_cookie_is_cleared_with_its_401(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    access = sign_in(client, user.email, cookie=True).json["access_token"]
    stale = client.get_cookie("mentorship_refresh", path="/api/v1/auth/refresh")
    assert stale is not None
    client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {access}"})
    client.set_cookie("mentorship_refresh", stale.value, path="/api/v1/auth/refresh")
    refused = client.post("/api/v1/auth/refresh", json={}, headers=ORIGIN)
    assert refused.status_code == 401
    assert set_cookie(refused)["mentorship_refresh"]["max-age"] == "0"


def test_api_clients_keep_the_refresh_token_in_the_body(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    signed_in = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert "Set-Cookie" not in signed_in.headers and signed_in.json["refresh_token"]
    renewed = client.post("/api/v1/auth/refresh", json={"refresh_token": signed_in.json["refresh_token"]})
    assert renewed.status_code == 200 and renewed.json["refresh_token"] and "Set-Cookie" not in renewed.headers


def test_the_cookie_is_secure_whenever_the_service_is_served_over_https(
        client: FlaskClient, db: Session, configure: Callable[..., None]) -> None:
    # Behind a TLS-terminating proxy without TRUSTED_PROXIES every request looks like plain http: the service's own
    # address (or production) decides.
    user = UserFactory()
    configure(PUBLIC_URL="https://mentoring.example.com")
    assert set_cookie(sign_in(client, user.email, cookie=True))["mentorship_refresh"]["secure"] is True
    configure(PUBLIC_URL="http://127.0.0.1:8000", APP_ENV="production", JWT_SECRET_KEY="x" * 64,
              CREDENTIALS_KEYS=Fernet.generate_key().decode(), PASSWORD_HASH_PROFILE="standard")
    assert set_cookie(sign_in(client, user.email, cookie=True))["mentorship_refresh"]["secure"] is True
