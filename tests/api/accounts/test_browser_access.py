"""Browsers: CORS for the configured origins only, and single-use tickets for EventSource streams."""

from __future__ import annotations

import dataclasses
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from infra.config import get_settings
from tests.factories.accounts import PASSWORD, UserFactory, as_caller

ORIGIN = "https://app.example.com"
PREFLIGHT = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "Authorization, Idempotency-Key, Content-Type"}


def app_with(session_factory: sessionmaker[Session], **changes: object) -> Flask:
    app = create_app(dataclasses.replace(get_settings(), **changes), session_factory=session_factory)
    app.testing = True
    return app


@pytest.fixture
def cors_client(session_factory: sessionmaker[Session]) -> FlaskClient:
    return app_with(session_factory, cors_origins=(ORIGIN, "http://localhost:5173")).test_client()


def test_a_preflight_from_an_allowed_origin_is_answered(cors_client: FlaskClient) -> None:
    for method, url in (("POST", "/api/v1/bookings"), ("PATCH", "/api/v1/me"), ("DELETE", "/api/v1/me"),
                        ("PUT", "/api/v1/mentor-profiles/6f1c2f5e-8d4b-4a57-9a53-2a8b4f0f3c11/availability")):
        response = cors_client.options(url, headers={**PREFLIGHT, "Access-Control-Request-Method": method})
        assert response.status_code == 200, (url, response.status_code)
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert method in response.headers["Access-Control-Allow-Methods"]
        allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"authorization", "idempotency-key", "content-type"} <= allowed
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert "Origin" in response.headers.get("Vary", "")


def test_responses_to_an_allowed_origin_carry_cors_headers_errors_included(cors_client: FlaskClient, db: Session
                                                                          ) -> None:
    caller = as_caller(UserFactory())
    ok = cors_client.get("/api/v1/me", headers={**caller.headers, "Origin": ORIGIN})
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Request-ID" in ok.headers["Access-Control-Expose-Headers"]
    refused = cors_client.get("/api/v1/me", headers={"Origin": ORIGIN})
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_other_origins_get_no_cors_headers(cors_client: FlaskClient) -> None:
    response = cors_client.options("/api/v1/bookings", headers={**PREFLIGHT, "Origin": "https://evil.example.net"})
    assert "Access-Control-Allow-Origin" not in response.headers
    response = cors_client.get("/api/v1/me", headers={"Origin": "https://evil.example.net"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_without_cors_origins_no_response_carries_cors_headers(client: FlaskClient) -> None:
    assert get_settings().cors_origins == ()
    response = client.options("/api/v1/bookings", headers=PREFLIGHT)
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Origin" not in client.get("/api/v1/me", headers={"Origin": ORIGIN}).headers


# --- stream tickets --------------------------------------------------------------------------------


def ticket_for(client: FlaskClient, headers: dict[str, str]) -> dict:
    response = client.post("/api/v1/events/tickets", headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_stream(client: FlaskClient, query: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    response = client.get(f"/api/v1/events/stream?{query}", headers=headers or {})
    body = response.get_data(as_text=True)  # the stream ends after SSE_MAX_SECONDS (short in tests)
    response.close()
    return response.status_code, body


def test_a_ticket_opens_one_stream_once(client: FlaskClient, db: Session) -> None:
    caller = as_caller(UserFactory())
    issued = ticket_for(client, caller.headers)
    assert set(issued) == {"ticket", "expires_at"} and issued["ticket"] not in caller.headers["Authorization"]
    status, body = open_stream(client, f"ticket={issued['ticket']}")
    assert status == 200 and body.startswith("retry:")
    status, body = open_stream(client, f"ticket={issued['ticket']}")
    assert status == 401 and "used or expired" in body
    assert client.post("/api/v1/events/tickets").status_code == 401


def test_a_ticket_expires(session_factory: sessionmaker[Session], db: Session) -> None:
    client = app_with(session_factory, event_ticket_ttl_seconds=1).test_client()
    caller = as_caller(UserFactory())
    stale = ticket_for(client, caller.headers)
    fresh = ticket_for(client, caller.headers)
    assert open_stream(client, f"ticket={fresh['ticket']}")[0] == 200
    time.sleep(1.2)
    assert open_stream(client, f"ticket={stale['ticket']}")[0] == 401


def test_a_bearer_token_is_never_accepted_in_the_url(client: FlaskClient, db: Session) -> None:
    caller = as_caller(UserFactory())
    token = caller.headers["Authorization"].removeprefix("Bearer ")
    for query in (f"ticket={token}", f"access_token={token}", f"token={token}"):
        assert open_stream(client, query)[0] == 401, query
    # A wrong ticket is refused even with a good header: the URL's credential is the one used.
    assert open_stream(client, "ticket=nope", caller.headers)[0] == 401


def test_signing_out_voids_unused_tickets(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    token = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    issued = ticket_for(client, headers)
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    status, body = open_stream(client, f"ticket={issued['ticket']}")
    assert status == 401 and "revoked" in body


def test_a_ticket_of_an_ended_sign_in_is_refused(client: FlaskClient, db: Session) -> None:
    user = UserFactory()
    first, second = (client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}).get_json()
                     for _ in range(2))
    issued = ticket_for(client, {"Authorization": f"Bearer {first['access_token']}"})
    kept = ticket_for(client, {"Authorization": f"Bearer {second['access_token']}"})
    headers = {"Authorization": f"Bearer {second['access_token']}"}
    (ended,) = [item["id"] for item in client.get("/api/v1/me/sign-ins", headers=headers).get_json()["items"]
                if not item["current"]]
    assert client.delete(f"/api/v1/me/sign-ins/{ended}", headers=headers).status_code == 204
    status, body = open_stream(client, f"ticket={issued['ticket']}")
    assert status == 401 and "sign-in has ended" in body
    assert open_stream(client, f"ticket={kept['ticket']}")[0] == 200
