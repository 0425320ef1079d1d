"""Who may call what: every operation of the OpenAPI document (read from it, so a new route is walked without
editing this file), called by six people, answers as the table of expected access says (``access_table.json``).
A new route without its row fails here until its row is written; a rule that lets one more person in, or one fewer,
fails here too.

The six: a stranger (an account with no part in anything), a participant of another programme, a participant (the
mentee of the session, booking and listing the paths name, who takes part in the programme), a coordinator of
another programme, the programme's coordinator, and an administrator. Each call is made inside a savepoint rolled
back after it, so every call meets the same world, whatever the calls before it did. Its answer is read as one of
``signed out`` (401), ``forbidden`` (403), ``hidden`` (404: as for nothing there), ``allowed`` (anything else: the
route let the caller in, whatever it then found in the documented example body).

``UPDATE_ACCESS_TABLE=1 pytest tests/api/common/test_access_every_route.py -n 0`` writes the table anew, to be read
over before it is committed: its diff is the change of who may.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import joined, running_programme
from tests.factories.sessions import make_session

TABLE = Path(__file__).with_name("access_table.json")
ROLES = ("stranger", "other_participant", "participant", "other_coordinator", "coordinator", "admin")
METHODS = frozenset({"get", "post", "put", "patch", "delete"})


def _answer(status: int) -> str:
    return {401: "signed out", 403: "forbidden", 404: "hidden"}.get(status, "allowed")


def _operations(client: FlaskClient) -> list[tuple[str, str, Any]]:
    """(method, path, the documented example body or None) of every operation."""
    spec = client.get("/api/openapi.json").get_json()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            body = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
            example = None
            if body is not None:
                example = body.get("example", next(iter(body.get("examples", {}).values()), {}).get("value", {}))
            found.append((method.upper(), path, example))
    return found


def _world(client: FlaskClient, db: Session) -> tuple[dict[str, Caller], dict[str, str]]:
    """The six callers, and the path parameters naming the participant's own session, booking, listing and mentor,
    and the programme they take part in with their participation."""
    coordinator, programme = running_programme(client)
    other_coordinator, other = running_programme(client)
    mentor, mentee, session = make_session(db, datetime.now(UTC) + timedelta(days=2))
    _, participation = joined(client, coordinator, programme, "mentee", person=mentee)
    other_participant, _ = joined(client, other_coordinator, other, "mentee")
    callers = {"stranger": as_caller(UserFactory()), "other_participant": other_participant, "participant": mentee,
               "other_coordinator": other_coordinator, "coordinator": coordinator,
               "admin": as_caller(UserFactory(is_admin=True))}
    db.flush()
    ids = {"programme_id": programme["id"], "participant_id": participation, "session_id": str(session.id),
           "booking_id": str(session.booking_id), "listing_id": str(session.listing_id),
           "profile_id": str(session.mentor_profile_id), "mentor_profile_id": str(session.mentor_profile_id),
           "user_id": str(mentor.user.id), "audience": "mentee"}
    return callers, ids


def _url(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: ids.get(match.group(1), str(uuid.UUID(int=1))), path)


def _walk(client: FlaskClient, connection: Connection, db: Session) -> dict[str, dict[str, str]]:
    callers, ids = _world(client, db)
    db.commit()  # into the test's savepoint: the world every call meets
    answers: dict[str, dict[str, str]] = {}
    for method, path, example in _operations(client):
        row = answers.setdefault(f"{method} {path}", {})
        for role in ROLES:
            call = connection.begin_nested()
            try:
                response = client.open(_url(path, ids), method=method, headers=callers[role].headers,
                                       json=example if example is not None else None)
            finally:
                call.rollback()
            assert response.status_code < 500, (method, path, role, response.get_json())
            row[role] = _answer(response.status_code)
    return answers


def test_every_route_answers_each_person_as_the_table_of_access_says(
        client: FlaskClient, connection: Connection, db: Session) -> None:
    answers = _walk(client, connection, db)
    if os.environ.get("UPDATE_ACCESS_TABLE"):
        TABLE.write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
    expected = json.loads(TABLE.read_text())
    unwritten = sorted(set(answers) - set(expected))
    assert not unwritten, f"routes with no row in {TABLE.name} (write who may call them): {unwritten}"
    gone = sorted(set(expected) - set(answers))
    assert not gone, f"rows of {TABLE.name} whose route is gone: {gone}"
    differ = {op: {role: f"{expected[op][role]} expected, {answer}" for role, answer in row.items()
                   if expected[op].get(role) != answer}
              for op, row in answers.items()}
    differ = {op: roles for op, roles in differ.items() if roles}
    assert not differ, f"who may call these differs from {TABLE.name}: {json.dumps(differ, indent=1)}"


def test_the_table_keeps_what_only_those_who_run_a_programme_read_from_its_people() -> None:
    """The table itself says what matters most: a programme's report, exports, history, invitations and drafts are
    its coordinators' and administrators' alone."""
    table = json.loads(TABLE.read_text())
    closed = [op for op in table if op.startswith("GET /api/v1/programmes/{programme_id}/")
              and re.search(r"/(report|exports/|history|invitations|match-drafts)", op)]
    assert len(closed) >= 5, closed
    for op in closed:
        row = table[op]
        assert row["coordinator"] == row["admin"] == "allowed", (op, row)
        assert {row[role] for role in ("stranger", "other_participant", "other_coordinator")} == {"hidden"}, (op, row)
        assert row["participant"] in ("forbidden", "hidden"), (op, row)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_meets_a_route_it_may_call_and_one_it_may_not(role: str) -> None:
    """The table is no list of one answer: each person is let in somewhere and kept out somewhere."""
    table = json.loads(TABLE.read_text())
    answers = {row[role] for row in table.values()}
    assert "allowed" in answers and answers & {"forbidden", "hidden"}, (role, answers)
