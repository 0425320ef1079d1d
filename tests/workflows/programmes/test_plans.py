"""A programme's plan (``workflows.programmes.plans``): the resources a step suggests are http(s) addresses and
nothing else (never fetched); applying an edited plan to a running pairing has one defined outcome for each kind of
step: done or skipped kept as they were (moved with their plan step), to do rewritten or removed, new ones added."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Pairing, PairingStep, StepStatus
from tests.factories.accounts import Caller, actor_of
from tests.factories.programmes import BASE, joined, running_programme
from workflows.errors import InvalidInput
from workflows.programmes import plans
from workflows.programmes.plans import _link


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://example.org/a", "https://", "http://[::1",
    "https://example.org/a b", "https://example.org/\u0000", "//example.org/x", "https://e.org/" + "a" * 2000])
def test_a_resource_is_an_http_or_https_address_and_nothing_else(url: str) -> None:
    with pytest.raises(InvalidInput):
        _link({"title": "A link", "url": url}, "step 1")


def test_a_private_address_is_kept_as_given_and_a_title_is_needed() -> None:
    assert _link({"title": " Wiki ", "url": " http://10.0.0.7/wiki "}, "step 1") == {
        "title": "Wiki", "url": "http://10.0.0.7/wiki"}
    with pytest.raises(InvalidInput):
        _link({"title": "", "url": "https://example.org"}, "step 1")


def _step(title: str, number: int, **more: Any) -> dict[str, Any]:
    return {"anchor": "week", "number": number, "title": title, **more}


def _pairing(client: FlaskClient, db: Session, coordinator: Caller, programme: dict[str, Any]) -> Pairing:
    _, mentor_id = joined(client, coordinator, programme, "mentor")
    _, mentee_id = joined(client, coordinator, programme, "mentee")
    made = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
    pairing = db.get_one(Pairing, uuid.UUID(made["id"]))
    plans.copy_onto(db, pairing)  # as its activation does
    db.flush()
    return pairing


def test_applying_a_plan_keeps_what_the_pair_did_and_follows_the_plan_for_the_rest(client: FlaskClient,
                                                                                   db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}/plan"
    first = client.put(url, headers=coordinator.headers, json={"steps": [
        _step("A", 1), _step("B", 2), _step("C", 3), _step("D", 4)]}).get_json()["steps"]
    pairing = _pairing(client, db, coordinator, programme)
    rows = {row.title: row for row in db.scalars(select(PairingStep).where(PairingStep.pairing_id == pairing.id))}
    assert sorted(rows) == ["A", "B", "C", "D"] and pairing.plan_version == 1
    rows["A"].status, rows["A"].done_at = StepStatus.DONE, rows["A"].updated_at  # done
    rows["B"].status, rows["B"].done_at, rows["B"].note = StepStatus.SKIPPED, rows["B"].updated_at, "no need"
    db.flush()
    ids = {step["title"]: step["id"] for step in first}
    # Reordered: D first; A reworded (done: keeps "A"); B gone from the plan (skipped: kept); C gone (to do: goes).
    client.put(url, headers=coordinator.headers, json={"steps": [
        _step("D, sooner", 1, id=ids["D"]), _step("A, reworded", 2, id=ids["A"]), _step("E", 5)]})
    plans.apply_plan(db, actor_of(coordinator.user), uuid.UUID(programme["id"]))
    after = [(row.title, row.status, row.position, row.note) for row in db.scalars(
        select(PairingStep).where(PairingStep.pairing_id == pairing.id).order_by(PairingStep.position,
                                                                                PairingStep.title))]
    assert after == [("D, sooner", StepStatus.TODO, 0, None), ("A", StepStatus.DONE, 1, None),
                     ("B", StepStatus.SKIPPED, 1, "no need"), ("E", StepStatus.TODO, 2, None)]
    assert pairing.plan_version == 2


def test_a_pairing_that_started_before_the_plan_gets_its_first_copy_when_the_plan_is_applied(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    _, mentor_id = joined(client, coordinator, programme, "mentor")
    _, mentee_id = joined(client, coordinator, programme, "mentee")
    made = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
    pairing = db.get_one(Pairing, uuid.UUID(made["id"]))
    pairing.activated_at = pairing.created_at  # active before its programme had a plan: no copy
    db.flush()
    url = f"{BASE}/{programme['id']}/plan"
    assert client.get(url, headers=coordinator.headers).get_json()["pairings_behind"] == 0  # no plan: none behind
    plan = client.put(url, headers=coordinator.headers, json={"steps": [_step("A", 1), _step("B", 2)]}).get_json()
    assert plan["pairings_behind"] == 1
    assert client.post(f"{url}/apply", headers=coordinator.headers).get_json()["pairings_behind"] == 0
    db.refresh(pairing)
    assert pairing.plan_version == 1 and sorted(db.scalars(select(PairingStep.title).where(
        PairingStep.pairing_id == pairing.id))) == ["A", "B"]
