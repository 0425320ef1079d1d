"""A pairing's progress through the API: goals set and moved by the pair or a coordinator (each move an event),
action items of the pairing's own goals and sessions, its sessions as coordinators see them (never the notes), and
who sees what: every GET route of a programme walked by a participant of another programme, a coordinator of
another programme and a plain user finds nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Booking, OutboxEvent
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import BASE, joined, running_programme
from workflows.sessions import lifecycle as sessions

SERIES = "/api/v1/booking-series"


def _paired(client: FlaskClient, db: Session, **settings: Any) -> tuple[Caller, Caller, Caller, dict[str, Any]]:
    """A programme's coordinator, mentor and mentee, paired, the mentor's accept made and its sessions created (as
    the worker creates them)."""
    coordinator, programme = running_programme(client, **settings)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    pairing = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
    assert client.post(f"{SERIES}/{pairing['series_id']}/accept", headers=mentor.headers).status_code == 200
    for booking_id in db.scalars(select(Booking.id).where(Booking.series_id == uuid.UUID(pairing["series_id"]))):
        sessions.create_session_from_booking(db, booking_id)
    return coordinator, mentor, mentee, pairing


def test_goals_move_by_their_table_and_each_move_is_an_event(client: FlaskClient, db: Session) -> None:
    coordinator, mentor, mentee, pairing = _paired(client, db, session_count=3)
    url = f"{BASE}/{pairing['programme_id']}/pairings/{pairing['id']}"
    made = client.post(f"{url}/goals", headers=mentee.headers, json={
        "title": "Give a talk", "target_date": "2031-05-01", "milestones": [{"title": "Choose the subject"}]})
    assert made.status_code == 201, made.get_json()
    goal = made.get_json()
    assert (goal["status"], goal["milestones"]) == ("open", [{"title": "Choose the subject", "done": False}])
    assert client.post(f"{url}/goals", headers=coordinator.headers, json={"title": "Read two books"}).status_code \
        == 201
    ticked = client.patch(f"{url}/goals/{goal['id']}", headers=mentor.headers, json={
        "milestones": [{"title": "Choose the subject", "done": True}], "status": "done"})
    assert ticked.status_code == 200 and ticked.get_json()["done_at"] and ticked.get_json()["status"] == "done"
    assert client.patch(f"{url}/goals/{goal['id']}", headers=mentor.headers, json={"status": "dropped"}).status_code \
        == 400  # from done: only open again
    assert client.patch(f"{url}/goals/{goal['id']}", headers=mentee.headers,
                        json={"status": "open"}).get_json()["done_at"] is None
    for bad in ({"title": ""}, {"status": "finished"}, {"milestones": [{"title": "m"}] * 11}):
        assert client.patch(f"{url}/goals/{goal['id']}", headers=mentee.headers, json=bad).status_code == 422
    moves = db.scalars(select(OutboxEvent.type).where(OutboxEvent.aggregate_id == uuid.UUID(goal["id"]))).all()
    assert sorted(moves) == ["goal.done", "goal.reopened", "goal.set"]
    assert [g["title"] for g in client.get(f"{url}/goals", headers=coordinator.headers).get_json()["items"]] == [
        "Give a talk", "Read two books"]
    history = client.get(f"{BASE}/{pairing['programme_id']}/history", headers=coordinator.headers).get_json()
    assert {"goal.set", "goal.done", "pairing.proposed"} <= {e["type"] for e in history["items"]}
    # Ended: its goals change no more.
    client.post(f"{url}/end", headers=mentor.headers, json={})
    assert client.post(f"{url}/goals", headers=mentee.headers, json={"title": "Late"}).status_code == 400


def test_action_items_and_sessions_of_the_pairing_only_and_no_notes_for_coordinators(client: FlaskClient,
                                                                                     db: Session) -> None:
    coordinator, mentor, mentee, pairing = _paired(client, db, session_count=2)
    _, _, _, other = _paired(client, db, session_count=1)
    url = f"{BASE}/{pairing['programme_id']}/pairings/{pairing['id']}"
    held = client.get(f"{url}/sessions", headers=coordinator.headers).get_json()["items"]
    assert len(held) == 2 and all(set(s) == {"id", "start_time", "end_time", "status", "no_show", "goal_id",
                                             "cancelled_by", "cause"}
                                  for s in held)
    goal = client.post(f"{url}/goals", headers=mentor.headers, json={"title": "Ship the side project"}).get_json()
    linked = client.put(f"{url}/sessions/{held[0]['id']}/goal", headers=mentor.headers, json={"goal_id": goal["id"]})
    assert linked.status_code == 200 and linked.get_json()["goal_id"] == goal["id"]
    other_url = f"{BASE}/{other['programme_id']}/pairings/{other['id']}"
    other_session = client.get(f"{other_url}/sessions", headers=as_caller(UserFactory(is_admin=True)).headers)
    foreign = other_session.get_json()["items"][0]["id"]
    assert client.put(f"{url}/sessions/{foreign}/goal", headers=mentor.headers,
                      json={"goal_id": goal["id"]}).status_code == 400
    item = client.post(f"{url}/action-items", headers=mentor.headers, json={
        "title": "Draft the outline", "session_id": held[0]["id"], "goal_id": goal["id"]})
    assert item.status_code == 201 and item.get_json()["owner_user_id"] == str(mentee.user.id)
    mine = client.post(f"{url}/action-items", headers=mentee.headers,
                       json={"title": "Book the room", "owner": "mentor"})
    assert mine.get_json()["owner_user_id"] == str(mentor.user.id)
    for bad in ({"title": "x", "session_id": foreign}, {"title": "x", "goal_id": str(uuid.uuid4())}):
        assert client.post(f"{url}/action-items", headers=mentee.headers, json=bad).status_code == 400
    assert client.post(f"{url}/action-items", headers=mentee.headers, json={"title": "x", "owner": "coordinator"}) \
        .status_code == 422
    done = client.patch(f"{url}/action-items/{item.get_json()['id']}", headers=mentee.headers, json={"done": True})
    assert done.get_json()["done_at"]
    carried = client.get(f"{url}/action-items", headers=mentee.headers, query_string={"open": "true"}).get_json()
    assert [i["title"] for i in carried["items"]] == ["Book the room"]
    # Notes stay the pair's: the session's own page, which the coordinator does not reach.
    assert client.get(f"/api/v1/sessions/{held[0]['id']}", headers=coordinator.headers).status_code == 404


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda found: ids.get(found.group(1), str(uuid.uuid4())), path)


def test_every_get_route_of_a_programme_finds_nothing_for_outsiders(client: FlaskClient, db: Session) -> None:
    coordinator, _, mentee, pairing = _paired(client, db)
    programme_id = pairing["programme_id"]
    url = f"{BASE}/{programme_id}/pairings/{pairing['id']}"
    goal = client.post(f"{url}/goals", headers=mentee.headers, json={"title": "A goal"}).get_json()
    item = client.post(f"{url}/action-items", headers=mentee.headers, json={"title": "An item"}).get_json()
    held = client.get(f"{url}/sessions", headers=coordinator.headers).get_json()["items"]
    people = client.get(f"{BASE}/{programme_id}/participants", headers=coordinator.headers).get_json()["items"]
    run = client.post(f"{BASE}/{programme_id}/match-runs", headers=coordinator.headers).get_json()
    resource = client.post(f"{BASE}/{programme_id}/resources", headers=coordinator.headers,
                           json={"title": "A resource", "body": "Its words."}).get_json()
    ids = {"resource_id": resource["id"],
           "programme_id": programme_id, "pairing_id": pairing["id"], "goal_id": goal["id"], "item_id": item["id"],
           "session_id": held[0]["id"], "participant_id": people[0]["id"], "audience": "mentee",
           "invitation_id": str(uuid.uuid4()), "link_id": str(uuid.uuid4()), "run_id": run["id"],
           "draft_id": str(uuid.uuid4())}
    spec = client.get("/api/openapi.json").get_json()
    routes = [path for path, operations in spec["paths"].items()
              if path.startswith("/api/v1/programmes/{programme_id}") and "get" in operations]
    assert len(routes) >= 12, routes
    other_coordinator, other = running_programme(client)
    elsewhere, _ = joined(client, other_coordinator, other, "mentee")
    for outsider in (elsewhere, other_coordinator, as_caller(UserFactory())):
        for path in routes:
            answer = client.get(_fill(path, ids), headers=outsider.headers)
            assert answer.status_code == 404, (path, answer.status_code, answer.get_json())
    # Those inside read them: the coordinator every one, but one's own intake and recommendations, which are a
    # participant's; an explanation names its pair (422 without), and recommendations are for a programme whose
    # mentees choose (400 in this coordinator-led one).
    inside = {"/explain": 422, "/recommendations": 400}
    for path in routes:
        reader = mentee if path.endswith(("/intake", "/recommendations")) else coordinator
        expected = next((code for end, code in inside.items() if path.endswith(end)), 200)
        assert client.get(_fill(path, ids), headers=reader.headers).status_code == expected, path
