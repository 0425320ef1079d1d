from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.cli import ops
from models import WebhookEndpoint, WebhookMessage
from tests.factories.accounts import UserFactory, as_caller


def failed_messages(db: Session, count: int, *, created: datetime) -> WebhookEndpoint:
    owner = UserFactory()
    endpoint = WebhookEndpoint(id=uuid.uuid4(), owner_user_id=owner.id, url="https://hooks.example.com/in",
                               secret="whsec_" + "A" * 44, event_types=["*"])
    db.add(endpoint)
    db.flush()
    for index in range(count):
        db.add(WebhookMessage(id=f"msg_{uuid.uuid4().hex}", endpoint_id=endpoint.id, event_type="booking.accepted",
                              payload={}, status="failed", attempts=8, last_status_code=500,
                              created_at=created + timedelta(minutes=index)))
    db.flush()
    return endpoint


def test_admin_routes_are_for_admins(client: FlaskClient, db: Session) -> None:
    assert client.get("/api/v1/admin/outbox").status_code == 401
    assert client.get("/api/v1/admin/outbox", headers=as_caller(UserFactory()).headers).status_code == 403
    report = client.get("/api/v1/admin/outbox", headers=as_caller(UserFactory(is_admin=True)).headers)
    assert report.status_code == 200 and report.get_json()["pending"] == 0


def test_failed_deliveries_listed_and_recovered_since_a_time(client: FlaskClient, db: Session) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    start = datetime(2030, 1, 1, tzinfo=UTC)
    endpoint = failed_messages(db, 4, created=start)
    listed = client.get(f"/api/v1/admin/webhook-deliveries?endpoint_id={endpoint.id}", headers=admin.headers)
    assert len(listed.get_json()["items"]) == 4
    recovered = client.post(f"/api/v1/admin/webhook-endpoints/{endpoint.id}/recover", headers=admin.headers,
                            json={"since": (start + timedelta(minutes=2)).isoformat()})
    assert recovered.status_code == 202 and recovered.get_json() == {"recovered": 2}
    statuses = sorted(db.scalars(select(WebhookMessage.status).where(WebhookMessage.endpoint_id == endpoint.id)))
    assert statuses == ["failed", "failed", "pending", "pending"]
    assert client.post(f"/api/v1/admin/webhook-endpoints/{uuid.uuid4()}/recover", headers=admin.headers,
                       json={"since": start.isoformat()}).status_code == 404
    endpoint.enabled = False
    db.flush()
    assert client.post(f"/api/v1/admin/webhook-endpoints/{endpoint.id}/recover", headers=admin.headers,
                       json={"since": start.isoformat()}).status_code == 409


def test_cli_replays_an_endpoints_failed_messages_in_a_window(app: Flask, db: Session) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    endpoint = failed_messages(db, 3, created=start)
    result = app.test_cli_runner().invoke(ops, [
        "replay-webhooks", str(endpoint.id), "--since", "2030-01-01T00:00:00", "--until", "2030-01-01T00:02:00"])
    assert result.exit_code == 0 and "recovered 2" in result.output, result.output
