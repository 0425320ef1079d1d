"""Intake answers the organisation's directory gives (``workflows.programmes.directory``): a coordinator asks for the
department and manager SCIM sends instead of asking people; the participant reads them and cannot answer them; the
programme's hard rule weighs them; the participants' export carries them; a move in the directory is read at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Pairing, ProgrammeParticipant, User
from tests.factories.accounts import Caller, as_caller
from tests.factories.programmes import BASE, joined, running_programme
from tests.factories.scim import scim_provider

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SCIM = "application/scim+json"
TODAY = datetime.now(UTC).date()
NAMES = {"grac": "Grace Hopper"}
PERIOD = {"from": TODAY.isoformat(), "to": (TODAY + timedelta(days=30)).isoformat()}


def _provision(client: FlaskClient, token: str, email: str, department: str, manager: dict[str, str] | None = None
               ) -> dict[str, Any]:
    enterprise: dict[str, Any] = {"department": department, **({"manager": manager} if manager else {})}
    made = client.post("/scim/v2/Users", headers={"Authorization": f"Bearer {token}", "Content-Type": SCIM}, json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE], "userName": email,
        "emails": [{"value": email, "primary": True}], "displayName": NAMES.get(email[:4], email[:3]),
        ENTERPRISE: enterprise})
    assert made.status_code == 201, made.get_json()
    return dict(made.get_json())


def _forms(client: FlaskClient, coordinator: Caller, url: str) -> list[dict[str, Any]]:
    """The mentees' form (a question of theirs, the directory's department and manager), the mentors' (the
    directory's department), and the hard rule: never the same department. What the directory cannot answer is
    refused."""
    forms = f"{url}/intake-forms"
    for refused, words in (
            ({"kind": "single", "label": "Team", "options": ["A", "B"], "directory": "department"}, "free-text"),
            ({"kind": "text", "label": "Team", "directory": "department", "required": True}, "never required"),
            ({"kind": "text", "label": "Team", "directory": "cost_centre"}, "directory")):
        answer = client.put(f"{forms}/mentee", headers=coordinator.headers, json={"items": [refused]})
        assert answer.status_code == 422 and words in str(answer.get_json()), answer.get_json()
    mentee_form = client.put(f"{forms}/mentee", headers=coordinator.headers, json={"items": [
        {"kind": "text", "label": "What do you want to work on?"},
        {"kind": "text", "label": "Department", "directory": "department"},
        {"kind": "text", "label": "Manager", "directory": "manager"}]}).get_json()["items"]
    assert [q["directory"] for q in mentee_form] == [None, "department", "manager"]
    mentor_form = client.put(f"{forms}/mentor", headers=coordinator.headers, json={"items": [
        {"kind": "text", "label": "Department", "directory": "department"}]}).get_json()["items"]
    # A free-text question the person answers is no rule's; the directory's is compared whole.
    free_text = client.put(f"{url}/matching", headers=coordinator.headers, json={"pairing_mode": "manual", "criteria": [
        {"kind": "differ", "mentee_question_id": mentee_form[0]["id"], "mentor_question_id": mentor_form[0]["id"]}]})
    assert free_text.status_code == 422, free_text.get_json()
    rule = client.put(f"{url}/matching", headers=coordinator.headers, json={"pairing_mode": "manual", "criteria": [
        {"kind": "differ", "mentee_question_id": mentee_form[1]["id"], "mentor_question_id": mentor_form[0]["id"]}]})
    assert rule.status_code == 200, rule.get_json()
    return list(mentee_form)


def test_the_directory_s_department_and_manager_are_read_as_intake_answers_by_the_person_the_rules_and_exports(
        client: FlaskClient, db: Session) -> None:
    _provider, token, domain = scim_provider(db)
    grace = _provision(client, token, f"grace@{domain}", "Sales")
    # Okta's way: the manager's id and name, no $ref (the name is read-only: read from the manager's own account).
    ada = _provision(client, token, f"ada@{domain}", "Sales", {"value": grace["id"], "displayName": "G."})
    bob = _provision(client, token, f"bob@{domain}", "Sales")
    _provision(client, token, f"cyd@{domain}", "Finance")
    people = {user.email.split("@")[0]: as_caller(user) for user in db.scalars(
        select(User).where(User.email.like(f"%@{domain}")))}
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    mentee_form = _forms(client, coordinator, url)
    _, mentee_id = joined(client, coordinator, programme, "mentee", person=people["ada"])
    _, same_id = joined(client, coordinator, programme, "mentor", person=people["bob"])
    _, other_id = joined(client, coordinator, programme, "mentor", person=people["cyd"])
    mine = client.get(f"{url}/intake", headers=people["ada"].headers).get_json()
    assert [(a["label"], a["value"], a.get("directory")) for a in mine["answers"]] == [
        ("Department", "Sales", "department"), ("Manager", "Grace Hopper", "manager")]
    # The person answers their own questions, never the directory's: refused, and nothing written.
    told = client.put(f"{url}/intake", headers=people["ada"].headers, json={"answers": [
        {"question_id": mentee_form[0]["id"], "value": "Negotiation"},
        {"question_id": mentee_form[1]["id"], "value": "Finance"}]})
    assert told.status_code == 422 and "directory" in told.get_json()["message"], told.get_json()
    stored = db.scalars(select(ProgrammeParticipant.intake_answers).where(
        ProgrammeParticipant.user_id == people["ada"].user.id)).one()
    assert stored is None
    saved = client.put(f"{url}/intake", headers=people["ada"].headers, json={"answers": [
        {"question_id": mentee_form[0]["id"], "value": "Negotiation"}]})
    assert saved.status_code == 200, saved.get_json()
    assert [a["value"] for a in saved.get_json()["answers"]] == ["Negotiation", "Sales", "Grace Hopper"]

    # The hard rule reads the directory: Bob is in Ada's department, Cy is not.
    pairings = f"{url}/pairings"
    same = client.post(pairings, headers=coordinator.headers, json={
        "mentor_participant_id": same_id, "mentee_participant_id": mentee_id})
    assert same.status_code == 409 and "“Department”" in same.get_json()["message"], same.get_json()
    assert db.scalar(select(func.count()).select_from(Pairing)) == 0

    # IT moves Ada to Finance: read at once, by her intake and by the rule (now Cy is her department's).
    moved = client.patch(f"/scim/v2/Users/{ada['id']}", headers={"Authorization": f"Bearer {token}",
                                                                 "Content-Type": SCIM}, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Finance"}]})
    assert moved.status_code == 200, moved.get_json()
    read = client.get(f"{url}/participants/{mentee_id}/intake", headers=coordinator.headers).get_json()
    assert [a["value"] for a in read["answers"]] == ["Negotiation", "Finance", "Grace Hopper"]
    assert client.post(pairings, headers=coordinator.headers, json={
        "mentor_participant_id": other_id, "mentee_participant_id": mentee_id}).status_code == 409
    made = client.post(pairings, headers=coordinator.headers, json={
        "mentor_participant_id": same_id, "mentee_participant_id": mentee_id})
    assert made.status_code == 201, made.get_json()
    # Entra's way: the manager's id alone, in a PATCH; one not in this directory is read as the id sent.
    entra = client.patch(f"/scim/v2/Users/{bob['id']}", headers={"Authorization": f"Bearer {token}",
                                                                "Content-Type": SCIM}, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "e-99"}]})
    assert entra.status_code == 200 and entra.get_json()[ENTERPRISE]["manager"]["value"] == "e-99", entra.get_json()
    flattened = client.patch(f"/scim/v2/Users/{bob['id']}", headers={"Authorization": f"Bearer {token}",
                                                                    "Content-Type": SCIM}, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {f"{ENTERPRISE}:manager": "e-98"}}]})
    assert flattened.status_code == 200, flattened.get_json()
    assert flattened.get_json()[ENTERPRISE]["manager"]["value"] == "e-98"

    # The participants' export: the person's answers, then the directory's; none for one it says nothing of.
    rows = {row["display_name"]: row["intake_answers"] for row in client.get(
        f"{url}/exports/participants", headers=coordinator.headers, query_string=PERIOD).get_json()["items"]}
    assert [(a["label"], a["value"]) for a in rows["ada"]] == [
        ("What do you want to work on?", "Negotiation"), ("Department", "Finance"), ("Manager", "Grace Hopper")]
    assert [(a["label"], a["value"]) for a in rows["bob"]] == [("Department", "Sales")]
    outsider, _ = joined(client, coordinator, programme, "mentee")
    rows = {row["participant_id"]: row["intake_answers"] for row in client.get(
        f"{url}/exports/participants", headers=coordinator.headers, query_string=PERIOD).get_json()["items"]}
    assert sorted(map(str, rows.values())).count("None") == 1
    csv = client.get(f"{url}/exports/participants.csv", headers=coordinator.headers, query_string=PERIOD)
    assert csv.status_code == 200 and "Department: Finance\nManager: Grace Hopper" in csv.get_data(as_text=True)
    assert outsider.user.id not in {caller.user.id for caller in people.values()}
