"""The directory's intake answers as each reader reads them (``workflows.programmes.directory``): in one query for a
whole cohort, the person's answers first, a manager by name where they are in the directory too (by their id or
their external id there), nothing for an attribute not sent or a person the directory does not know, and the matcher's
cohort comparing them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Programme, ProgrammeParticipant, User
from tests.factories.accounts import as_caller
from tests.factories.programmes import BASE, joined, running_programme
from tests.factories.scim import scim_provider
from workflows.matching import cohort
from workflows.matching.settings import Settings
from workflows.programmes import directory
from workflows.sign_on import scim
from workflows.sign_on.scim import UserData


def test_every_reader_reads_the_directory_s_answers_of_a_whole_cohort_at_once(client: FlaskClient,
                                                                              db: Session) -> None:
    provider, _token, domain = scim_provider(db)

    def provisioned(name: str, **data: str | None) -> ProgrammeParticipant | User:
        row = scim.create_user(db, provider, UserData(user_name=f"{name}@{domain}", email=f"{name}@{domain}",
                                                      display_name=name.title(), **data))  # type: ignore[arg-type]
        return db.get_one(User, row.user_id)

    boss = provisioned("boss", external_id="ext-boss", department="Board")
    ada = provisioned("ada", department="Sales", manager="ext-boss")  # the manager by their external id
    bea = provisioned("bea", manager="unknown-7")  # no department: no answer
    cid = provisioned("cid", department="sales")  # the same department, another case
    dan = provisioned("dan", department="Finance", manager=str(db.scalars(
        select(scim.ScimUser.id).where(scim.ScimUser.user_id == boss.id)).one()))  # by their id in the directory
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    asked = client.put(f"{url}/intake-forms/mentee", headers=coordinator.headers, json={"items": [
        {"kind": "text", "label": "Goal"}, {"kind": "text", "label": "Manager", "directory": "manager"},
        {"kind": "text", "label": "Department", "directory": "department"}]}).get_json()["items"]
    mentor_q = client.put(f"{url}/intake-forms/mentor", headers=coordinator.headers, json={"items": [
        {"kind": "text", "label": "Department", "directory": "department"}]}).get_json()["items"][0]
    assert client.put(f"{url}/matching", headers=coordinator.headers, json={"pairing_mode": "manual", "criteria": [
        {"kind": "same", "mentee_question_id": asked[2]["id"], "mentor_question_id": mentor_q["id"], "weight": 1}]}
    ).status_code == 200
    ids = {}
    for person in (ada, bea, dan):
        ids[person.display_name] = uuid.UUID(joined(client, coordinator, programme, "mentee",
                                                    person=as_caller(person))[1])
    ids["Cid"] = uuid.UUID(joined(client, coordinator, programme, "mentor", person=as_caller(cid))[1])
    outsider = uuid.UUID(joined(client, coordinator, programme, "mentee")[1])
    for person, said in ((ada, [{"question_id": asked[0]["id"], "value": "Negotiation"}]), (bea, []), (dan, [])):
        assert client.put(f"{url}/intake", headers=as_caller(person).headers,
                          json={"answers": said}).status_code == 200  # finished: matched

    found = directory.directory_answers(db, [*ids.values(), outsider])
    values = {name: [(a["label"], a["value"]) for a in found.get(ids[name], [])] for name in ids}
    assert values == {"Ada": [("Manager", "Boss"), ("Department", "Sales")], "Bea": [("Manager", "unknown-7")],
                      "Dan": [("Manager", "Boss"), ("Department", "Finance")], "Cid": [("Department", "sales")]}
    assert outsider not in found and directory.directory_answers(db, []) == {}
    ada_row = db.get_one(ProgrammeParticipant, ids["Ada"])
    db.refresh(ada_row)
    assert [a["value"] for a in directory.all_answers(db, ada_row)] == ["Negotiation", "Boss", "Sales"]
    column = dict(db.execute(select(ProgrammeParticipant.id, directory.answers_with_directory()).where(
        ProgrammeParticipant.id.in_([ids["Ada"], outsider]))).all())
    assert [a["value"] for a in column[ids["Ada"]]] == ["Negotiation", "Boss", "Sales"] and column[outsider] is None

    # The matcher's cohort compares the directory's department, without case.
    row = db.get_one(Programme, uuid.UUID(programme["id"]))
    gathered = cohort.gather(db, row, Settings.of(row.matching), datetime.now(UTC))
    answers = {one["name"]: one["answers"] for one in (*gathered["mentees"], *gathered["mentors"])}
    assert answers["Ada"] == answers["Cid"] == ["sales"] and answers["Dan"] == ["finance"]
    assert answers["Bea"] == [None]
