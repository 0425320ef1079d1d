"""The audit trail of credentials: each sign-in, failure, lock-out, sign-out, reused refresh token and password
change is recorded with the user (when known) and the client address, on committed data, refusals included,
and listed to admins only. Never an email, a password or a token."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from infra.config import get_settings
from models import AuthEvent
from tests.factories.accounts import PASSWORD, UserFactory, as_caller

CLIENT = "203.0.113.90"


def test_credentials_events_are_recorded_refusals_included_and_shown_to_admins(
        seed: Session, committed: sessionmaker[Session]) -> None:
    user, admin = UserFactory(email="grace@example.com"), UserFactory(is_admin=True)
    seed.commit()
    settings = dataclasses.replace(get_settings(), auth_rate_limit_per_email="2/minute")
    client = create_app(settings, session_factory=committed).test_client()
    env = {"REMOTE_ADDR": CLIENT}

    def post(path: str, body: dict[str, Any], **headers: str) -> Any:
        return client.post(f"/api/v1{path}", json=body, environ_base=env, headers=headers)

    assert post("/auth/token", {"email": "nobody@example.com", "password": "guess"}).status_code == 401
    statuses = [post("/auth/token", {"email": user.email, "password": f"guess {i}"}).status_code for i in range(3)]
    assert statuses == [401, 401, 429]
    signed_in = post("/auth/token", {"email": user.email, "password": PASSWORD}, **{"X-Forwarded-For": "x"})
    assert signed_in.status_code == 429  # still locked out from this address: the owner signs in elsewhere
    elsewhere = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "198.51.100.90"})
    assert elsewhere.status_code == 200
    pair = elsewhere.get_json()
    assert post("/auth/refresh", {"refresh_token": pair["refresh_token"]}).status_code == 200
    assert post("/auth/refresh", {"refresh_token": pair["refresh_token"]}).status_code == 401  # reused
    fresh = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "198.51.100.90"}).get_json()
    bearer = {"Authorization": f"Bearer {fresh['access_token']}"}
    changed = post("/me/password", {"current_password": PASSWORD, "new_password": "a brand new passphrase"}, **bearer)
    assert changed.status_code == 200
    assert post("/auth/logout", {}, Authorization=f"Bearer {changed.get_json()['access_token']}").status_code == 204

    with committed() as db:
        rows = db.execute(select(AuthEvent.kind, AuthEvent.user_id, AuthEvent.client_address)
                          .order_by(AuthEvent.created_at, AuthEvent.id)).all()
    assert [(row.kind.value, row.user_id) for row in rows] == [
        ("sign_in_failed", None), ("sign_in_failed", user.id), ("sign_in_failed", user.id), ("locked_out", user.id),
        ("locked_out", user.id), ("signed_in", user.id), ("refresh_reused", user.id), ("signed_in", user.id),
        ("password_changed", user.id), ("signed_out", user.id)]
    assert {row.client_address for row in rows} == {CLIENT, "198.51.100.90"}

    url = f"/api/v1/admin/audit/auth-events?user_id={user.id}&limit=100"
    assert client.get(url, headers=as_caller(user).headers).status_code in {401, 403}
    listed = client.get(url, headers=as_caller(admin).headers)
    assert listed.status_code == 200
    assert [item["kind"] for item in listed.get_json()["items"]] == [row.kind.value for row in reversed(rows[1:])]
    failed = client.get("/api/v1/admin/audit/auth-events?kind=sign_in_failed", headers=as_caller(admin).headers)
    assert len(failed.get_json()["items"]) == 3
    text = json.dumps(listed.get_json())
    assert user.email not in text and PASSWORD not in text and pair["refresh_token"] not in text
