"""Programmes through the API: an admin creates one and names its coordinators, who run it; every route answers
404 to anyone else; two coordinators acting at once take turns (threads on committed data)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import OutboxEvent, Programme
from tests.concurrency import concurrently
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import BASE, create
from tests.servers import live_app


def test_an_admin_creates_a_programme_and_its_coordinator_runs_it_to_its_close(client: FlaskClient,
                                                                               db: Session) -> None:
    admin, coordinator = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory())
    made = create(client, admin, coordinator, starts_on="2031-03-02", ends_on="2031-05-24", session_count=10)
    assert (made["status"], made["session_count"], made["cadence_weeks"], made["coordinator_user_ids"]) == (
        "draft", 10, 1, [str(coordinator.user.id)])
    url = f"{BASE}/{made['id']}"
    # Read one at a time, it names its coordinators.
    assert client.get(url, headers=coordinator.headers).get_json()["coordinator_names"] == [
        coordinator.user.display_name]
    patched = client.patch(url, headers=coordinator.headers, json={"session_minutes": 45, "ends_on": None})
    assert patched.status_code == 200
    assert (patched.get_json()["session_minutes"], patched.get_json()["ends_on"]) == (45, None)
    for action, status in (("open-enrolment", "enrolling"), ("start", "running"), ("close", "closed")):
        moved = client.post(f"{url}/{action}", headers=coordinator.headers)
        assert moved.status_code == 200 and moved.get_json()["status"] == status
    again = client.post(f"{url}/start", headers=coordinator.headers)
    assert again.status_code == 400 and again.get_json()["message"] == "cannot start a programme that is closed"
    assert client.patch(url, headers=coordinator.headers, json={"name": "Late"}).status_code == 400
    listed = client.get(BASE, headers=coordinator.headers, query_string={"status": "closed"}).get_json()["items"]
    assert [p["id"] for p in listed] == [made["id"]]
    timeline = client.get(f"{url}/history", headers=coordinator.headers).get_json()["items"]
    assert {(e["type"], e["actor"]) for e in timeline} == {
        ("programme.created", "admin"), ("programme.settings_changed", "coordinator"),
        ("programme.enrolment_opened", "coordinator"), ("programme.started", "coordinator"),
        ("programme.closed", "coordinator")}


def test_bad_settings_are_refused_and_change_nothing(client: FlaskClient, db: Session) -> None:
    admin, coordinator = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory())
    made = create(client, admin, coordinator)
    url = f"{BASE}/{made['id']}"
    for body in ({"cadence_weeks": 3}, {"session_count": 27}, {"session_minutes": 5}, {"name": ""},
                 {"name": "x" * 121}, {"description": "x" * 4001}, {"status": "running"}, {"name": "a\x00b"}):
        assert client.patch(url, headers=coordinator.headers, json=body).status_code == 422, body
    out_of_order = client.patch(url, headers=coordinator.headers, json={"starts_on": "2031-03-02",
                                                                         "ends_on": "2031-03-01"})
    assert out_of_order.status_code == 400
    ghost = str(uuid.uuid4())
    unknown = client.post(BASE, headers=admin.headers, json={"name": "X", "coordinator_user_ids": [ghost]})
    assert unknown.status_code == 400 and unknown.get_json()["message"] == f"no such user: {ghost}"
    too_many = client.post(BASE, headers=admin.headers, json={
        "name": "X", "coordinator_user_ids": [str(uuid.uuid4()) for _ in range(21)]})
    assert too_many.status_code == 422
    # Unchanged but for the reader's part in it (the admin made it, the coordinator reads it).
    assert client.get(url, headers=coordinator.headers).get_json() == {**made, "viewer_role": "coordinator"}
    assert made["viewer_role"] == "admin"
    assert db.scalars(select(Programme.name).where(Programme.name == "X")).all() == []


def test_every_route_answers_404_to_another_programmes_coordinator_and_to_a_plain_user(client: FlaskClient,
                                                                                      db: Session) -> None:
    admin, mine, theirs = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory()), as_caller(UserFactory())
    programme = create(client, admin, mine)
    create(client, admin, theirs)
    url = f"{BASE}/{programme['id']}"
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", url, None), ("PATCH", url, {"name": "Taken"}), ("GET", f"{url}/history", None),
        ("POST", f"{url}/open-enrolment", None), ("POST", f"{url}/start", None), ("POST", f"{url}/close", None),
        ("PUT", f"{url}/coordinators", {"coordinator_user_ids": []}),
    ]
    for outsider in (theirs, as_caller(UserFactory())):
        for method, path, body in calls:
            answer = client.open(path, method=method, headers=outsider.headers, json=body)
            assert answer.status_code == 404 and answer.get_json()["message"] == "programme not found", (method, path)
        listed = [p["id"] for p in client.get(BASE, headers=outsider.headers).get_json()["items"]]
        assert programme["id"] not in listed and len(listed) == (1 if outsider is theirs else 0)
    forbidden = client.post(BASE, headers=mine.headers, json={"name": "Mine"})
    assert forbidden.status_code == 403
    named = client.put(f"{url}/coordinators", headers=mine.headers, json={"coordinator_user_ids": []})
    assert named.status_code == 403
    assert client.get(url).status_code == 401
    assert client.get(url, headers=mine.headers).get_json()["status"] == "draft"  # nothing moved


def _call(app: Flask, caller: Caller, method: str, path: str, body: dict[str, Any] | None = None
          ) -> Callable[[], int]:
    headers = caller.headers
    return lambda: app.test_client().open(path, method=method, headers=headers, json=body).status_code


def test_two_coordinators_acting_at_once_take_turns(seed: Session, committed: sessionmaker[Session]) -> None:
    admin, first, second = (as_caller(UserFactory(is_admin=True)), as_caller(UserFactory()),
                            as_caller(UserFactory()))
    seed.commit()
    app = live_app(committed)
    client = app.test_client()
    for _ in range(4):
        made = create(client, admin, first, second)
        url = f"{BASE}/{made['id']}"
        # Two edits of different settings: both land (each writes only what it changes).
        assert concurrently([_call(app, first, "PATCH", url, {"session_minutes": 30}),
                             _call(app, second, "PATCH", url, {"cadence_weeks": 2})]) == [200, 200]
        with committed() as db:
            stored = db.get_one(Programme, uuid.UUID(made["id"]))
            assert (stored.session_minutes, stored.cadence_weeks) == (30, 2)
        # Two closes: one closes it, the other finds it closed; one event.
        assert sorted(concurrently([_call(app, first, "POST", f"{url}/close"),
                                    _call(app, second, "POST", f"{url}/close")])) == [200, 400]
        with committed() as db:
            closes = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == uuid.UUID(made["id"]),
                                                          OutboxEvent.type == "programme.closed")).all()
            assert len(closes) == 1
