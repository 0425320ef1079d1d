"""A programme's settings, its matching settings and its intake forms are in its history: who changed them and what
(``programme.settings_changed``, ``programme.matching_changed``, ``programme.intake_form_changed``, naming the
settings or the form changed); a save that changes nothing writes nothing."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import OutboxEvent
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.programmes import BASE, create, joined

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


def test_the_history_names_the_people_and_the_pair_and_folds_a_run_s_progress(client: FlaskClient, db: Session
                                                                              ) -> None:
    """Once "Someone joined by the participant" and "A pairing proposed by the coordinator" sixteen times: each line
    names who acted and whom it concerns."""
    admin = as_caller(UserFactory(is_admin=True, display_name="Mary Jackson"))
    carla = as_caller(UserFactory(display_name="Carla Diaz"))
    programme = create(client, admin, carla)
    assert client.post(f"{BASE}/{programme['id']}/open-enrolment", headers=carla.headers).status_code == 200
    ada = as_caller(UserFactory(display_name="Ada Okafor"))
    zoe = as_caller(UserFactory(display_name="Zoë Müller"))
    _, mentor_id = joined(client, carla, programme, "mentor", person=ada)
    _, mentee_id = joined(client, carla, programme, "mentee", person=zoe)
    made = client.post(f"{BASE}/{programme['id']}/pairings", headers=carla.headers,
                       json={"mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id})
    assert made.status_code == 201, made.get_json()
    lines = [e["summary"] for e in client.get(f"{BASE}/{programme['id']}/history?limit=100",
                                              headers=carla.headers).get_json()["items"]]
    # (one transaction here: the events share a time, so their order is not asserted)
    assert {"Mary Jackson created the programme", "Carla Diaz opened enrolment",
            "Ada Okafor joined as a mentor by link", "Zoë Müller joined as a mentee by link",
            "Ada Okafor finished their intake", "Carla Diaz paired Ada Okafor with Zoë Müller"} <= set(lines), lines
    # Its participants still read no history.
    assert client.get(f"{BASE}/{programme['id']}/history", headers=zoe.headers).status_code == 403
    # In the language the client asks for (a coordinator's web app sends its reader's): the same lines in French,
    # the names as their people wrote them.
    french = [e["summary"] for e in client.get(f"{BASE}/{programme['id']}/history?limit=100", headers={
        **carla.headers, "Accept-Language": "fr-FR"}).get_json()["items"]]
    assert {"Mary Jackson a créé le programme", "Ada Okafor a rejoint le programme comme mentor par un lien d'adhésion",
            "Carla Diaz a formé le binôme Ada Okafor et Zoë Müller"} <= set(french), french
