from __future__ import annotations

import base64
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from infra import http_targets
from infra.config import get_settings
from models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.webhook_domain import lease_message, record_outcome
from workflows.webhooks import endpoints, leases, sending

BASE = "/api/v1/webhook-endpoints"
URL = "https://hooks.example.com/mentorship"


@pytest.fixture
def owner(db: Session) -> Caller:
    return as_caller(UserFactory())


def create(client: FlaskClient, caller: Caller, **body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post(BASE, json={"url": URL, **body}, headers=caller.headers)
    return response.status_code, response.get_json()


def test_create_shows_a_standard_webhooks_secret_once(client: FlaskClient, owner: Caller) -> None:
    status, created = create(client, owner, description="CRM")
    assert status == 201
    assert (created["url"], created["event_types"], created["enabled"], created["disabled_reason"]) == (
        URL, ["*"], True, None)
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    Webhook(secret)  # the receiver's library accepts it as is
    shown = client.get(f"{BASE}/{created['id']}", headers=owner.headers).get_json()
    assert "secret" not in shown and shown["description"] == "CRM"
    listed = client.get(BASE, headers=owner.headers).get_json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert listed["next_cursor"] is None and "secret" not in listed["items"][0]


def test_list_pages_newest_first_and_shows_only_your_endpoints(client: FlaskClient, owner: Caller) -> None:
    ids = [create(client, owner)[1]["id"] for _ in range(3)]
    create(client, as_caller(UserFactory()))
    first = client.get(f"{BASE}?limit=2", headers=owner.headers).get_json()
    second = client.get(f"{BASE}?limit=2&cursor={first['next_cursor']}", headers=owner.headers).get_json()
    # One test transaction: every created_at is equal, so newest-first falls back to the id, descending.
    assert [item["id"] for item in first["items"] + second["items"]] == sorted(ids, reverse=True)
    assert second["next_cursor"] is None


def test_everyone_but_the_owner_gets_404_on_every_route(client: FlaskClient, db: Session, owner: Caller) -> None:
    endpoint_id = create(client, owner)[1]["id"]
    message_id = client.post(f"{BASE}/{endpoint_id}/test", headers=owner.headers).get_json()["id"]
    stranger = as_caller(UserFactory(is_admin=True))
    calls = [
        ("get", f"{BASE}/{endpoint_id}", None), ("patch", f"{BASE}/{endpoint_id}", {"description": "mine"}),
        ("delete", f"{BASE}/{endpoint_id}", None), ("post", f"{BASE}/{endpoint_id}/rotate-secret", None),
        ("post", f"{BASE}/{endpoint_id}/test", None), ("get", f"{BASE}/{endpoint_id}/deliveries", None),
        ("post", f"{BASE}/{endpoint_id}/deliveries/{message_id}/retry", None),
    ]
    for method, url, body in calls:
        response = getattr(client, method)(url, json=body, headers=stranger.headers)
        assert response.status_code == 404, (method, url)
        assert response.get_json()["message"] == "webhook endpoint not found"
    assert client.get(f"{BASE}/{endpoint_id}").status_code == 401
    unknown = client.post(f"{BASE}/{endpoint_id}/deliveries/msg_nope/retry", headers=owner.headers)
    assert unknown.status_code == 404
    assert db.scalar(select(WebhookEndpoint.description).where(WebhookEndpoint.id == uuid.UUID(endpoint_id))) == ""


@pytest.mark.parametrize(("body", "field"), [
    ({"event_types": ["booking.exploded"]}, "event_types"),
    ({"event_types": []}, "event_types"),
    ({"event_types": ["*", "booking.accepted"]}, None),
    ({"url": "ftp://hooks.example.com/"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"url": None}, "url"),
    ({"description": "nul \x00 byte"}, "description"),
    ({"description": "x" * 501}, "description"),
])
def test_malformed_endpoints_are_refused_with_422(client: FlaskClient, db: Session, owner: Caller,
                                                  body: dict[str, Any], field: str | None) -> None:
    response = client.post(BASE, json={"url": URL, **body}, headers=owner.headers)
    assert response.status_code == 422, response.get_json()
    if field:
        assert field in response.get_json()["errors"]["json"]
    assert db.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_patch_changes_fields_and_only_a_new_url_clears_the_failure_record(client: FlaskClient, db: Session,
                                                                          owner: Caller) -> None:
    endpoint_id = create(client, owner)[1]["id"]
    url = f"{BASE}/{endpoint_id}"
    paused = client.patch(url, json={"enabled": False, "event_types": ["session.completed", "session.completed"]},
                          headers=owner.headers).get_json()
    assert (paused["enabled"], paused["disabled_reason"], paused["event_types"]) == (
        False, "disabled by its owner", ["session.completed"])
    assert (paused["last_disabled_reason"], paused["last_disabled_at"] is not None) == ("disabled by its owner", True)
    endpoint = db.get(WebhookEndpoint, uuid.UUID(endpoint_id))
    assert endpoint is not None
    endpoint.failing_since, endpoint.consecutive_failures = func.now() - timedelta(days=2), 7
    endpoint.backoff_until = func.now() + timedelta(hours=5)
    db.flush()
    resumed = client.patch(url, json={"enabled": True, "url": "https://other.example.com/in"},
                           headers=owner.headers).get_json()
    assert (resumed["enabled"], resumed["disabled_reason"], resumed["failing_since"], resumed["url"]) == (
        True, None, None, "https://other.example.com/in")
    assert (resumed["consecutive_failures"], resumed["backoff_until"]) == (0, None)
    assert resumed["last_disabled_reason"] == "disabled by its owner"  # the endpoint's history, not its target's
    assert client.patch(url, json={}, headers=owner.headers).status_code == 422
    assert client.patch(url, json={"secret": "whsec_mine"}, headers=owner.headers).status_code == 422


def test_re_enabling_keeps_the_failure_record_the_last_disable_and_the_deliveries_visible(
        client: FlaskClient, db: Session, owner: Caller) -> None:
    endpoint_id = create(client, owner)[1]["id"]
    url = f"{BASE}/{endpoint_id}"
    message_id = client.post(f"{url}/test", headers=owner.headers).get_json()["id"]
    db.execute(update(WebhookEndpoint).values(failing_since=func.now() - timedelta(days=5, minutes=1)))
    leased = lease_message(db, message_id, settings=get_settings())
    assert leased is not None
    record_outcome(db, leased, sending.Outcome(None, 15000, error="timed out after 15 s"), settings=get_settings())
    disabled = client.get(url, headers=owner.headers).get_json()
    assert not disabled["enabled"] and disabled["disabled_reason"].startswith("every delivery has failed since")

    assert client.patch(url, json={"enabled": True}, headers=owner.headers).status_code == 200
    shown = client.get(url, headers=owner.headers).get_json()
    assert (shown["enabled"], shown["disabled_reason"]) == (True, None)
    assert shown["failing_since"] == disabled["failing_since"] is not None  # still failing, for five days and more
    assert (shown["last_disabled_reason"], shown["last_disabled_at"]) == (
        disabled["disabled_reason"], disabled["last_disabled_at"])
    assert shown["last_disabled_at"] is not None
    assert (shown["consecutive_failures"], shown["backoff_until"]) == (1, disabled["backoff_until"])
    (delivery,) = client.get(f"{url}/deliveries", headers=owner.headers).get_json()["items"]
    assert (delivery["id"], delivery["status"]) == (message_id, "pending")
    assert [(a["status_code"], a["error"]) for a in delivery["attempts"]] == [(None, "timed out after 15 s")]


def test_manual_retries_are_limited_per_endpoint_with_retry_after_and_a_refused_one_changes_nothing(
        client: FlaskClient, db: Session, owner: Caller) -> None:
    endpoint_id = create(client, owner)[1]["id"]
    other_id = create(client, owner)[1]["id"]
    message_id = client.post(f"{BASE}/{endpoint_id}/test", headers=owner.headers).get_json()["id"]
    retry = f"{BASE}/{endpoint_id}/deliveries/{message_id}/retry"
    limit = 5  # WEBHOOK_RETRIES_PER_MINUTE's default, which the tests run with
    for _ in range(limit):
        assert client.post(retry, headers=owner.headers).status_code == 202
    message = db.get(WebhookMessage, message_id)
    assert message is not None
    message.attempts = 3  # as if it had been tried since
    db.flush()
    refused = client.post(retry, headers=owner.headers)
    assert refused.status_code == 429, refused.get_json()
    assert "at most 5 manual retries a minute" in refused.get_json()["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    db.refresh(message)
    assert message.attempts == 3  # not reset: the refused retry changed nothing
    endpoint = db.get(WebhookEndpoint, uuid.UUID(endpoint_id))
    assert endpoint is not None and len(endpoint.recent_retries_at) == limit
    # Each endpoint has its own budget.
    other_message = client.post(f"{BASE}/{other_id}/test", headers=owner.headers).get_json()["id"]
    assert client.post(f"{BASE}/{other_id}/deliveries/{other_message}/retry", headers=owner.headers).status_code == 202


def test_a_test_or_a_manual_retry_goes_at_once_while_the_endpoint_backs_off(
        client: FlaskClient, db: Session, owner: Caller) -> None:
    endpoint_id = create(client, owner)[1]["id"]
    url = f"{BASE}/{endpoint_id}"
    timed_out = sending.Outcome(None, 15000, error="timed out after 15 s")

    def fails(message_id: str) -> None:
        leased = lease_message(db, message_id, settings=get_settings())
        assert leased is not None  # sent now, whatever the backoff before
        record_outcome(db, leased, timed_out, settings=get_settings())
        assert client.get(url, headers=owner.headers).get_json()["backoff_until"] is not None

    first = client.post(f"{url}/test", headers=owner.headers).get_json()["id"]
    fails(first)
    second = client.post(f"{url}/test", headers=owner.headers).get_json()["id"]
    fails(second)
    assert client.post(f"{url}/deliveries/{first}/retry", headers=owner.headers).status_code == 202
    fails(first)
    shown = client.get(url, headers=owner.headers).get_json()
    assert shown["consecutive_failures"] == 3


def test_delete_removes_the_endpoint_and_its_deliveries(client: FlaskClient, db: Session, owner: Caller) -> None:
    endpoint_id = create(client, owner)[1]["id"]
    client.post(f"{BASE}/{endpoint_id}/test", headers=owner.headers)
    response = client.delete(f"{BASE}/{endpoint_id}", headers=owner.headers)
    assert response.status_code == 204 and response.data == b""
    assert client.get(f"{BASE}/{endpoint_id}", headers=owner.headers).status_code == 404
    assert db.scalar(select(func.count()).select_from(WebhookMessage)) == 0


def test_rotate_secret_answers_a_new_secret(client: FlaskClient, db: Session, owner: Caller) -> None:
    _, created = create(client, owner)
    rotated = client.post(f"{BASE}/{created['id']}/rotate-secret", headers=owner.headers)
    assert rotated.status_code == 200
    assert rotated.get_json()["secret"].startswith("whsec_") and rotated.get_json()["secret"] != created["secret"]
    assert db.scalar(select(WebhookEndpoint.secret)) == rotated.get_json()["secret"]


def test_after_a_rotation_deliveries_are_signed_with_both_secrets_until_the_overlap_ends(
        client: FlaskClient, db: Session, owner: Caller) -> None:
    _, created = create(client, owner)
    old = created["secret"]
    new = client.post(f"{BASE}/{created['id']}/rotate-secret", headers=owner.headers).get_json()["secret"]
    client.post(f"{BASE}/{created['id']}/test", headers=owner.headers)
    message_id = db.scalar(select(WebhookMessage.id))
    [delivery] = leases.lease_batch(db, message_id, settings=get_settings())
    headers = sending.signed_headers(delivery, datetime.now(UTC))
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):  # a receiver on either secret verifies the same delivery
        Webhook(secret).verify(delivery.body, headers)
    # Once the overlap has passed, only the new secret signs.
    db.execute(update(WebhookEndpoint).values(previous_secret_expires_at=func.now() - timedelta(seconds=1)))
    db.execute(update(WebhookMessage).values(next_attempt_at=func.now() - timedelta(seconds=1), lease_id=None))
    [later] = leases.lease_batch(db, message_id, settings=get_settings())
    headers = sending.signed_headers(later, datetime.now(UTC))
    Webhook(new).verify(later.body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(later.body, headers)


def test_a_replayed_endpoint_creation_does_not_show_the_secret_again(client: FlaskClient, owner: Caller) -> None:
    headers = {**owner.headers, "Idempotency-Key": "create-endpoint-1"}
    first = client.post(BASE, json={"url": URL}, headers=headers)
    assert first.status_code == 201 and first.get_json()["secret"].startswith("whsec_")
    client.post(f"{BASE}/{first.get_json()['id']}/rotate-secret", headers=owner.headers)
    replay = client.post(BASE, json={"url": URL}, headers=headers)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json()["id"] == first.get_json()["id"]
    assert "secret" not in replay.get_json()


def test_test_delivery_is_queued_listed_and_refused_when_disabled(client: FlaskClient, owner: Caller) -> None:
    endpoint_id = create(client, owner)[1]["id"]
    queued = client.post(f"{BASE}/{endpoint_id}/test", headers=owner.headers)
    assert queued.status_code == 202
    body = queued.get_json()
    assert (body["event_type"], body["status"], body["attempt_count"], body["event_id"]) == (
        "webhook.test", "pending", 0, None)
    assert body["id"] == body["webhook_id"] and body["id"].startswith("msg_")
    listed = client.get(f"{BASE}/{endpoint_id}/deliveries?status=pending", headers=owner.headers).get_json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    client.patch(f"{BASE}/{endpoint_id}", json={"enabled": False}, headers=owner.headers)
    refused = client.post(f"{BASE}/{endpoint_id}/test", headers=owner.headers)
    assert refused.status_code == 409 and "disabled" in refused.get_json()["message"]


def test_deliveries_list_newest_first_with_attempts_and_pages(client: FlaskClient, db: Session,
                                                              owner: Caller) -> None:
    endpoint_id = create(client, owner)[1]["id"]
    ids = [client.post(f"{BASE}/{endpoint_id}/test", headers=owner.headers).get_json()["id"] for _ in range(3)]
    db.add(WebhookAttempt(message_id=ids[2], status_code=503, duration_ms=40, error="HTTP 503"))
    db.flush()
    first = client.get(f"{BASE}/{endpoint_id}/deliveries?limit=2", headers=owner.headers).get_json()
    second = client.get(f"{BASE}/{endpoint_id}/deliveries?limit=2&cursor={first['next_cursor']}",
                        headers=owner.headers).get_json()
    items = {item["id"]: item for item in first["items"] + second["items"]}
    assert list(items) == sorted(ids, reverse=True)  # equal created_at in one transaction: by id
    assert [(a["status_code"], a["duration_ms"], a["error"]) for a in items[ids[2]]["attempts"]] == [
        (503, 40, "HTTP 503")]
    assert items[ids[0]]["attempts"] == []
    assert second["next_cursor"] is None
    bad = client.get(f"{BASE}/{endpoint_id}/deliveries?cursor=garbage", headers=owner.headers)
    assert bad.status_code == 422
    assert client.get(f"{BASE}/{endpoint_id}/deliveries?status=lost", headers=owner.headers).status_code == 422


def test_retry_requeues_with_the_same_id_unless_an_attempt_is_in_flight(client: FlaskClient, db: Session,
                                                                        owner: Caller) -> None:
    endpoint_id = create(client, owner)[1]["id"]
    message_id = client.post(f"{BASE}/{endpoint_id}/test", headers=owner.headers).get_json()["id"]
    leased = lease_message(db, message_id, settings=get_settings())
    assert leased is not None
    retry = f"{BASE}/{endpoint_id}/deliveries/{message_id}/retry"
    in_flight = client.post(retry, headers=owner.headers)
    assert in_flight.status_code == 409 and "in progress" in in_flight.get_json()["message"]
    outcome = sending.Outcome(None, 15000, error="timed out after 15 s")
    failed_settings = dataclasses.replace(get_settings(), webhook_retry_schedule=())
    assert record_outcome(db, leased, outcome, settings=failed_settings) == "failed"
    retried = client.post(retry, headers=owner.headers)
    assert retried.status_code == 202
    body = retried.get_json()
    assert (body["id"], body["status"], body["attempt_count"]) == (message_id, "pending", 0)
    assert [a["error"] for a in body["attempts"]] == ["timed out after 15 s"]


def test_private_targets_are_refused_at_creation_and_on_change(client: FlaskClient, db: Session, owner: Caller,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    strict = dataclasses.replace(get_settings(), webhook_allow_private_targets=False)
    monkeypatch.setattr(endpoints, "get_settings", lambda: strict)
    for url in ("http://127.0.0.1:8080/hook", "http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data",
                "http://localhost/hook", "http://[::1]/hook", "http://100.64.0.1/"):
        status, body = create(client, owner, url=url)
        assert status == 422, url
        assert "public addresses" in body["message"], body
    assert db.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0
    monkeypatch.setattr(http_targets.socket, "getaddrinfo",
                        lambda host, port, *_a, **_k: [(2, 1, 6, "", ("93.184.216.34", port))])
    status, created = create(client, owner, url="https://hooks.example.com/in")
    assert status == 201
    monkeypatch.undo()
    monkeypatch.setattr(endpoints, "get_settings", lambda: strict)
    changed = client.patch(f"{BASE}/{created['id']}", json={"url": "http://192.168.0.10/"}, headers=owner.headers)
    assert changed.status_code == 422 and "private address" in changed.get_json()["message"]


def test_the_loopback_scope_of_make_run_admits_127_0_0_1_and_refuses_metadata_and_private_targets(
        client: FlaskClient, db: Session, owner: Caller, monkeypatch: pytest.MonkeyPatch) -> None:
    loopback = dataclasses.replace(get_settings(), webhook_allow_private_targets=False,
                                   webhook_allow_loopback_targets=True)
    monkeypatch.setattr(endpoints, "get_settings", lambda: loopback)
    for url in ("http://169.254.169.254/latest/meta-data", "http://[fd00:ec2::254]/", "http://10.0.0.1/hook",
                "http://[fec0::1]/hook", "http://[fe80::1]/hook", "http://[::ffff:169.254.169.254]/"):
        status, body = create(client, owner, url=url)
        assert status == 422, (url, body)
    assert db.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0
    for url in ("http://127.0.0.1:8080/hook", "http://localhost:9000/hook", "http://[::1]:9000/hook"):
        status, body = create(client, owner, url=url)
        assert status == 201, (url, body)


def test_a_user_may_have_twenty_endpoints_and_the_next_is_refused_with_409(
        client: FlaskClient, db: Session, owner: Caller) -> None:
    for _ in range(20):
        assert create(client, owner)[0] == 201
    status, body = create(client, owner)
    assert status == 409 and "delete one first" in body["message"], body
    assert db.scalar(select(func.count()).select_from(WebhookEndpoint)) == 20
    assert create(client, as_caller(UserFactory()))[0] == 201  # another user's count is their own


def test_test_deliveries_are_limited_per_endpoint_with_retry_after(client: FlaskClient, db: Session,
                                                                   owner: Caller) -> None:
    first, second = create(client, owner)[1]["id"], create(client, owner)[1]["id"]
    for _ in range(5):
        assert client.post(f"{BASE}/{first}/test", headers=owner.headers).status_code == 202
    refused = client.post(f"{BASE}/{first}/test", headers=owner.headers)
    assert refused.status_code == 429 and "retry in" in refused.get_json()["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert db.scalar(select(func.count()).select_from(WebhookMessage)
                     .where(WebhookMessage.endpoint_id == uuid.UUID(first))) == 5
    assert client.post(f"{BASE}/{second}/test", headers=owner.headers).status_code == 202
