"""Matching through the API: a coordinator sets what counts, runs the match (the run carried out here as the matching
worker carries it out), reviews the drafts with their scores and reasons, swaps, pins and removes, and publishes;
a pair that cannot meet is explained and never drafted; late joiners fill the room left without moving published
pairs; a run is cancelled; in a programme whose mentees choose, a mentor's last place goes to one of the mentees who
ask for it at once; a pair counts only at a start the mentor's listing offers (off the quarter hour too), and a
draft fails to publish only for what changed since the run, saying what."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from infra.db import transaction
from models import MatchDraft, MatchRun, MentorProfile, Notification, OutboxEvent, Pairing
from tests.concurrency import concurrently
from tests.database import notifications_read
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import BASE, create, joined, running_programme
from tests.servers import live_app
from workflows.matching import drafts, execution
from workflows.notifications import messages
from workflows.skills import ensure_skills

MENTEE_FORM = [{"kind": "multiple", "label": "What do you want to learn?",
                "options": ["Python", "Go", "SQL", "Design"]},
               {"kind": "single", "label": "Department", "options": ["Sales", "Engineering", "Finance"]}]
MENTOR_FORM = [{"kind": "single", "label": "Department", "options": ["Sales", "Engineering", "Finance"]}]


def _forms(client: FlaskClient, coordinator: Caller, programme: dict[str, Any]) -> dict[str, str]:
    url = f"{BASE}/{programme['id']}/intake-forms"
    mentee = client.put(f"{url}/mentee", headers=coordinator.headers, json={"items": MENTEE_FORM}).get_json()["items"]
    mentor = client.put(f"{url}/mentor", headers=coordinator.headers, json={"items": MENTOR_FORM}).get_json()["items"]
    return {"wants": mentee[0]["id"], "mentee_dept": mentee[1]["id"], "mentor_dept": mentor[0]["id"]}


def _settings(client: FlaskClient, coordinator: Caller, programme: dict[str, Any], ids: dict[str, str],
              mode: str = "coordinator") -> Any:
    return client.put(f"{BASE}/{programme['id']}/matching", headers=coordinator.headers, json={
        "pairing_mode": mode, "criteria": [
            {"kind": "shared", "mentee_question_id": ids["wants"], "mentor_question_id": None, "weight": 2},
            {"kind": "differ", "mentee_question_id": ids["mentee_dept"], "mentor_question_id": ids["mentor_dept"]}]})


def _mentor(client: FlaskClient, db: Session, coordinator: Caller, programme: dict[str, Any], ids: dict[str, str], *,
            skills: list[str], department: str, hours: tuple[str, str] = ("00:00", "23:59"), capacity: int = 1,
            zone: str = "UTC") -> tuple[Caller, str]:
    person, participant = joined(client, coordinator, programme, "mentor", capacity=capacity)
    profile = db.scalars(select(MentorProfile).where(MentorProfile.user_id == person.user.id)).one()
    profile.skills, profile.timezone = ensure_skills(db, skills), zone
    assert client.put(f"/api/v1/mentor-profiles/{profile.id}/availability", headers=person.headers, json={
        "windows": [{"weekday": day, "start": hours[0], "end": hours[1]} for day in range(7)]}).status_code == 200
    assert client.put(f"{BASE}/{programme['id']}/intake", headers=person.headers, json={
        "answers": [{"question_id": ids["mentor_dept"], "value": department}]}).status_code == 200
    return person, participant


def _mentee(client: FlaskClient, coordinator: Caller, programme: dict[str, Any], ids: dict[str, str], *,
            wants: list[str], department: str, zone: str = "UTC", hours: tuple[int, int] = (0, 1440)
            ) -> tuple[Caller, str]:
    person, participant = joined(client, coordinator, programme, "mentee")
    assert client.put(f"{BASE}/{programme['id']}/intake", headers=person.headers, json={
        "answers": [{"question_id": ids["wants"], "value": wants}, {"question_id": ids["mentee_dept"],
                                                                   "value": department}],
        "timezone": zone, "windows": [{"weekday": day, "start_minute": hours[0], "end_minute": hours[1]}
                                      for day in range(7)]}).status_code == 200
    return person, participant


def _run(client: FlaskClient, db: Session, coordinator: Caller, programme: dict[str, Any]) -> dict[str, Any]:
    """Ask for a run, and carry it out as the matching worker does (each step in the test's transaction)."""
    asked = client.post(f"{BASE}/{programme['id']}/match-runs", headers=coordinator.headers)
    assert asked.status_code == 202, asked.get_json()
    assert asked.get_json()["status"] == "queued"
    assert execution.execute(lambda: nullcontext(db), uuid.UUID(asked.get_json()["id"])) == "done"
    run = client.get(f"{BASE}/{programme['id']}/match-runs/{asked.get_json()['id']}", headers=coordinator.headers)
    return run.get_json()


def _drafts(client: FlaskClient, coordinator: Caller, programme: dict[str, Any]) -> dict[str, dict[str, Any]]:
    listed = client.get(f"{BASE}/{programme['id']}/match-drafts", headers=coordinator.headers).get_json()["items"]
    return {one["mentee_name"]: one for one in listed}


def _publish(db: Session, programme: dict[str, Any]) -> int:
    """Publish the drafts being published, as the matching worker does (each in the test's transaction)."""
    done = 0
    while drafts.publish_one(db, uuid.UUID(programme["id"])):
        done += 1
    return done


def _history(client: FlaskClient, coordinator: Caller, programme: dict[str, Any]) -> set[str]:
    timeline = client.get(f"{BASE}/{programme['id']}/history", headers=coordinator.headers,
                          query_string={"limit": 100}).get_json()["items"]
    return {entry["type"] for entry in timeline}


def _told(db: Session, coordinator: Caller, run_id: str) -> Notification:
    """The coordinator's inbox message (mailed when SMTP is set) of the run's end, as the worker writes it."""
    messages.handle_events(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.aggregate_id == uuid.UUID(run_id), OutboxEvent.type == "match_run.completed"))))
    (told,) = db.scalars(select(Notification).where(Notification.user_id == coordinator.user.id,
                                                    Notification.type == "match_run.completed")).all()
    assert told.message == "match_run.completed"
    assert [one.title for one in notifications_read(db, Notification.id == told.id)] == ["Match ready"]
    return told


def _name(caller: Caller) -> str:
    return caller.user.display_name


def test_a_coordinator_runs_the_match_reviews_the_drafts_and_publishes_them(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client, session_minutes=60, session_count=4)
    ids = _forms(client, coordinator, programme)
    assert _settings(client, coordinator, programme, ids).status_code == 200
    lin, lin_id = _mentor(client, db, coordinator, programme, ids, skills=["python", "sql"], department="Engineering")
    max_, max_id = _mentor(client, db, coordinator, programme, ids, skills=["go", "design"], department="Finance")
    ada, ada_id = _mentee(client, coordinator, programme, ids, wants=["Python", "SQL"], department="Sales")
    bo, bo_id = _mentee(client, coordinator, programme, ids, wants=["Go", "Design"], department="Engineering")
    run = _run(client, db, coordinator, programme)
    assert run["status"] == "done" and run["progress"] == 100 and len(run["inputs_digest"]) == 64
    result = run["result"]
    assert (result["mentees"], result["mentors"], result["matched"], result["top3"]) == (2, 2, 2, 2)
    assert (result["matched"], result["total"]) >= (result["greedy_matched"], result["greedy_total"])
    # The inputs kept give the same result again, whenever it is read.
    kept = db.get_one(MatchRun, uuid.UUID(run["id"]))
    assert kept.inputs is not None and execution.replay(kept.inputs)[2] == result
    made = _drafts(client, coordinator, programme)
    assert made[_name(ada)]["mentor_participant_id"] == lin_id
    assert made[_name(bo)]["mentor_participant_id"] == max_id  # never Lin: the same department
    assert made[_name(ada)]["reasons"][:2] == ["2 shared skills", "different “Department”"]
    assert made[_name(ada)]["reasons"][2].endswith(" h a week in common")
    assert made[_name(ada)]["reasons"][3:] == ["same timezone", "1 of 1 places left"]
    # Why Bo was not given Lin, in a coordinator's words.
    why = client.get(f"{BASE}/{programme['id']}/match-runs/{run['id']}/explain", headers=coordinator.headers,
                     query_string={"mentee_participant_id": bo_id, "mentor_participant_id": lin_id}).get_json()
    assert why["explanation"] == f"{_name(bo)} and {_name(lin)}: the same answer to “Department”"
    assert (why["made"], why["candidate"]) == (False, False)
    # Swapping the two would pair Bo with his own department: refused, nothing changed.
    url = f"{BASE}/{programme['id']}/match-drafts"
    swap = client.post(f"{url}/swap", headers=coordinator.headers,
                       json={"draft_ids": [made[_name(ada)]["id"], made[_name(bo)]["id"]]})
    assert swap.status_code == 409 and "Department" in swap.get_json()["message"]
    assert _drafts(client, coordinator, programme) == made
    # Pin Ada's, remove Bo's; a new run keeps the pin and drafts Bo again.
    assert client.patch(f"{url}/{made[_name(ada)]['id']}", headers=coordinator.headers,
                        json={"pinned": True}).get_json()["pinned"] is True
    assert client.delete(f"{url}/{made[_name(bo)]['id']}", headers=coordinator.headers).status_code == 204
    again = _run(client, db, coordinator, programme)
    # Ada is pinned, not matched again; the run counts her pinned
    assert (again["result"]["mentees"], again["result"]["matched"], again["result"]["pinned"]) == (1, 1, 1)
    after = _drafts(client, coordinator, programme)
    assert after[_name(ada)]["id"] == made[_name(ada)]["id"] and after[_name(ada)]["pinned"] is True
    assert after[_name(bo)]["mentor_participant_id"] == max_id
    # Publish: each draft becomes a pairing whose sessions are asked for; both of each pair are told.
    published = client.post(f"{url}/publish", headers=coordinator.headers)
    assert published.status_code == 202 and published.get_json()["publishing"] == 2
    assert _publish(db, programme) == 2
    assert _drafts(client, coordinator, programme) == {}
    pairs = {(str(p.mentor_participant_id), str(p.mentee_participant_id)): p for p in db.scalars(
        select(Pairing).where(Pairing.programme_id == uuid.UUID(programme["id"])))}
    assert set(pairs) == {(lin_id, ada_id), (max_id, bo_id)}
    assert all(p.status.value == "proposed" and p.first_start is not None for p in pairs.values())
    told = db.scalars(select(OutboxEvent.type).where(
        OutboxEvent.aggregate_id.in_([p.id for p in pairs.values()]))).all()
    assert sorted(told) == ["pairing.proposed", "pairing.proposed"]
    # The test's one transaction gives every event the same created_at: which came first is not in the table.
    runs_told = set(db.scalars(select(OutboxEvent.type).where(OutboxEvent.aggregate_id == uuid.UUID(run["id"]))))
    assert runs_told == {"match_run.requested", "match_run.progress", "match_run.completed"}
    assert "match_run.completed" in _history(client, coordinator, programme)  # the programme's history has its runs
    told = _told(db, coordinator, run["id"])
    assert (told.words["matched"], told.words["mentees"], told.data["link"]) == (
        2, 2, f"#/programmes/{programme['id']}/matching")
    assert (lin, max_) and client.get(f"{BASE}/{programme['id']}/match-drafts", headers=ada.headers).status_code == 403


def test_a_pair_that_cannot_meet_is_never_drafted_and_is_explained(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client, session_minutes=60, cadence_weeks=2)
    ids = _forms(client, coordinator, programme)
    _settings(client, coordinator, programme, ids)
    # Lin works 09:00-12:00 in New York; Ada is free 18:00-20:00 in Tokyo: never the same hour.
    lin, lin_id = _mentor(client, db, coordinator, programme, ids, skills=["python"], department="Finance",
                          hours=("09:00", "12:00"), zone="America/New_York")
    ada, ada_id = _mentee(client, coordinator, programme, ids, wants=["Python"], department="Sales",
                          zone="Asia/Tokyo", hours=(18 * 60, 20 * 60))
    run = _run(client, db, coordinator, programme)
    assert run["result"]["matched"] == 0 and _drafts(client, coordinator, programme) == {}
    (left,) = run["result"]["unmatched"]
    assert left["reason"] == ("no mentor has time in common at 60-minute sessions every 2 weeks in the mentee's "
                              "windows (Asia/Tokyo)")
    why = client.get(f"{BASE}/{programme['id']}/match-runs/{run['id']}/explain", headers=coordinator.headers,
                     query_string={"mentee_participant_id": ada_id, "mentor_participant_id": lin_id}).get_json()
    assert why["explanation"] == f"{_name(ada)} and {_name(lin)}: 0 h in common at 60-minute sessions every 2 weeks"


def test_late_joiners_fill_the_room_left_without_moving_published_pairs(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client, session_minutes=60, session_count=2)
    ids = _forms(client, coordinator, programme)
    _settings(client, coordinator, programme, ids)
    _, lin_id = _mentor(client, db, coordinator, programme, ids, skills=["python"], department="Finance", capacity=2)
    _, ada_id = _mentee(client, coordinator, programme, ids, wants=["Python"], department="Sales")
    _run(client, db, coordinator, programme)
    client.post(f"{BASE}/{programme['id']}/match-drafts/publish", headers=coordinator.headers)
    _publish(db, programme)
    first = db.scalars(select(Pairing).where(Pairing.programme_id == uuid.UUID(programme["id"]))).one()
    late, late_id = _mentee(client, coordinator, programme, ids, wants=["Python"], department="Sales")
    run = _run(client, db, coordinator, programme)
    assert (run["result"]["mentees"], run["result"]["matched"]) == (1, 1)  # only the late joiner is matched
    assert _drafts(client, coordinator, programme)[_name(late)]["mentor_participant_id"] == lin_id
    db.refresh(first)
    assert (str(first.mentee_participant_id), first.status.value) == (ada_id, "proposed")
    # One more: the late joiner's draft was not pinned, so both are matched again into Lin's one place left.
    _mentee(client, coordinator, programme, ids, wants=["Python"], department="Sales")
    full = _run(client, db, coordinator, programme)
    assert (full["result"]["mentees"], full["result"]["matched"]) == (2, 1)
    assert [one["reason"] for one in full["result"]["unmatched"]] == [
        "the 1 mentor who fit took mentees with fewer options (pinned pairs and places as they stood)"]
    assert late_id in {one["mentee_participant_id"] for one in full["result"]["pairs"]} | {
        one["mentee_participant_id"] for one in full["result"]["unmatched"]}


def test_runs_one_at_a_time_cancelled_and_refused_where_they_do_not_belong(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}/match-runs"
    mentee, _ = joined(client, coordinator, programme, "mentee")
    first = client.post(url, headers=coordinator.headers)
    assert first.status_code == 202
    assert client.post(url, headers=coordinator.headers).status_code == 409  # one at a time
    assert client.post(url, headers=mentee.headers).status_code == 403
    assert client.post(url, headers=as_caller(UserFactory()).headers).status_code == 404
    cancelled = client.post(f"{url}/{first.get_json()['id']}/cancel", headers=coordinator.headers)
    assert cancelled.get_json()["status"] == "cancelled"
    assert execution.execute(lambda: nullcontext(db), uuid.UUID(first.get_json()["id"])) == "not claimed"
    assert client.post(f"{url}/{first.get_json()['id']}/cancel", headers=coordinator.headers).status_code == 409
    # A running run stops at its next step once cancelled.
    second = client.post(url, headers=coordinator.headers).get_json()
    with nullcontext(db):
        assert execution.claim(db, uuid.UUID(second["id"]), execution.utcnow())
    assert client.post(f"{url}/{second['id']}/cancel", headers=coordinator.headers).get_json()["status"] == "running"
    with pytest.raises(execution.Stopped):
        execution.advance(lambda: nullcontext(db), uuid.UUID(second["id"]), "scoring", 70)
    assert client.get(f"{url}/{second['id']}", headers=coordinator.headers).get_json()["status"] == "cancelled"
    # A programme paired by hand runs no match; settings name the programme's own questions only.
    manual = client.put(f"{BASE}/{programme['id']}/matching", headers=coordinator.headers,
                        json={"pairing_mode": "manual"})
    assert manual.status_code == 200
    assert client.post(url, headers=coordinator.headers).status_code == 400
    wrong = client.put(f"{BASE}/{programme['id']}/matching", headers=coordinator.headers, json={
        "pairing_mode": "coordinator", "criteria": [{"kind": "shared", "mentee_question_id": str(uuid.uuid4())}]})
    assert wrong.status_code == 422


def _ask(app: Any, caller: Caller, path: str, body: dict[str, Any]) -> Any:
    headers = caller.headers
    return lambda: app.test_client().post(path, headers=headers, json=body).status_code


def test_mentees_choose_and_a_mentors_last_place_goes_to_one_of_those_asking_at_once(
        seed: Session, committed: sessionmaker[Session]) -> None:
    admin, coordinator = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory())
    mentees = [as_caller(UserFactory()) for _ in range(6)]
    lin, max_ = as_caller(UserFactory()), as_caller(UserFactory())
    seed.commit()
    app = live_app(committed)
    client = app.test_client()
    programme = create(client, admin, coordinator, session_count=2)
    client.post(f"{BASE}/{programme['id']}/open-enrolment", headers=coordinator.headers)
    assert client.put(f"{BASE}/{programme['id']}/matching", headers=coordinator.headers,
                      json={"pairing_mode": "mentee_choice", "top_k": 2}).status_code == 200
    _, lin_id = joined(client, coordinator, programme, "mentor", person=lin, capacity=1)
    _, max_id = joined(client, coordinator, programme, "mentor", person=max_, capacity=3)
    for mentee in mentees:
        joined(client, coordinator, programme, "mentee", person=mentee)
    run = client.post(f"{BASE}/{programme['id']}/match-runs", headers=coordinator.headers).get_json()
    with committed() as db:
        assert execution.execute(lambda: nullcontext(db), uuid.UUID(run["id"])) == "done"
        db.commit()
        assert db.scalar(select(func.count()).select_from(MatchDraft)) == 0  # the mentees choose: no drafts
    offered = client.get(f"{BASE}/{programme['id']}/recommendations", headers=mentees[0].headers).get_json()["items"]
    assert {one["mentor_participant_id"] for one in offered} == {lin_id, max_id}
    assert all("places left" not in " ".join(one["reasons"]) for one in offered)  # a mentor's room is not theirs
    assert all(set(one) == {"rank", "mentor_participant_id", "mentor_name", "reasons"} for one in offered)
    assert client.get(f"{BASE}/{programme['id']}/recommendations", headers=coordinator.headers).status_code == 404
    path = f"{BASE}/{programme['id']}/mentor-requests"
    answers = concurrently([_ask(app, mentee, path, {"mentor_participant_id": lin_id}) for mentee in mentees])
    assert sorted(answers) == [201] + [409] * 5, answers
    with committed() as db:
        assert db.scalar(select(func.count()).select_from(Pairing).where(
            Pairing.mentor_participant_id == uuid.UUID(lin_id))) == 1
    # Lin is full now: the others see Max alone, and one who asked for Lin may ask for Max.
    loser = mentees[answers.index(409)]
    offered = client.get(f"{BASE}/{programme['id']}/recommendations", headers=loser.headers).get_json()["items"]
    assert [one["mentor_participant_id"] for one in offered] == [max_id]
    assert client.post(path, headers=loser.headers, json={"mentor_participant_id": max_id}).status_code == 201
    assert client.post(path, headers=loser.headers, json={"mentor_participant_id": max_id}).status_code == 409
    # Max reads it as the mentee's own ask, not the programme's proposal.
    (asked,) = client.get("/api/v1/booking-series", headers=max_.headers).get_json()["items"]
    assert asked["pairing"]["asked_by_mentee"] is True


def test_the_api_and_the_workers_load_neither_numpy_nor_scipy_until_a_match_needs_them(database_url: str) -> None:
    # The matcher's arrays and solver cost the matching worker about 65 MB; every other process stays as it was.
    code = ("import sys\nfrom api import create_app\ncreate_app()\nimport workers\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'scipy'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "DATABASE_URL": database_url})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_cancel_heard_mid_run_sticks_and_runs_publication_and_edits_take_turns(
        seed: Session, committed: sessionmaker[Session]) -> None:
    admin, coordinator = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory())
    people = [as_caller(UserFactory()) for _ in range(3)]
    seed.commit()
    client = live_app(committed).test_client()
    programme = create(client, admin, coordinator)
    client.post(f"{BASE}/{programme['id']}/open-enrolment", headers=coordinator.headers)
    joined(client, coordinator, programme, "mentor", person=people[0], capacity=2)
    _, bo_id = joined(client, coordinator, programme, "mentee", person=people[1])
    joined(client, coordinator, programme, "mentee", person=people[2])
    url = f"{BASE}/{programme['id']}"

    def worker_transaction() -> Any:  # as the worker's: committed, or rolled back on any error
        return transaction(committed)

    # A running run hears its cancel at its next step, in a transaction that commits it.
    run = client.post(f"{url}/match-runs", headers=coordinator.headers).get_json()
    with worker_transaction() as db:
        assert execution.claim(db, uuid.UUID(run["id"]), execution.utcnow())
    assert client.post(f"{url}/match-runs/{run['id']}/cancel", headers=coordinator.headers).status_code == 200
    with pytest.raises(execution.Stopped):
        execution.advance(worker_transaction, uuid.UUID(run["id"]), "scoring every pair", 70)
    assert client.get(f"{url}/match-runs/{run['id']}", headers=coordinator.headers).get_json()["status"] == "cancelled"
    # A run done; while another waits, its drafts do not change nor publish.
    done = client.post(f"{url}/match-runs", headers=coordinator.headers).get_json()
    assert execution.execute(worker_transaction, uuid.UUID(done["id"])) == "done"
    listed = client.get(f"{url}/match-drafts", headers=coordinator.headers).get_json()["items"]
    assert len(listed) == 2
    waiting = client.post(f"{url}/match-runs", headers=coordinator.headers).get_json()
    assert client.patch(f"{url}/match-drafts/{listed[0]['id']}", headers=coordinator.headers,
                        json={"pinned": True}).status_code == 409
    assert client.post(f"{url}/match-drafts/publish", headers=coordinator.headers).status_code == 409
    client.post(f"{url}/match-runs/{waiting['id']}/cancel", headers=coordinator.headers)
    # Bo is paired by hand meanwhile: publishing his draft refuses to give him a second mentor; the other goes.
    (bo_draft,) = [one for one in listed if one["mentee_participant_id"] == bo_id]
    by_hand = client.post(f"{url}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": bo_draft["mentor_participant_id"], "mentee_participant_id": bo_id})
    assert by_hand.status_code == 201
    assert client.post(f"{url}/match-drafts/publish", headers=coordinator.headers).status_code == 202
    assert client.post(f"{url}/match-runs", headers=coordinator.headers).status_code == 409  # while publishing
    while True:
        with worker_transaction() as db:
            if not drafts.publish_one(db, uuid.UUID(programme["id"])):
                break
    (left,) = client.get(f"{url}/match-drafts", headers=coordinator.headers).get_json()["items"]
    assert (left["mentee_participant_id"], left["status"]) == (bo_id, "failed")
    assert "is already paired with" in left["problem"]
    # A run whose worker was lost twice is failed, not handed on a third time.
    lost = client.post(f"{url}/match-runs", headers=coordinator.headers).get_json()
    with worker_transaction() as db:
        db.execute(update(MatchRun).where(MatchRun.id == uuid.UUID(lost["id"])).values(
            status="running", attempts=2, started_at=datetime.now(UTC) - timedelta(hours=1)))
    with worker_transaction() as db:
        assert not execution.claim(db, uuid.UUID(lost["id"]), execution.utcnow())
    failed = client.get(f"{url}/match-runs/{lost['id']}", headers=coordinator.headers).get_json()
    assert failed["status"] == "failed" and "lost 2 times" in failed["error"]


# A January cohort: four weeks of winter time from Monday 6 January 2031 (Berlin is UTC+1, London UTC).
JANUARY, BEFORE_JANUARY = "2031-01-06", datetime(2030, 12, 20, 9, tzinfo=UTC)


def _run_at(client: FlaskClient, db: Session, coordinator: Caller, programme: dict[str, Any], now: datetime
            ) -> dict[str, Any]:
    """:func:`_run` with the worker's clock at ``now``."""
    asked = client.post(f"{BASE}/{programme['id']}/match-runs", headers=coordinator.headers).get_json()
    assert execution.execute(lambda: nullcontext(db), uuid.UUID(asked["id"]), now=now) == "done"
    return client.get(f"{BASE}/{programme['id']}/match-runs/{asked['id']}", headers=coordinator.headers).get_json()


def _published(client: FlaskClient, db: Session, coordinator: Caller, programme: dict[str, Any], now: datetime
               ) -> None:
    assert client.post(f"{BASE}/{programme['id']}/match-drafts/publish", headers=coordinator.headers).status_code == 202
    while drafts.publish_one(db, uuid.UUID(programme["id"]), now=now):
        pass


def test_a_pair_is_a_candidate_only_at_a_start_the_mentor_s_listing_offers(client: FlaskClient, db: Session) -> None:
    """Lin's listing offers 60-minute sessions from 09:00, 10:00 and 11:00 Berlin time (08:00, 09:00, 10:00 UTC in
    January); Ada is free 09:30-10:30 in London: they share an hour, but no session of Lin's fits it. Bo, free
    09:00-10:30, fits the one at 09:00 UTC, and is the one drafted and published, at that time."""
    coordinator, programme = running_programme(client, session_minutes=60, session_count=4, starts_on=JANUARY)
    ids = _forms(client, coordinator, programme)
    _settings(client, coordinator, programme, ids)
    lin, lin_id = _mentor(client, db, coordinator, programme, ids, skills=["python"], department="Finance",
                          hours=("09:00", "12:00"), zone="Europe/Berlin")
    ada, ada_id = _mentee(client, coordinator, programme, ids, wants=["Python"], department="Sales",
                          zone="Europe/London", hours=(9 * 60 + 30, 10 * 60 + 30))
    _, bo_id = _mentee(client, coordinator, programme, ids, wants=["Python"], department="Sales",
                       zone="Europe/London", hours=(9 * 60, 10 * 60 + 30))
    run = _run_at(client, db, coordinator, programme, BEFORE_JANUARY)
    assert [(one["mentee_participant_id"], one["mentor_participant_id"]) for one in run["result"]["pairs"]] == [
        (bo_id, lin_id)]
    why = client.get(f"{BASE}/{programme['id']}/match-runs/{run['id']}/explain", headers=coordinator.headers,
                     query_string={"mentee_participant_id": ada_id, "mentor_participant_id": lin_id}).get_json()
    assert (why["made"], why["candidate"]) == (False, False)
    assert why["explanation"] == (f"{_name(ada)} and {_name(lin)}: 7 h a week in common, but no time for a 60-minute "
                                  f"session in week 1 from {JANUARY} (sessions every week)")
    assert db.scalars(select(MatchDraft.first_start)).all() == [datetime(2031, 1, 6, 9, tzinfo=UTC)]
    _published(client, db, coordinator, programme, BEFORE_JANUARY)
    assert _drafts(client, coordinator, programme) == {}
    pairing = db.scalars(select(Pairing).where(Pairing.programme_id == uuid.UUID(programme["id"]))).one()
    assert (str(pairing.mentee_participant_id), pairing.first_start) == (bo_id, datetime(2031, 1, 6, 9, tzinfo=UTC))


def test_a_start_off_the_quarter_hour_that_the_listing_offers_makes_a_candidate(client: FlaskClient,
                                                                                 db: Session) -> None:
    """50-minute sessions from 09:00 Berlin time: 09:00, 09:50 and 10:40 (08:00, 08:50 and 09:40 UTC). Cy, free
    09:40-10:30 in London, fits the last one exactly."""
    coordinator, programme = running_programme(client, session_minutes=50, session_count=4, starts_on=JANUARY)
    ids = _forms(client, coordinator, programme)
    _settings(client, coordinator, programme, ids)
    _, lin_id = _mentor(client, db, coordinator, programme, ids, skills=["python"], department="Finance",
                        hours=("09:00", "12:00"), zone="Europe/Berlin")
    _, cy_id = _mentee(client, coordinator, programme, ids, wants=["Python"], department="Sales",
                        zone="Europe/London", hours=(9 * 60 + 40, 10 * 60 + 30))
    run = _run_at(client, db, coordinator, programme, BEFORE_JANUARY)
    assert [(one["mentee_participant_id"], one["mentor_participant_id"]) for one in run["result"]["pairs"]] == [
        (cy_id, lin_id)]
    assert db.scalars(select(MatchDraft.first_start)).all() == [datetime(2031, 1, 6, 9, 40, tzinfo=UTC)]
    _published(client, db, coordinator, programme, BEFORE_JANUARY)
    pairing = db.scalars(select(Pairing).where(Pairing.programme_id == uuid.UUID(programme["id"]))).one()
    assert pairing.first_start == datetime(2031, 1, 6, 9, 40, tzinfo=UTC)


def test_a_draft_fails_to_publish_only_for_what_changed_since_the_run_and_says_what(client: FlaskClient,
                                                                                     db: Session) -> None:
    coordinator, programme = running_programme(client, session_minutes=60, session_count=4, starts_on=JANUARY)
    ids = _forms(client, coordinator, programme)
    _settings(client, coordinator, programme, ids)
    lin, _ = _mentor(client, db, coordinator, programme, ids, skills=["python"], department="Finance",
                     hours=("09:00", "12:00"), zone="Europe/Berlin")
    ada, _ = _mentee(client, coordinator, programme, ids, wants=["Python"], department="Sales",
                     zone="Europe/London", hours=(9 * 60, 10 * 60 + 30))
    _run_at(client, db, coordinator, programme, BEFORE_JANUARY)
    # Since the run, Lin is away for the whole term.
    profile = db.scalars(select(MentorProfile).where(MentorProfile.user_id == lin.user.id)).one()
    assert client.put(f"/api/v1/mentor-profiles/{profile.id}/time-off", headers=lin.headers, json={"time_off": [
        {"start": "2031-01-01T00:00", "end": "2031-03-01T00:00", "note": "Away"}]}).status_code == 200
    _published(client, db, coordinator, programme, BEFORE_JANUARY)
    (failed,) = _drafts(client, coordinator, programme).values()
    assert (failed["status"], failed["problem"]) == (
        "failed", "none of the series' times is free: the mentor is not available at that time")
    assert ada and db.scalars(select(Pairing).where(Pairing.programme_id == uuid.UUID(programme["id"]))).all() == []


def test_runs_obey_the_coordinators_words_and_an_ended_pairing_is_not_proposed_again(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client, session_minutes=60, session_count=2)
    ids = _forms(client, coordinator, programme)
    _settings(client, coordinator, programme, ids)
    lin, lin_id = _mentor(client, db, coordinator, programme, ids, skills=["python"], department="Finance",
                          capacity=2)
    _, max_id = _mentor(client, db, coordinator, programme, ids, skills=["design"], department="Finance", capacity=2)
    ada, ada_id = _mentee(client, coordinator, programme, ids, wants=["Python"], department="Sales")
    url = f"{BASE}/{programme['id']}/match-preferences"
    assert _drafts(client, coordinator, programme) == {}
    assert _run(client, db, coordinator, programme)["result"]["pairs"][0]["mentor_participant_id"] == lin_id
    # "Never Ada with Lin": the next run gives her Max, and explains why not Lin.
    said = client.post(url, headers=coordinator.headers, json={
        "mentee_participant_id": ada_id, "mentor_participant_id": lin_id, "kind": "never"})
    assert said.status_code == 200, said.get_json()
    assert (said.get_json()["mentee_name"], said.get_json()["kind"]) == (_name(ada), "never")
    run = _run(client, db, coordinator, programme)
    assert run["result"]["pairs"][0]["mentor_participant_id"] == max_id
    why = client.get(f"{BASE}/{programme['id']}/match-runs/{run['id']}/explain", headers=coordinator.headers,
                     query_string={"mentee_participant_id": ada_id, "mentor_participant_id": lin_id}).get_json()
    assert why["explanation"].endswith("the coordinators keep them apart")
    draft = _drafts(client, coordinator, programme)[_name(ada)]
    assert (draft["mentor_capacity"], draft["mentor_places_used"]) == (2, 1)
    moved = client.patch(f"{BASE}/{programme['id']}/match-drafts/{draft['id']}", headers=coordinator.headers,
                         json={"mentor_participant_id": lin_id})
    assert moved.status_code == 409 and moved.get_json()["message"].endswith("the coordinators keep them apart")
    # The word taken back, Ada is paired with Lin and the pairing ends: the next run does not propose them again.
    assert client.delete(f"{url}/{said.get_json()['id']}", headers=coordinator.headers).status_code == 204
    made = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": lin_id, "mentee_participant_id": ada_id})
    assert made.status_code == 201, made.get_json()
    assert client.post(f"{BASE}/{programme['id']}/pairings/{made.get_json()['id']}/end",
                       headers=coordinator.headers, json={}).status_code == 200
    assert _run(client, db, coordinator, programme)["result"]["pairs"][0]["mentor_participant_id"] == max_id
    # Unless the coordinators ask for it: preferred, they are proposed again.
    assert client.post(url, headers=coordinator.headers, json={
        "mentee_participant_id": ada_id, "mentor_participant_id": lin_id, "kind": "prefer"}).status_code == 200
    again = _run(client, db, coordinator, programme)["result"]
    assert (again["pairs"][0]["mentor_participant_id"], again["preferred"]) == (lin_id, 1)
    listed = client.get(url, headers=coordinator.headers).get_json()["items"]
    assert [(one["kind"], one["mentee_name"], one["mentor_name"]) for one in listed] == [
        ("prefer", _name(ada), _name(lin))]
    # Each word is in the programme's history; a wrong one changes nothing.
    assert "programme.matching_changed" in _history(client, coordinator, programme)
    wrong = client.post(url, headers=coordinator.headers, json={
        "mentee_participant_id": lin_id, "mentor_participant_id": ada_id, "kind": "never"})
    assert wrong.status_code == 400 and wrong.get_json()["message"] == "that participant is a mentor, not a mentee"
    participant = client.post(url, headers=ada.headers, json={
        "mentee_participant_id": ada_id, "mentor_participant_id": max_id, "kind": "never"})
    assert participant.status_code == 403
    assert len(client.get(url, headers=coordinator.headers).get_json()["items"]) == 1
