from __future__ import annotations

import dataclasses
import time

import jwt
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from infra.config import get_settings
from models import User
from tests.factories.accounts import PASSWORD, UserFactory, as_caller


def register(client: FlaskClient, email: str, password: str = PASSWORD, name: str = "Ada") -> tuple[int, dict]:
    response = client.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "display_name": name}
    )
    return response.status_code, response.get_json()


def test_register_creates_user_with_argon2_hash(client: FlaskClient, db: Session) -> None:
    status, body = register(client, "Grace@Example.com")
    assert status == 201
    assert body["email"] == "grace@example.com"
    assert "password" not in body and "password_hash" not in body
    stored = db.execute(select(User).where(User.email == "grace@example.com")).scalar_one()
    assert stored.password_hash.startswith("$argon2id$")


def test_register_keeps_the_timezone_and_locale_given_and_refuses_unknown_ones(client: FlaskClient, db: Session
                                                                               ) -> None:
    body = {"email": "tokyo@example.com", "password": PASSWORD, "display_name": "Kenji"}
    for wrong in ({"timezone": "Mars/Olympus"}, {"timezone": "x" * 65}, {"locale": "not a tag"}):
        response = client.post("/api/v1/auth/register", json={**body, **wrong})
        assert response.status_code == 422, response.get_json()
        assert set(response.get_json()["errors"]["json"]) == set(wrong)
    assert db.scalar(select(func.count()).where(User.email == "tokyo@example.com")) == 0
    response = client.post("/api/v1/auth/register", json={**body, "timezone": "Asia/Tokyo", "locale": "ja-JP"})
    assert response.status_code == 201
    stored = db.execute(select(User).where(User.email == "tokyo@example.com")).scalar_one()
    assert (stored.timezone, stored.locale) == ("Asia/Tokyo", "ja-JP")
    assert register(client, "unset@example.com")[0] == 201  # neither given: neither set, as before
    unset = db.execute(select(User).where(User.email == "unset@example.com")).scalar_one()
    assert (unset.timezone, unset.locale) == (None, None)
    # No locale given: the browser's first language the service speaks, with its region; none it speaks, none.
    for email, accept, kept in (("lyon@example.com", "pt-BR,fr-CA;q=0.9,fr;q=0.8", "fr-CA"),
                                ("lisbon@example.com", "pt-PT,pt;q=0.9", None)):
        response = client.post("/api/v1/auth/register", json={**body, "email": email},
                               headers={"Accept-Language": accept}, environ_base={"REMOTE_ADDR": "10.68.0.9"})
        assert response.status_code == 201, response.get_json()
        assert db.scalar(select(User.locale).where(User.email == email)) == kept


def test_register_same_email_any_case_is_conflict(client: FlaskClient) -> None:
    assert register(client, "linus@example.com")[0] == 201
    status, body = register(client, "LINUS@example.COM")
    assert status == 409
    assert body["code"] == 409 and body["status"] == "Conflict" and "already exists" in body["message"]


def test_register_rejects_malformed_input_and_writes_nothing(client: FlaskClient, db: Session) -> None:
    before = db.scalar(select(func.count()).select_from(User))
    status, body = register(client, "not-an-email", password="short")
    assert status == 422
    assert set(body["errors"]["json"]) == {"email", "password"}
    status, body = register(client, "nul@example.com", name="a\x00b")
    assert status == 422
    assert db.scalar(select(func.count()).select_from(User)) == before


def test_a_password_worth_having_for_register_change_and_reset(client: FlaskClient, db: Session) -> None:
    # At least 12 characters, and none that zxcvbn's bundled lists of breached passwords and patterns guess easily.
    for weak, why in (("password", "at least 12"), ("12345678", "at least 12"),
                      ("password1234", "too easy to guess: this is a very common password;"),
                      ("aaaaaaaaaaaa", "too easy to guess: repeats like \"aaa\" are easy to guess;"),
                      ("qwertyuiopas", "too easy to guess"), ("iloveyou1234", "too easy to guess"),
                      ("ada.lovelace99", "too easy to guess")):
        status, body = register(client, "ada.lovelace99@example.com", password=weak, name="Ada Lovelace")
        assert status == 422 and why in str(body), (weak, body)
    assert register(client, "ada.lovelace99@example.com", password="lamp orbit kettle drift")[0] == 201
    caller = as_caller(UserFactory())
    changed = client.post("/api/v1/me/password", headers=caller.headers,
                          json={"current_password": PASSWORD, "new_password": "letmein12345"})
    assert changed.status_code == 422 and "too easy to guess" in changed.get_json()["message"]
    assert client.post("/api/v1/me/password", headers=caller.headers,
                       json={"current_password": PASSWORD, "new_password": "short one"}).status_code == 422


def test_token_then_me(client: FlaskClient, db: Session) -> None:
    user = UserFactory(email="turing@example.com")
    response = client.post("/api/v1/auth/token", json={"email": "Turing@example.com", "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == get_settings().access_token_ttl_seconds
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json() == {
        "id": str(user.id), "email": "turing@example.com", "display_name": user.display_name,
        "is_admin": False, "created_at": me.get_json()["created_at"], "mentor_profile_id": None,
        "timezone": None, "locale": None, "email_verified": True, "pending_email": None, "has_password": True,
    }


def test_token_wrong_password_or_unknown_email_is_401(client: FlaskClient, db: Session) -> None:
    UserFactory(email="hopper@example.com")
    for email, password in (("hopper@example.com", "wrong password"), ("nobody@example.com", PASSWORD)):
        response = client.post("/api/v1/auth/token", json={"email": email, "password": password})
        assert response.status_code == 401
        assert response.get_json()["message"] == "wrong email or password"


def test_protected_routes_need_a_valid_unexpired_token(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    settings = get_settings()
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    expired = jwt.encode(
        {"sub": str(user.id), "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600, "iss": "mentorship"},
        settings.jwt_secret_key, algorithm="HS256",
    )
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and response.get_json()["message"] == "the token has expired"
    forged = jwt.encode({"sub": str(user.id), "iat": int(time.time()), "exp": int(time.time()) + 60,
                         "iss": "mentorship"}, "another key of at least thirty-two bytes", algorithm="HS256")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert client.get("/api/v1/me", headers=as_caller(user).headers).status_code == 200


def test_failed_sign_ins_are_limited_per_email_and_address_with_retry_after(
    session_factory: sessionmaker[Session], db: Session
) -> None:
    settings = dataclasses.replace(get_settings(), auth_rate_limit_per_email="3/minute")
    client = create_app(settings, session_factory=session_factory).test_client()
    UserFactory(email="limited@example.com")
    statuses = [
        client.post("/api/v1/auth/token", json={"email": "limited@example.com", "password": "wrong"}).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    response = client.post("/api/v1/auth/token", json={"email": "limited@example.com", "password": PASSWORD})
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.get_json()["code"] == 429
    # Another email from the same client is still allowed.
    other = client.post("/api/v1/auth/token", json={"email": "other@example.com", "password": "wrong"})
    assert other.status_code == 401


def test_every_response_carries_a_request_id(client: FlaskClient) -> None:
    assert len(client.get("/health/live").headers["X-Request-ID"]) == 32
    assert client.get("/health/live", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
