"""A programme's intake through the API: its coordinators edit a form per audience (bounded: 500 questions are
refused and change nothing), participants answer the form of their role and a mentee gives weekly windows, checked;
the answers are seen by the coordinators and the participant only; a closed intake changes no more; two coordinators
saving the form at once leave one whole form; a deleted account takes its answers with it."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import ParticipantAvailability, ProgrammeParticipant, Question
from tests.concurrency import concurrently
from tests.factories.accounts import PASSWORD, Caller, UserFactory, actor_of, as_caller
from tests.factories.programmes import BASE, create, joined, running_programme
from tests.servers import live_app
from workflows.accounts import deletion

MENTEE_FORM = [
    {"kind": "text", "label": "What do you want to work on?", "required": True},
    {"kind": "single", "label": "Department", "options": ["Engineering", "Design", "Sales"], "required": True},
    {"kind": "multiple", "label": "Topics", "options": ["Career", "Code review", "Leadership"]},
    {"kind": "scale", "label": "How confident are you?"},
]


def test_a_mentee_answers_the_form_of_their_role_and_only_they_and_the_coordinators_read_it(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    made = client.put(f"{url}/intake-forms/mentee", headers=coordinator.headers, json={"items": MENTEE_FORM})
    assert made.status_code == 200 and [q["label"] for q in made.get_json()["items"]] == [
        q["label"] for q in MENTEE_FORM]
    client.put(f"{url}/intake-forms/mentor", headers=coordinator.headers, json={"items": [
        {"kind": "scale", "label": "Years of experience, roughly", "required": True}]})
    mentee, mentor = (joined(client, coordinator, programme, "mentee")[0],
                      joined(client, coordinator, programme, "mentor", hours=None)[0])
    mine = client.get(f"{url}/intake", headers=mentee.headers).get_json()
    assert (mine["role"], mine["answers"], mine["windows"], mine["editable"]) == ("mentee", [], [], True)
    assert client.get(f"{url}/intake-forms/mentor", headers=mentee.headers).status_code == 404
    ids = [q["id"] for q in mine["form"]]
    bad = [
        ({"answers": [{"question_id": ids[1], "value": "Design"}]}, 422, "needs an answer"),
        ({"answers": [{"question_id": ids[0], "value": "x"}, {"question_id": ids[1], "value": "Law"}]}, 422,
         "one of its choices"),
        ({"answers": [{"question_id": ids[0], "value": "x"}, {"question_id": ids[1], "value": "Design"}],
          "windows": [{"weekday": 1, "start_minute": 600, "end_minute": 720},
                      {"weekday": 1, "start_minute": 700, "end_minute": 800}]}, 400, "overlap"),
        ({"answers": [], "windows": [{"weekday": 7, "start_minute": 0, "end_minute": 60}]}, 422, "weekday"),
        ({"answers": [], "windows": [{"weekday": 1, "start_minute": 0, "end_minute": 60}] * 22}, 422, "windows"),
    ]
    for body, status, words in bad:
        answer = client.put(f"{url}/intake", headers=mentee.headers, json=body)
        assert answer.status_code == status and words in str(answer.get_json()), (body, answer.get_json())
    stored = db.scalar(select(ProgrammeParticipant).where(ProgrammeParticipant.user_id == mentee.user.id))
    assert stored is not None and stored.intake_answers is None  # nothing half-written
    answered = client.put(f"{url}/intake", headers=mentee.headers, json={
        "answers": [{"question_id": ids[0], "value": " Public speaking "}, {"question_id": ids[1], "value": "Design"},
                    {"question_id": ids[2], "value": ["Leadership", "Career"]}],
        "windows": [{"weekday": 3, "start_minute": 1080, "end_minute": 1200},
                    {"weekday": 1, "start_minute": 1080, "end_minute": 1200}]})
    assert answered.status_code == 200, answered.get_json()
    got = answered.get_json()
    assert [(a["label"], a["value"]) for a in got["answers"]] == [
        ("What do you want to work on?", "Public speaking"), ("Department", "Design"),
        ("Topics", ["Career", "Leadership"])]
    assert got["timezone"] == "Asia/Tokyo" and [w["weekday"] for w in got["windows"]] == [1, 3]
    # A mentor answers their own form, with their weekly hours (test_programme_intake_hours.py).
    mentor_form = client.get(f"{url}/intake", headers=mentor.headers).get_json()["form"]
    assert client.put(f"{url}/intake", headers=mentor.headers, json={
        "answers": [{"question_id": mentor_form[0]["id"], "value": 4}],
        "windows": [{"weekday": 1, "start_minute": 600, "end_minute": 660}]}).status_code == 200
    # Who reads a mentee's intake: the coordinators and the mentee; not the mentor, nor another programme's people.
    participant = got["participant_id"]
    read = client.get(f"{url}/participants/{participant}/intake", headers=coordinator.headers)
    assert read.status_code == 200 and read.get_json()["answers"] == got["answers"]
    assert client.get(f"{url}/participants/{participant}/intake", headers=mentee.headers).status_code == 200
    other_coordinator, other = running_programme(client)
    stranger = joined(client, other_coordinator, other, "mentee")[0]
    for outsider in (mentor, other_coordinator, stranger, as_caller(UserFactory())):
        assert client.get(f"{url}/participants/{participant}/intake", headers=outsider.headers).status_code == 404
    listed = client.get(f"{url}/participants", headers=coordinator.headers).get_json()["items"]
    assert all(p["intake_answered_at"] for p in listed)
    assert all(p["intake_answered_at"] is None
               for p in client.get(f"{url}/participants", headers=mentee.headers).get_json()["items"])
    # Closed: the answers stay and change no more.
    assert client.patch(url, headers=coordinator.headers, json={"intake_open": False}).status_code == 200
    assert client.get(f"{url}/intake", headers=mentee.headers).get_json()["editable"] is False
    late = client.put(f"{url}/intake", headers=mentee.headers, json={"answers": []})
    assert late.status_code == 400 and late.get_json()["message"] == "the intake is closed: your answers change no more"


def test_a_form_of_500_questions_is_refused_and_changes_nothing(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}/intake-forms/mentee"
    client.put(url, headers=coordinator.headers, json={"items": MENTEE_FORM})
    for count in (500, 31):
        huge = client.put(url, headers=coordinator.headers, json={"items": [
            {"kind": "text", "label": f"Question {i}"} for i in range(count)]})
        assert huge.status_code == 422, count
    for wrong in ({"kind": "single", "label": "One", "options": ["only"]}, {"kind": "essay", "label": "x"},
                  {"kind": "text", "label": ""}):
        assert client.put(url, headers=coordinator.headers, json={"items": [wrong]}).status_code in {400, 422}
    assert [q["label"] for q in client.get(url, headers=coordinator.headers).get_json()["items"]] == [
        q["label"] for q in MENTEE_FORM]
    assert client.put(url, headers=as_caller(UserFactory()).headers, json={"items": []}).status_code == 404
    thirty = client.put(url, headers=coordinator.headers, json={"items": [
        {"kind": "text", "label": f"Question {i}"} for i in range(30)]})
    assert thirty.status_code == 200 and len(thirty.get_json()["items"]) == 30


def test_two_coordinators_saving_the_form_at_once_leave_one_whole_form(seed: Session,
                                                                       committed: sessionmaker[Session]) -> None:
    admin, first, second = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory()), as_caller(UserFactory())
    seed.commit()
    app = live_app(committed)
    programme = create(app.test_client(), admin, first, second)
    url = f"{BASE}/{programme['id']}/intake-forms/mentee"
    forms = {"first": [{"kind": "text", "label": f"First {i}"} for i in range(12)],
             "second": [{"kind": "scale", "label": f"Second {i}"} for i in range(9)]}

    def save(caller: Caller, items: list[dict[str, Any]]) -> Any:
        headers = caller.headers
        return lambda: app.test_client().put(url, headers=headers, json={"items": items}).status_code

    for _ in range(3):
        assert concurrently([save(first, forms["first"]), save(second, forms["second"])]) == [200, 200]
        with committed() as db:
            labels = list(db.scalars(select(Question.label).where(
                Question.programme_id == uuid.UUID(programme["id"])).order_by(Question.position)))
        assert labels in ([q["label"] for q in forms["first"]], [q["label"] for q in forms["second"]])


def test_a_deleted_account_takes_its_intake_with_it(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    client.put(f"{url}/intake-forms/mentee", headers=coordinator.headers, json={"items": MENTEE_FORM[:1]})
    mentee = joined(client, coordinator, programme, "mentee")[0]
    form = client.get(f"{url}/intake", headers=mentee.headers).get_json()["form"]
    client.put(f"{url}/intake", headers=mentee.headers, json={
        "answers": [{"question_id": form[0]["id"], "value": "Negotiation"}],
        "windows": [{"weekday": 2, "start_minute": 540, "end_minute": 600}]})
    deletion.delete_account(db, actor_of(mentee.user), current_password=PASSWORD)
    row = db.scalar(select(ProgrammeParticipant).where(ProgrammeParticipant.user_id == mentee.user.id))
    assert row is not None
    assert (row.status, row.intake_answers, row.intake_answered_at, row.timezone) == ("left", None, None, None)
    assert db.scalars(select(ParticipantAvailability).where(ParticipantAvailability.participant_id == row.id)).all() \
        == []
