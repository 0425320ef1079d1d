"""A coordinator's pairing by hand: a mentee has at most one live pairing in a programme (the database's partial
unique index behind the check, so two coordinators pairing one mentee at once make one pairing), a pairing obeys the
programme's hard rules unless a coordinator overrides one with a reason (kept with the pairing and in its event), and
no pairing starts before the programme's first day."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models import OutboxEvent, Pairing, PairingStatus
from models.programmes.pairings import ONE_LIVE_PAIRING
from tests.concurrency import concurrently
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import BASE, create, joined, running_programme
from tests.servers import live_app
from workflows.errors import violated_constraint

DEPARTMENTS = ["Sales", "Engineering", "Finance"]


def _department_rule(client: FlaskClient, coordinator: Caller, programme: dict[str, Any]) -> dict[str, str]:
    """Both intake forms ask for a department, and the programme's hard rule: never the same one."""
    url = f"{BASE}/{programme['id']}/intake-forms"
    form = [{"kind": "single", "label": "Department", "options": DEPARTMENTS}]
    mentee = client.put(f"{url}/mentee", headers=coordinator.headers, json={"items": form}).get_json()["items"]
    mentor = client.put(f"{url}/mentor", headers=coordinator.headers, json={"items": form}).get_json()["items"]
    ids = {"mentee": mentee[0]["id"], "mentor": mentor[0]["id"]}
    rule = client.put(f"{BASE}/{programme['id']}/matching", headers=coordinator.headers, json={
        "pairing_mode": "manual",
        "criteria": [{"kind": "differ", "mentee_question_id": ids["mentee"], "mentor_question_id": ids["mentor"]}]})
    assert rule.status_code == 200, rule.get_json()
    return ids


def _answer(client: FlaskClient, person: Caller, programme: dict[str, Any], question_id: str, value: str) -> None:
    answered = client.put(f"{BASE}/{programme['id']}/intake", headers=person.headers,
                          json={"answers": [{"question_id": question_id, "value": value}]})
    assert answered.status_code == 200, answered.get_json()


def test_a_mentee_has_one_live_pairing_and_the_second_is_refused_naming_the_first(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    first, first_id = joined(client, coordinator, programme, "mentor")
    _, second_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    url = f"{BASE}/{programme['id']}/pairings"
    made = client.post(url, headers=coordinator.headers, json={"mentor_participant_id": first_id,
                                                               "mentee_participant_id": mentee_id})
    assert made.status_code == 201, made.get_json()
    again = client.post(url, headers=coordinator.headers, json={"mentor_participant_id": second_id,
                                                                "mentee_participant_id": mentee_id})
    assert again.status_code == 409, again.get_json()
    assert f"already paired with {first.user.display_name}" in again.get_json()["message"]
    assert db.scalar(select(func.count()).select_from(Pairing)) == 1
    # Once that pairing ends, the mentee may be paired again.
    ended = client.post(f"{url}/{made.get_json()['id']}/end", headers=coordinator.headers, json={})
    assert ended.status_code == 200, ended.get_json()
    later = client.post(url, headers=coordinator.headers, json={"mentor_participant_id": second_id,
                                                                "mentee_participant_id": mentee_id})
    assert later.status_code == 201, later.get_json()
    assert mentee.user.id == uuid.UUID(later.get_json()["mentee_user_id"])


def test_the_database_holds_one_live_pairing_per_mentee(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    _, mentor_id = joined(client, coordinator, programme, "mentor")
    _, other_id = joined(client, coordinator, programme, "mentor")
    _, mentee_id = joined(client, coordinator, programme, "mentee")
    made = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id})
    assert made.status_code == 201, made.get_json()
    first = db.get_one(Pairing, uuid.UUID(made.get_json()["id"]))
    twin = Pairing(id=uuid.uuid4(), programme_id=first.programme_id, mentor_participant_id=uuid.UUID(other_id),
                   mentee_participant_id=first.mentee_participant_id, mentor_profile_id=first.mentor_profile_id,
                   mentee_user_id=first.mentee_user_id, listing_id=first.listing_id, status=PairingStatus.PROPOSED,
                   cadence_weeks=1, session_minutes=60, session_count=1)
    savepoint = db.begin_nested()
    db.add(twin)
    with pytest.raises(IntegrityError) as refused:
        db.flush()
    savepoint.rollback()
    assert violated_constraint(refused.value) == ONE_LIVE_PAIRING


def _post(app: Any, caller: Caller, path: str, body: dict[str, Any]) -> Callable[[], int]:
    headers = caller.headers
    return lambda: app.test_client().post(path, headers=headers, json=body).status_code


def test_two_coordinators_pairing_one_mentee_at_once_make_one_pairing(seed: Session,
                                                                      committed: sessionmaker[Session]) -> None:
    admin, first, second = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory()), as_caller(UserFactory())
    mentors, mentees = [as_caller(UserFactory()) for _ in range(2)], [as_caller(UserFactory()) for _ in range(3)]
    seed.commit()
    app = live_app(committed)
    client = app.test_client()
    programme = create(client, admin, first, second, session_count=2)
    client.post(f"{BASE}/{programme['id']}/open-enrolment", headers=first.headers)
    mentor_ids = [joined(client, first, programme, "mentor", person=one, capacity=5)[1] for one in mentors]
    url = f"{BASE}/{programme['id']}/pairings"
    for mentee in mentees:
        _, mentee_id = joined(client, first, programme, "mentee", person=mentee)
        answers = concurrently([
            _post(app, first, url, {"mentor_participant_id": mentor_ids[0], "mentee_participant_id": mentee_id}),
            _post(app, second, url, {"mentor_participant_id": mentor_ids[1], "mentee_participant_id": mentee_id})])
        assert sorted(answers) == [201, 409], answers
        with committed() as db:
            live = db.scalar(select(func.count()).select_from(Pairing).where(
                Pairing.mentee_user_id == mentee.user.id, Pairing.status != PairingStatus.ENDED))
            proposed = db.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.type == "pairing.proposed", OutboxEvent.payload["mentee_user_id"].astext
                == str(mentee.user.id)))
        assert (live, proposed) == (1, 1)


def test_a_hand_pairing_obeys_the_hard_rules_unless_a_coordinator_overrides_one_with_a_reason(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    ids = _department_rule(client, coordinator, programme)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    _answer(client, mentor, programme, ids["mentor"], "Sales")
    _answer(client, mentee, programme, ids["mentee"], "Sales")
    url = f"{BASE}/{programme['id']}/pairings"
    body = {"mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}
    refused = client.post(url, headers=coordinator.headers, json=body)
    assert refused.status_code == 409, refused.get_json()
    assert "the same answer to “Department”" in refused.get_json()["message"]
    assert refused.get_json()["errors"]["rule"] == "hard_rule"
    assert db.scalar(select(func.count()).select_from(Pairing)) == 0
    blank = client.post(url, headers=coordinator.headers, json={**body, "override_reason": "   "})
    assert blank.status_code == 409, blank.get_json()
    too_long = client.post(url, headers=coordinator.headers, json={**body, "override_reason": "x" * 1001})
    assert too_long.status_code == 422
    reason = "Different teams in Sales; they never work together"
    made = client.post(url, headers=coordinator.headers, json={**body, "override_reason": reason})
    assert made.status_code == 201, made.get_json()
    pairing = made.get_json()
    assert pairing["rules_overridden"] == ["the same answer to “Department”"]
    assert pairing["override_reason"] == reason
    (event,) = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == uuid.UUID(pairing["id"]),
                                                    OutboxEvent.type == "pairing.proposed")).all()
    assert (event.payload["rules_overridden"], event.payload["override_reason"]) == (pairing["rules_overridden"],
                                                                                     reason)


def test_a_pair_that_keeps_the_rules_is_made_without_a_reason(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    ids = _department_rule(client, coordinator, programme)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    _answer(client, mentor, programme, ids["mentor"], "Finance")
    _answer(client, mentee, programme, ids["mentee"], "Sales")
    made = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id})
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["rules_overridden"], made.get_json()["override_reason"]) == ([], None)


def test_no_pairing_starts_before_the_programmes_first_day(client: FlaskClient, db: Session) -> None:
    first_day = (datetime.now(UTC) + timedelta(days=10)).date()
    coordinator, programme = running_programme(client, starts_on=first_day.isoformat())
    _, mentor_id = joined(client, coordinator, programme, "mentor")
    _, mentee_id = joined(client, coordinator, programme, "mentee")
    _, other_id = joined(client, coordinator, programme, "mentee")
    url = f"{BASE}/{programme['id']}/pairings"
    early = datetime.combine(first_day - timedelta(days=3), datetime.min.time(), UTC) + timedelta(hours=10)
    refused = client.post(url, headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id, "first_start": early.isoformat()})
    assert refused.status_code == 400, refused.get_json()
    assert first_day.isoformat() in refused.get_json()["message"]
    made = client.post(url, headers=coordinator.headers, json={"mentor_participant_id": mentor_id,
                                                               "mentee_participant_id": other_id})
    assert made.status_code == 201, made.get_json()
    assert date.fromisoformat(made.get_json()["first_start"][:10]) >= first_day
