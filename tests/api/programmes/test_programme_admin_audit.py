"""An admin acting through a programme's own routes (naming its coordinators, taking a participant off, reading a
participant's intake answers, reading its exports) leaves an entry in the admin audit trail naming them; its
coordinators doing the same leave none."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AdminAction
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.programmes import BASE, joined, running_programme


def _trail(db: Session) -> list[tuple[uuid.UUID | None, str, str, uuid.UUID]]:
    return [(row.admin_user_id, row.action, row.target_type, row.target_id)
            for row in db.scalars(select(AdminAction).order_by(AdminAction.created_at, AdminAction.action))]


def test_an_admin_s_actions_through_programme_routes_are_audited_naming_them(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    url, programme_id = f"{BASE}/{programme['id']}", uuid.UUID(programme["id"])
    admin = as_caller(UserFactory(is_admin=True))
    _mentee, participant = joined(client, coordinator, programme, "mentee")
    # Its coordinator reads and removes: nothing for the admin trail.
    assert client.get(f"{url}/participants/{participant}/intake", headers=coordinator.headers).status_code == 200
    assert client.get(f"{url}/exports/pairs.csv", headers=coordinator.headers).status_code == 200
    assert _trail(db) == []

    other = as_caller(UserFactory())
    named = client.put(f"{url}/coordinators", headers=admin.headers,
                       json={"coordinator_user_ids": [str(coordinator.user.id), str(other.user.id)]})
    assert named.status_code == 200, named.get_json()
    assert client.get(f"{url}/participants/{participant}/intake", headers=admin.headers).status_code == 200
    assert client.get(f"{url}/exports/sessions.csv", headers=admin.headers).status_code == 200
    assert client.get(f"{url}/exports/pairs", headers=admin.headers).status_code == 200
    removed = client.post(f"{url}/participants/{participant}/remove", headers=admin.headers)
    assert removed.status_code == 200, removed.get_json()
    participant_id = uuid.UUID(participant)
    assert sorted(_trail(db), key=lambda row: row[1]) == sorted([
        (admin.user.id, "programme.coordinators_set", "programme", programme_id),
        (admin.user.id, "programme.intake_read", "programme_participant", participant_id),
        (admin.user.id, "programme.exported_sessions", "programme", programme_id),
        (admin.user.id, "programme.exported_pairs", "programme", programme_id),
        (admin.user.id, "programme.participant_removed", "programme_participant", participant_id),
    ], key=lambda row: row[1])
    # Listed in the admin console's trail, of the programme and of the participant.
    listed = client.get(f"/api/v1/admin/audit?target_id={programme_id}", headers=admin.headers)
    assert listed.status_code == 200 and len(listed.get_json()["items"]) == 3
    of_participant = client.get(f"/api/v1/admin/audit?target_id={participant}", headers=admin.headers).get_json()
    assert {item["action"] for item in of_participant["items"]} == {"programme.intake_read",
                                                                   "programme.participant_removed"}
