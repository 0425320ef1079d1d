"""What the admin console reads and does besides accounts: every review to find one to hide, the webhook endpoints
in trouble, a programme's coordinators one at a time, and the platform's numbers; each for admins only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AdminAction, Review, WebhookEndpoint
from tests.factories import programmes
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.sessions import make_session

ADMIN = "/api/v1/admin"


def test_every_new_admin_route_refuses_others(client: FlaskClient, db: Session) -> None:
    someone = as_caller(UserFactory())
    target = uuid.uuid4()
    for method, path in (("get", "/reviews"), ("get", "/webhook-endpoints"), ("get", "/numbers"),
                         ("post", f"/users/{target}/disable"), ("post", f"/users/{target}/enable"),
                         ("delete", f"/users/{target}"), ("put", f"/programmes/{target}/coordinators/{target}"),
                         ("delete", f"/programmes/{target}/coordinators/{target}")):
        body = {"reason": "x"} if method != "get" else None
        assert getattr(client, method)(ADMIN + path, json=body).status_code == 401
        assert getattr(client, method)(ADMIN + path, headers=someone.headers, json=body).status_code == 403


def test_reviews_are_listed_for_admins_hidden_ones_too(client: FlaskClient, db: Session) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    mentor, mentee, session = make_session(db, datetime.now(UTC) - timedelta(days=1))
    review = Review(id=uuid.uuid4(), session_id=session.id, mentor_profile_id=session.mentor_profile_id,
                    mentee_user_id=mentee.user.id, rating=1, comment="Call me on +44 7700 900123")
    db.add(review)
    db.flush()
    listed = client.get(f"{ADMIN}/reviews?mentor_profile_id={session.mentor_profile_id}", headers=admin.headers)
    assert [item["id"] for item in listed.get_json()["items"]] == [str(review.id)]
    assert listed.get_json()["items"][0]["comment"] == "Call me on +44 7700 900123"
    assert client.post(f"{ADMIN}/reviews/{review.id}/hide", headers=admin.headers,
                       json={"reason": "Personal data"}).status_code == 200
    hidden = client.get(f"{ADMIN}/reviews?hidden=true&mentor_profile_id={session.mentor_profile_id}",
                        headers=admin.headers).get_json()["items"]
    assert hidden[0]["hidden_reason"] == "Personal data"
    assert client.get(f"{ADMIN}/reviews?hidden=false&mentor_profile_id={session.mentor_profile_id}",
                      headers=admin.headers).get_json()["items"] == []
    assert mentor.user.id != admin.user.id


def test_troubled_webhook_endpoints_are_those_failing_or_disabled(client: FlaskClient, db: Session) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    owner = UserFactory()

    def endpoint(**state: object) -> WebhookEndpoint:
        made = WebhookEndpoint(id=uuid.uuid4(), owner_user_id=owner.id, url="https://hooks.example.com/in",
                               secret="whsec_" + "A" * 44, event_types=["*"], **state)
        db.add(made)
        db.flush()
        return made

    healthy = endpoint()
    failing = endpoint(failing_since=datetime.now(UTC) - timedelta(hours=3), consecutive_failures=4)
    disabled = endpoint(enabled=False, disabled_reason="410 Gone")
    listed = client.get(f"{ADMIN}/webhook-endpoints?limit=100", headers=admin.headers).get_json()["items"]
    ids = {item["id"] for item in listed}
    assert {str(failing.id), str(disabled.id)} <= ids and str(healthy.id) not in ids


def test_an_admin_names_and_removes_a_coordinator_recorded_in_the_audit(client: FlaskClient, db: Session) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    first, second = as_caller(UserFactory()), as_caller(UserFactory())
    programme = programmes.create(client, admin, first)
    path = f"{ADMIN}/programmes/{programme['id']}/coordinators"

    named = client.put(f"{path}/{second.user.id}", headers=admin.headers, json={"reason": "Covers the spring"})
    assert named.status_code == 200
    assert sorted(named.get_json()["coordinator_user_ids"]) == sorted([str(first.user.id), str(second.user.id)])
    removed = client.delete(f"{path}/{first.user.id}", headers=admin.headers, json={"reason": "Left"})
    assert removed.get_json()["coordinator_user_ids"] == [str(second.user.id)]
    assert client.delete(f"{path}/{first.user.id}", headers=admin.headers, json={"reason": "x"}).status_code == 404
    assert client.put(f"{path}/{uuid.uuid4()}", headers=admin.headers, json={"reason": "x"}).status_code == 400
    assert client.put(f"{ADMIN}/programmes/{uuid.uuid4()}/coordinators/{first.user.id}", headers=admin.headers,
                      json={"reason": "x"}).status_code == 404
    audit = client.get(f"{ADMIN}/audit?target_id={programme['id']}", headers=admin.headers).get_json()["items"]
    # One transaction: the two share a time, so their order is not told.
    assert sorted((a["action"], a["reason"]) for a in audit) == [
        ("programme.coordinator_named", "Covers the spring"), ("programme.coordinator_removed", "Left")]
    assert {a["target_type"] for a in audit} == {"programme"}
    assert db.scalar(select(AdminAction.admin_user_id).where(AdminAction.target_id == uuid.UUID(programme["id"]))
                     .limit(1)) == admin.user.id


def test_the_numbers_are_bounded_and_count_the_window(client: FlaskClient, db: Session) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    make_session(db, datetime.now(UTC) + timedelta(days=2))
    for days in ("0", "91", "x"):
        assert client.get(f"{ADMIN}/numbers?days={days}", headers=admin.headers).status_code == 422
    body = client.get(f"{ADMIN}/numbers?days=7", headers=admin.headers).get_json()
    assert len(body["sessions_per_day"]) == 7 and body["sessions_per_day"][-1]["sessions"] >= 1
    assert body["bookings_requested"] >= 1 and body["bookings_became_sessions"] >= 1
    assert 0 < body["conversion"] <= 1
    assert {r["rule"] for r in body["refusals"]} >= {"booking_declined", "sign_in_failed"}
    assert client.get(f"{ADMIN}/numbers", headers=admin.headers).get_json()["days"] == 30
