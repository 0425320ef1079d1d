"""Tokens end on logout and on a password change: a per-user token version in every token."""

from __future__ import annotations

import time

import jwt
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from api.security import require_login
from infra.config import get_settings
from models import User
from tests.api_calls import bearer, sign_in, signed_in
from tests.factories.accounts import PASSWORD, UserFactory
from tests.factories.mentors import MentorProfileFactory

NEW_PASSWORD = "a longer passphrase nobody has seen"


def me_status(client: FlaskClient, headers: dict[str, str]) -> int:
    return client.get("/api/v1/me", headers=headers).status_code


def test_logout_ends_every_earlier_token_of_the_caller(client: FlaskClient, db: Session) -> None:
    user, other = UserFactory(), UserFactory()
    first = bearer(signed_in(client, user.email))
    second = bearer(signed_in(client, user.email))
    others = bearer(signed_in(client, other.email))
    response = client.post("/api/v1/auth/logout", headers=first)
    assert response.status_code == 204 and response.data == b""
    for headers in (first, second):
        revoked = client.get("/api/v1/me", headers=headers)
        assert revoked.status_code == 401
        assert "revoked" in revoked.get_json()["message"]
        assert revoked.headers["WWW-Authenticate"] == "Bearer"
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 401
    # Someone else's tokens are untouched, and signing in again gives a working token.
    assert me_status(client, others) == 200
    assert me_status(client, bearer(signed_in(client, user.email))) == 200


def test_logout_needs_a_valid_token(client: FlaskClient) -> None:
    assert client.post("/api/v1/auth/logout").status_code == 401
    assert client.post("/api/v1/auth/logout", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_password_change_ends_earlier_tokens_and_swaps_the_password(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    old = bearer(signed_in(client, user.email))
    response = client.post("/api/v1/me/password", headers=old,
                           json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert me_status(client, old) == 401
    assert me_status(client, {"Authorization": f"Bearer {body['access_token']}"}) == 200
    assert sign_in(client, user.email, NEW_PASSWORD).status_code == 200
    assert sign_in(client, user.email, PASSWORD).status_code == 401


def test_wrong_current_password_changes_nothing(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    stored_hash = user.password_hash
    headers = bearer(signed_in(client, user.email))
    response = client.post("/api/v1/me/password", headers=headers,
                           json={"current_password": "not my password", "new_password": NEW_PASSWORD})
    assert response.status_code == 403
    assert response.get_json()["message"] == "the current password is wrong"
    malformed = client.post("/api/v1/me/password", headers=headers,
                            json={"current_password": PASSWORD, "new_password": "short"})
    assert malformed.status_code == 422 and set(malformed.get_json()["errors"]["json"]) == {"new_password"}
    assert me_status(client, headers) == 200
    assert sign_in(client, user.email, PASSWORD).status_code == 200
    assert sign_in(client, user.email, NEW_PASSWORD).status_code == 401
    row = db.execute(select(User.password_hash, User.token_version).where(User.id == user.id)).one()
    assert tuple(row) == (stored_hash, 0)


def test_password_change_needs_a_valid_token(client: FlaskClient) -> None:
    response = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 401


def test_a_token_without_a_version_works_until_the_first_revocation(client: FlaskClient, db: Session) -> None:
    """Tokens issued before versions existed carry none; they end with the first logout like any other."""
    user = UserFactory()
    now = int(time.time())
    legacy = jwt.encode({"sub": str(user.id), "iat": now, "exp": now + 60, "iss": "mentorship"},
                        get_settings().jwt_secret_key, algorithm="HS256")
    headers = {"Authorization": f"Bearer {legacy}"}
    assert me_status(client, headers) == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert me_status(client, headers) == 401


def test_a_token_with_a_malformed_version_is_invalid(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    now = int(time.time())
    for version in ("0", None, 0.0, True):
        token = jwt.encode({"sub": str(user.id), "ver": version, "iat": now, "exp": now + 60, "iss": "mentorship"},
                           get_settings().jwt_secret_key, algorithm="HS256")
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, version
        assert response.get_json()["message"] == "the token is invalid"


def test_checking_the_token_version_costs_no_extra_query(client: FlaskClient, db: Session) -> None:
    """The actor, their mentor profile and their token version come from one indexed query."""
    user = MentorProfileFactory().user
    headers = bearer(signed_in(client, user.email))
    statements: list[str] = []
    connection = db.connection()

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", record)
    try:
        with client.application.test_request_context("/api/v1/me", headers=headers):
            require_login()
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
