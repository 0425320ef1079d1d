from __future__ import annotations

import dataclasses

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from devstack.host import free_port
from infra.config import get_settings
from infra.db import make_engine, make_session_factory


def test_live_and_ready(client: FlaskClient) -> None:
    assert client.get("/health/live").status_code == 200
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_ready_is_503_when_redis_is_down(session_factory: sessionmaker[Session]) -> None:
    settings = dataclasses.replace(get_settings(), redis_url=f"redis://127.0.0.1:{free_port()}/0")
    client = create_app(settings, session_factory=session_factory).test_client()
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("error")
    assert client.get("/health/live").status_code == 200


def test_ready_is_503_when_database_is_down() -> None:
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")
    client = create_app(get_settings(), session_factory=make_session_factory(engine)).test_client()
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"].startswith("error")
    # Other routes answer 503 too rather than a 5xx crash page.
    assert client.post("/api/v1/auth/token", json={"email": "a@example.com", "password": "x"}).status_code == 503
    engine.dispose()
