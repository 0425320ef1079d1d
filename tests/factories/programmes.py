"""Programmes made through the API, as a coordinator makes them: one created by an admin, open for enrolment, and
people joined by a join link (a mentor confirming their weekly hours in the intake, as they must before anyone pairs
them)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from tests.factories.accounts import Caller, UserFactory, as_caller

BASE = "/api/v1/programmes"
# A mentor's weekly hours that leave them as free as no hours did: every day, all day.
ALL_WEEK = [{"weekday": day, "start_minute": 0, "end_minute": 1440} for day in range(7)]


def create(client: FlaskClient, admin: Caller, *coordinators: Caller, **body: Any) -> dict[str, Any]:
    """A programme an admin creates, naming its coordinators."""
    made = client.post(BASE, headers=admin.headers, json={
        "name": "Spring cohort", "coordinator_user_ids": [str(c.user.id) for c in coordinators], **body})
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def running_programme(client: FlaskClient, **settings: Any) -> tuple[Caller, dict[str, Any]]:
    """A programme taking participants, and its coordinator."""
    admin, coordinator = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory())
    made = create(client, admin, coordinator, **settings)
    assert client.post(f"{BASE}/{made['id']}/open-enrolment", headers=coordinator.headers).status_code == 200
    return coordinator, made


def join_link(client: FlaskClient, coordinator: Caller, programme_id: str, **body: Any) -> dict[str, Any]:
    """A join link of the programme, working a week (a mentee's unless ``role`` says)."""
    made = client.post(f"{BASE}/{programme_id}/join-links", headers=coordinator.headers, json={
        "role": "mentee", "max_uses": 5, "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(), **body})
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def joined(client: FlaskClient, coordinator: Caller, programme: dict[str, Any], role: str, *,
           person: Caller | None = None, hours: list[dict[str, int]] | None = ALL_WEEK, **body: Any
           ) -> tuple[Caller, str]:
    """``person`` (else a new one, in Tokyo) joined the programme in ``role`` by a link; their participation's id. A
    mentor confirms ``hours`` in their intake (none: they have not given them)."""
    person = person or as_caller(UserFactory(timezone="Asia/Tokyo"))
    answer = client.post(f"{BASE}/join", headers=person.headers,
                         json={"token": join_link(client, coordinator, programme["id"], role=role, **body)["token"]})
    assert answer.status_code == 200, answer.get_json()
    if role == "mentor" and hours is not None:
        confirmed = client.put(f"{BASE}/{programme['id']}/intake", headers=person.headers,
                               json={"answers": [], "windows": hours})
        assert confirmed.status_code == 200, confirmed.get_json()
    return person, answer.get_json()["id"]


def upload(client: FlaskClient, caller: Caller, programme_id: str, content: bytes | str) -> Any:
    """A CSV of invitees uploaded as a file."""
    data = content.encode() if isinstance(content, str) else content
    return client.post(f"{BASE}/{programme_id}/invitations/upload", headers=caller.headers,
                       data={"file": (io.BytesIO(data), "cohort.csv")}, content_type="multipart/form-data")
