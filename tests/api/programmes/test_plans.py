"""A programme's engagement plan through the API: its coordinators write it (bounded: 53 steps, a `javascript:` link,
an agenda too long are refused and change nothing); a pairing gets its copy when it becomes active and the pair work
through it (this week's step, done, skipped with a note, back to do; the events, history and the other half told);
editing the plan leaves running pairings as they are until it is applied, with a defined outcome for the steps
already done; the coordinators read the progress; two coordinators editing at once leave one whole plan."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, OutboxEvent, Pairing, PlanStep
from tests.concurrency import concurrently
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import BASE, create, joined, running_programme
from tests.servers import live_app
from workflows.notifications import messages
from workflows.programmes import following
from workflows.sessions import lifecycle as sessions

PLAN = [
    {"anchor": "week", "number": 1, "title": "Get to know each other", "agenda": "- Where you are\n- **Hopes**"},
    {"anchor": "session", "number": 2, "title": "Set a goal",
     "links": [{"title": "SMART goals", "url": "https://example.org/smart"},
               {"title": "An intranet page", "url": "http://10.0.0.7/wiki"}]},
    {"anchor": "week", "number": 6, "title": "Halfway check"},
]


def _active(client: FlaskClient, db: Session, coordinator: Caller, programme: dict[str, Any]
            ) -> tuple[Caller, Caller, dict[str, Any]]:
    """A pair, paired and their series accepted: the pairing active (its handler run as the worker runs it)."""
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    pairing = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
    assert client.post(f"/api/v1/booking-series/{pairing['series_id']}/accept",
                       headers=mentor.headers).status_code == 200
    following.follow_series(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.type == "booking_series.accepted", OutboxEvent.aggregate_id == uuid.UUID(pairing["series_id"])))))
    assert db.get_one(Pairing, uuid.UUID(pairing["id"])).activated_at is not None
    return mentor, mentee, pairing


def test_a_pair_works_through_the_plan_copied_when_their_pairing_became_active(client: FlaskClient,
                                                                               db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    for body, words in (({"steps": [PLAN[0]] * 53}, "steps"),
                        ({"steps": [{**PLAN[1], "links": [{"title": "x", "url": "javascript:alert(1)"}]}]}, "http"),
                        ({"steps": [{**PLAN[0], "agenda": "x" * 4001}]}, "agenda"),
                        ({"steps": [{**PLAN[1], "number": 101}]}, "session 1 to 100")):
        refused = client.put(f"{url}/plan", headers=coordinator.headers, json=body)
        assert refused.status_code == 422 and words in str(refused.get_json()), refused.get_json()
    assert db.scalar(select(func.count()).select_from(PlanStep)) == 0  # nothing half-written
    made = client.put(f"{url}/plan", headers=coordinator.headers, json={"steps": PLAN})
    assert made.status_code == 200, made.get_json()
    plan = made.get_json()
    assert plan["version"] == 1 and [s["title"] for s in plan["steps"]] == [s["title"] for s in PLAN]
    assert plan["steps"][0]["agenda_html"] == "<ul>\n<li>Where you are</li>\n<li><strong>Hopes</strong></li>\n</ul>\n"

    mentor, mentee, pairing = _active(client, db, coordinator, programme)
    assert client.get(f"{url}/plan", headers=mentee.headers).status_code in {403, 404}  # the coordinators' plan
    mine = client.get(f"{url}/pairings/{pairing['id']}/plan", headers=mentee.headers).get_json()
    steps = mine["steps"]
    assert (mine["week"], mine["sessions_held"], mine["done"]) == (1, 0, 0)
    assert mine["current_step_id"] == steps[0]["id"] and [s["status"] for s in steps] == ["todo"] * 3
    assert steps[1]["links"][1]["url"] == "http://10.0.0.7/wiki"  # kept as given, never fetched

    # The mentee ticks week 1 done: the next to do whose time has come is session 2's (the next session is 1 + 0).
    done = client.post(f"{url}/pairings/{pairing['id']}/plan/{steps[0]['id']}/done", headers=mentee.headers, json={})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["current_step_id"] == steps[1]["id"] and done.get_json()["done"] == 1
    again = client.post(f"{url}/pairings/{pairing['id']}/plan/{steps[0]['id']}/done", headers=mentee.headers, json={})
    assert again.status_code == 400 and "cannot tick off a plan step that is done" in again.get_json()["message"]
    skipped = client.post(f"{url}/pairings/{pairing['id']}/plan/{steps[1]['id']}/skip", headers=mentor.headers,
                          json={"note": "  We set one \u202e  in week 1. "})
    assert skipped.status_code == 200 and skipped.get_json()["steps"][1]["note"] == "We set one in week 1."
    back = client.post(f"{url}/pairings/{pairing['id']}/plan/{steps[1]['id']}/reopen", headers=coordinator.headers,
                       json={})
    assert back.status_code == 200 and back.get_json()["steps"][1]["note"] is None
    stranger, _ = joined(client, coordinator, programme, "mentee")
    assert client.post(f"{url}/pairings/{pairing['id']}/plan/{steps[1]['id']}/done", headers=stranger.headers,
                       json={}).status_code == 404
    events = sorted(db.scalars(select(OutboxEvent.type).where(OutboxEvent.type.like("plan.%"))))
    assert events == ["plan.step_done", "plan.step_reopened", "plan.step_skipped"]
    history = {e["type"] for e in client.get(f"{url}/history", headers=coordinator.headers).get_json()["items"]}
    assert {"programme.plan_changed", "plan.step_done", "plan.step_skipped"} <= history

    # A session of the pairing shows its step: its first session, week 1's.
    first = db.scalars(select(Booking.id).where(Booking.series_id == uuid.UUID(pairing["series_id"]))
                       .order_by(Booking.start_time)).first()
    session = sessions.create_session_from_booking(db, first)
    assert session is not None
    step = client.get(f"/api/v1/sessions/{session.id}/plan-step", headers=mentor.headers)
    assert step.status_code == 200 and step.get_json()["title"] == "Get to know each other", step.get_json()
    assert client.get(f"/api/v1/sessions/{session.id}/plan-step", headers=stranger.headers).status_code == 404

    progress = client.get(f"{url}/plan/progress", headers=coordinator.headers).get_json()
    assert progress["pairings"] == 1 and [(s["done"], s["skipped"], s["todo"]) for s in progress["steps"]] == [
        (1, 0, 0), (0, 0, 1), (0, 0, 1)]
    assert progress["by_pairing"] == [{"pairing_id": pairing["id"], "behind": 1, "total": 3}]


def test_editing_the_plan_leaves_running_pairings_as_they_are_until_it_is_applied(client: FlaskClient,
                                                                                 db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    plan = client.put(f"{url}/plan", headers=coordinator.headers, json={"steps": PLAN}).get_json()
    mentor, mentee, pairing = _active(client, db, coordinator, programme)
    steps = client.get(f"{url}/pairings/{pairing['id']}/plan", headers=mentee.headers).get_json()["steps"]
    client.post(f"{url}/pairings/{pairing['id']}/plan/{steps[0]['id']}/done", headers=mentee.headers, json={})
    ids = [s["id"] for s in plan["steps"]]
    # The new version: week 1 reworded (done: kept as it was), session 2 gone, halfway reworded, a new last step.
    edited = client.put(f"{url}/plan", headers=coordinator.headers, json={"steps": [
        {**PLAN[0], "id": ids[0], "title": "Meet and greet"}, {**PLAN[2], "id": ids[2], "title": "Midterm review"},
        {"anchor": "week", "number": 12, "title": "Look back"}]})
    assert edited.status_code == 200 and edited.get_json()["pairings_behind"] == 1, edited.get_json()
    kept = client.get(f"{url}/pairings/{pairing['id']}/plan", headers=mentee.headers).get_json()
    assert [s["title"] for s in kept["steps"]] == [s["title"] for s in PLAN]  # not yet applied: as it was
    # A pairing made now gets the new version when it starts.
    _, _, newer = _active(client, db, coordinator, programme)
    assert [s["title"] for s in client.get(f"{url}/pairings/{newer['id']}/plan", headers=coordinator.headers)
            .get_json()["steps"]] == ["Meet and greet", "Midterm review", "Look back"]

    applied = client.post(f"{url}/plan/apply", headers=coordinator.headers)
    assert applied.status_code == 200 and applied.get_json()["pairings_behind"] == 0, applied.get_json()
    after = client.get(f"{url}/pairings/{pairing['id']}/plan", headers=mentee.headers).get_json()["steps"]
    assert [(s["title"], s["status"]) for s in after] == [
        ("Get to know each other", "done"), ("Midterm review", "todo"), ("Look back", "todo")]
    assert db.get_one(Pairing, uuid.UUID(pairing["id"])).plan_version == 2
    assert client.post(f"{url}/plan/apply", headers=coordinator.headers).get_json()["pairings_behind"] == 0
    applied_events = db.scalars(select(OutboxEvent.payload).where(OutboxEvent.type == "programme.plan_applied")).all()
    assert [e["changed"] for e in applied_events] == [["plan", "plan:v2", "pairings:1"]]
    # The other half is told of the step done, by the notifications' handler as the worker runs it.
    messages.handle_events(db, list(db.scalars(select(OutboxEvent).where(OutboxEvent.type.like("plan.%")))))
    told = [n for n in client.get("/api/v1/notifications", headers=mentor.headers).get_json()["items"]
            if n["type"].startswith("plan.")]
    assert [(n["type"], n["data"].get("link")) for n in told] == [
        ("plan.step_done", f"#/programmes/{programme['id']}?pairing={pairing['id']}")], told
    assert "“Get to know each other”" in told[0]["body"], told[0]


def test_two_coordinators_editing_the_plan_at_once_leave_one_whole_plan(seed: Session,
                                                                        committed: sessionmaker[Session]) -> None:
    admin, first, second = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory()), as_caller(UserFactory())
    seed.commit()
    app = live_app(committed)
    programme = create(app.test_client(), admin, first, second)
    url = f"{BASE}/{programme['id']}/plan"

    def edit(caller: Caller, title: str) -> Any:
        steps = [{"anchor": "week", "number": n, "title": f"{title} {n}"} for n in range(1, 11)]
        return lambda: app.test_client().put(url, headers=caller.headers, json={"steps": steps}).status_code

    for _ in range(3):
        assert concurrently([edit(first, "First"), edit(second, "Second")]) == [200, 200]
        with committed() as db:
            titles = list(db.scalars(select(PlanStep.title).where(
                PlanStep.programme_id == uuid.UUID(programme["id"])).order_by(PlanStep.position)))
        assert len(titles) == 10 and len({title.split()[0] for title in titles}) == 1, titles
    assert app.test_client().get(url, headers=first.headers).get_json()["version"] == 6
