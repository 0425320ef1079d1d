"""A programme's settings, its matching settings and its intake forms are in its history: who changed them and what
(``programme.settings_changed``, ``programme.matching_changed``, ``programme.intake_form_changed``, naming the
settings or the form changed); a save that changes nothing writes nothing."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import OutboxEvent
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.programmes import BASE, create

FORM = [{"kind": "single", "label": "Department", "options": ["Engineering", "Design"], "required": True}]


def test_settings_matching_and_intake_forms_write_the_programme_s_history(client: FlaskClient, db: Session) -> None:
    admin, coordinator = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory())
    programme = create(client, admin, coordinator)
    url = f"{BASE}/{programme['id']}"
    assert client.patch(url, headers=coordinator.headers, json={"session_minutes": 45, "name": "Autumn"}
                        ).status_code == 200
    assert client.patch(url, headers=coordinator.headers, json={"session_minutes": 45}).status_code == 200  # same
    mentee = client.put(f"{url}/intake-forms/mentee", headers=coordinator.headers, json={"items": FORM})
    assert mentee.status_code == 200, mentee.get_json()
    mentor = client.put(f"{url}/intake-forms/mentor", headers=admin.headers, json={"items": FORM})
    assert mentor.status_code == 200, mentor.get_json()
    ids = mentee.get_json()["items"][0]["id"], mentor.get_json()["items"][0]["id"]
    matching = client.put(f"{url}/matching", headers=coordinator.headers, json={
        "pairing_mode": "coordinator", "criteria": [
            {"kind": "differ", "mentee_question_id": ids[0], "mentor_question_id": ids[1]}]})
    assert matching.status_code == 200, matching.get_json()
    timeline = client.get(f"{url}/history", headers=coordinator.headers).get_json()["items"]
    assert sorted((e["type"], e["actor"]) for e in timeline) == sorted([  # one transaction here: one time for all
        ("programme.created", "admin"), ("programme.settings_changed", "coordinator"),
        ("programme.intake_form_changed", "coordinator"), ("programme.intake_form_changed", "admin"),
        ("programme.matching_changed", "coordinator")])
    payloads = [(event.type, event.payload) for event in db.scalars(
        select(OutboxEvent).where(OutboxEvent.aggregate_id == programme["id"]))]
    changed = sorted((kind, payload.get("changed")) for kind, payload in payloads)
    assert changed == [("programme.created", None), ("programme.intake_form_changed", ["intake_form:mentee"]),
                       ("programme.intake_form_changed", ["intake_form:mentor"]),
                       ("programme.matching_changed", ["criteria"]),
                       ("programme.settings_changed", ["name", "session_minutes"])]
    assert dict(payloads)["programme.settings_changed"]["name"] == "Autumn"
