"""Revision 0054 marks whose intake is finished as the rule now reads it: a mentor without weekly hours is not (they
would read as free at any time), nor anyone who never answered a form of their role; those taking part in a programme
that pairs people are asked (``enrolment.intake_asked``, with its handlers' rows, so each is told and mailed). On a
database of this test's own, dropped after."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Connection, text

import workflows.handlers  # noqa: F401  (declares the handlers)
from outbox import REGISTRY
from tests.conftest import alembic_config
from tests.database import scratch_database
from workflows.events import EventType


def _person(conn: Connection, name: str, *, hours: bool | None = None) -> uuid.UUID:
    """A user (with a mentor profile, with weekly hours or none, when ``hours`` is not None)."""
    user = uuid.uuid4()
    conn.execute(text("INSERT INTO users (id, email, password_hash, display_name) VALUES (:id, :email, 'x', :name)"),
                 {"id": user, "email": f"{name.lower()}@example.com", "name": name})
    if hours is not None:
        profile = uuid.uuid4()
        conn.execute(text("INSERT INTO mentor_profiles (id, user_id, headline, timezone) VALUES (:id, :user, 'h', "
                          "'UTC')"), {"id": profile, "user": user})
        if hours:
            conn.execute(text("INSERT INTO availability_windows (id, mentor_profile_id, weekday, start_minute, "
                              "end_minute) VALUES (:id, :profile, 0, 540, 1020)"), {"id": uuid.uuid4(),
                                                                                    "profile": profile})
    return user


def _programme(conn: Connection, status: str, coordinator: uuid.UUID, *, mentee_form: bool) -> uuid.UUID:
    programme = uuid.uuid4()
    conn.execute(text("INSERT INTO programmes (id, name, status, closed_at) VALUES (:id, :name, :status, :closed)"),
                 {"id": programme, "name": f"Cohort {status}", "status": status,
                  "closed": datetime.now(UTC) if status == "closed" else None})
    conn.execute(text("INSERT INTO programme_coordinators (programme_id, user_id) VALUES (:p, :u)"),
                 {"p": programme, "u": coordinator})
    if mentee_form:
        conn.execute(text("INSERT INTO questions (id, programme_id, audience, position, kind, label) "
                          "VALUES (:id, :p, 'mentee', 0, 'text', 'Goals?')"), {"id": uuid.uuid4(), "p": programme})
    return programme


def _joined(conn: Connection, programme: uuid.UUID, user: uuid.UUID, role: str, *, answered: bool = False
            ) -> uuid.UUID:
    participant = uuid.uuid4()
    conn.execute(text("INSERT INTO programme_participants (id, programme_id, user_id, role, status, capacity, "
                      "intake_answers, intake_answered_at) VALUES (:id, :p, :u, :role, 'active', :capacity, "
                      "CAST(:answers AS jsonb), :answered_at)"),
                 {"id": participant, "p": programme, "u": user, "role": role,
                  "capacity": 2 if role == "mentor" else None, "answers": "[]" if answered else None,
                  "answered_at": datetime.now(UTC) if answered else None})
    return participant


def test_revision_0054_marks_mentors_without_hours_unfinished_and_asks_them() -> None:
    with scratch_database("0053") as (url, engine):
        with engine.begin() as conn:
            coordinator = _person(conn, "Katherine")
            cohort = _programme(conn, "enrolling", coordinator, mentee_form=True)
            plain = _programme(conn, "running", coordinator, mentee_form=False)
            over = _programme(conn, "closed", coordinator, mentee_form=False)
            no_hours = _joined(conn, cohort, _person(conn, "Ada", hours=False), "mentor", answered=True)
            with_hours = _joined(conn, cohort, _person(conn, "Grace", hours=True), "mentor")
            answered = _joined(conn, cohort, _person(conn, "Lin"), "mentee", answered=True)
            silent = _joined(conn, cohort, _person(conn, "Max"), "mentee")
            asked_nothing = _joined(conn, plain, _person(conn, "Mary"), "mentee")
            closed_mentor = _joined(conn, over, _person(conn, "Alan", hours=False), "mentor")
        command.upgrade(alembic_config(url), "0054")
        with engine.connect() as conn:
            finished = dict(conn.execute(text(
                "SELECT id, intake_finished_at IS NOT NULL FROM programme_participants")).all())
            asked = conn.execute(text(
                "SELECT e.aggregate_id, e.payload, e.actor, array_agg(h.handler ORDER BY h.handler) "
                "FROM outbox_events e JOIN outbox_handlers h ON h.event_id = e.id "
                "WHERE e.type = 'enrolment.intake_asked' AND h.status = 'pending' GROUP BY e.id")).all()
    assert finished == {no_hours: False, with_hours: True, answered: True, silent: False, asked_nothing: True,
                        closed_mentor: False}
    assert {row[0]: row[1]["role"] for row in asked} == {no_hours: "mentor", silent: "mentee"}
    (ada,) = [row for row in asked if row[0] == no_hours]
    assert ada[1]["programme_name"] == "Cohort enrolling" and ada[1]["coordinator_user_ids"] == [str(coordinator)]
    assert ada[1]["intake_finished"] is False and ada[2] == "system"
    assert set(ada[3]) == set(REGISTRY.handlers_for(EventType.ENROLMENT_INTAKE_ASKED))


def test_the_revisions_handlers_are_those_the_event_has() -> None:
    from importlib import util
    from pathlib import Path

    path = next((Path(__file__).parents[2] / "migrations" / "versions").glob("*_0054_*.py"))
    spec = util.spec_from_file_location("revision_0054", path)
    assert spec is not None and spec.loader is not None
    revision = util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    assert tuple(revision.HANDLERS) == tuple(REGISTRY.handlers_for(EventType.ENROLMENT_INTAKE_ASKED))
