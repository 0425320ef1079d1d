"""A mentor gives their hours before anyone is paired with them: their intake shows their mentor profile's weekly hours
in its zone (weekdays 09:00-17:00 suggested when they have none) and saving it with the hours confirms them, which
finishes it; a mentee's is finished when saved, or by joining a programme that asks mentees nothing. Only participants
whose intake is finished are paired by hand or matched, and the coordinators read who is left out and why."""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import MatchRun, MentorProfile, Notification, OutboxEvent, Pairing, Programme, ProgrammeParticipant
from tests.database import notifications_read
from tests.factories.accounts import Caller
from tests.factories.programmes import BASE, joined, running_programme
from workflows.events import EventType, record
from workflows.matching import execution
from workflows.notifications import messages
from workflows.programmes.enrolment import enrolment_payload

WEEKDAYS_9_TO_5 = [{"weekday": day, "start_minute": 540, "end_minute": 1020} for day in range(5)]
BERLIN_HOURS = [{"weekday": 1, "start_minute": 600, "end_minute": 960},
                {"weekday": 3, "start_minute": 600, "end_minute": 960}]


def _left_out(client: FlaskClient, coordinator: Caller, programme: dict[str, Any]) -> Any:
    found = client.get(f"{BASE}/{programme['id']}/matching/left-out", headers=coordinator.headers)
    assert found.status_code == 200, found.get_json()
    return found.get_json()


def test_a_mentor_confirms_their_hours_in_the_intake_before_anyone_pairs_them(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    client.put(f"{url}/intake-forms/mentor", headers=coordinator.headers, json={"items": [
        {"kind": "text", "label": "What do you mentor in?"}]})
    mentor, mentor_id = joined(client, coordinator, programme, "mentor", hours=None)
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")  # no mentees' form: joining finishes it

    mine = client.get(f"{url}/intake", headers=mentor.headers).get_json()
    assert (mine["role"], mine["timezone"], mine["windows"], mine["hours_suggested"], mine["finished_at"]) == (
        "mentor", "Asia/Tokyo", WEEKDAYS_9_TO_5, True, None)
    people = {p["id"]: p for p in client.get(f"{url}/participants", headers=coordinator.headers).get_json()["items"]}
    assert people[mentor_id]["intake_finished_at"] is None and people[mentee_id]["intake_finished_at"] is not None

    # Not paired by hand, nothing written; the coordinators read who is left out and why.
    pair = {"mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}
    refused = client.post(f"{url}/pairings", headers=coordinator.headers, json=pair)
    assert refused.status_code == 409 and "intake" in refused.get_json()["message"], refused.get_json()
    assert db.scalar(select(func.count()).select_from(Pairing)) == 0
    assert _left_out(client, coordinator, programme) == {
        "mentors": 1, "mentees": 0, "summary": "1 mentor has not given their hours",
        "people": [{"participant_id": mentor_id, "name": mentor.user.display_name, "role": "mentor",
                    "reason": "has not given their hours"}]}
    assert client.get(f"{url}/matching/left-out", headers=mentee.headers).status_code == 403

    # Answers alone do not finish a mentor's intake; no hours at all, or overlapping ones, are refused.
    answered = client.put(f"{url}/intake", headers=mentor.headers, json={"answers": []})
    assert answered.status_code == 200 and answered.get_json()["finished_at"] is None
    for windows in ([], [{"weekday": 1, "start_minute": 600, "end_minute": 720},
                         {"weekday": 1, "start_minute": 700, "end_minute": 800}]):
        bad = client.put(f"{url}/intake", headers=mentor.headers, json={"answers": [], "windows": windows})
        assert bad.status_code == 400, bad.get_json()
    profile = db.scalars(select(MentorProfile).where(MentorProfile.user_id == mentor.user.id)).one()
    assert profile.availability == [] and profile.timezone == "Asia/Tokyo"

    confirmed = client.put(f"{url}/intake", headers=mentor.headers, json={
        "answers": [], "timezone": "Europe/Berlin", "windows": BERLIN_HOURS})
    assert confirmed.status_code == 200, confirmed.get_json()
    shown = confirmed.get_json()
    assert (shown["timezone"], shown["windows"], shown["hours_suggested"]) == ("Europe/Berlin", BERLIN_HOURS, False)
    assert shown["finished_at"] is not None
    # The same hours are the profile's: its public listings keep them.
    public = client.get(f"/api/v1/mentor-profiles/{profile.id}", headers=mentee.headers).get_json()
    assert (public["timezone"], public["availability"]) == ("Europe/Berlin", [
        {"weekday": 1, "start": "10:00", "end": "16:00"}, {"weekday": 3, "start": "10:00", "end": "16:00"}])
    assert _left_out(client, coordinator, programme) == {
        "mentors": 0, "mentees": 0, "summary": "Everyone taking part has finished their intake.", "people": []}
    finished = db.scalars(select(OutboxEvent).where(OutboxEvent.type == "enrolment.intake_finished")).all()
    assert [(e.payload["id"], e.payload["intake_finished"]) for e in finished] == [(mentor_id, True)]
    history = client.get(f"{url}/history", headers=coordinator.headers, query_string={"limit": 100}).get_json()
    assert "enrolment.intake_finished" in {entry["type"] for entry in history["items"]}

    # Saving again without hours keeps them confirmed; the pair is made now.
    assert client.put(f"{url}/intake", headers=mentor.headers, json={"answers": []}).get_json()["finished_at"]
    made = client.post(f"{url}/pairings", headers=coordinator.headers, json=pair)
    assert made.status_code == 201, made.get_json()


def test_a_mentees_intake_is_finished_when_saved_where_the_programme_asks_them_something(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    client.put(f"{url}/intake-forms/mentee", headers=coordinator.headers, json={"items": [
        {"kind": "text", "label": "What do you want to work on?"}]})
    mentee, _ = joined(client, coordinator, programme, "mentee")
    assert client.get(f"{url}/intake", headers=mentee.headers).get_json()["finished_at"] is None
    assert _left_out(client, coordinator, programme)["summary"] == "1 mentee has not answered the intake"
    saved = client.put(f"{url}/intake", headers=mentee.headers, json={"answers": []})
    assert saved.status_code == 200 and saved.get_json()["finished_at"] is not None
    assert _left_out(client, coordinator, programme)["mentees"] == 0


def test_a_match_run_takes_only_those_whose_intake_is_finished(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    client.put(f"{url}/intake-forms/mentee", headers=coordinator.headers, json={"items": [
        {"kind": "text", "label": "What do you want to work on?"}]})
    _ready_mentor, ready_mentor_id = joined(client, coordinator, programme, "mentor")
    _silent_mentor, _ = joined(client, coordinator, programme, "mentor", hours=None)
    _silent_mentor_two, _ = joined(client, coordinator, programme, "mentor", hours=None)
    ready_mentee, ready_mentee_id = joined(client, coordinator, programme, "mentee")
    assert client.put(f"{url}/intake", headers=ready_mentee.headers, json={"answers": []}).status_code == 200
    joined(client, coordinator, programme, "mentee")  # never answers
    assert _left_out(client, coordinator, programme)["summary"] == (
        "2 mentors have not given their hours · 1 mentee has not answered the intake")

    asked = client.post(f"{url}/match-runs", headers=coordinator.headers)
    assert asked.status_code == 202, asked.get_json()
    assert execution.execute(lambda: nullcontext(db), uuid.UUID(asked.get_json()["id"])) == "done"
    run = db.get_one(MatchRun, uuid.UUID(asked.get_json()["id"]))
    assert [one["id"] for one in run.inputs["mentors"]] == [ready_mentor_id]
    assert [one["id"] for one in run.inputs["mentees"]] == [ready_mentee_id]
    drafts = client.get(f"{url}/match-drafts", headers=coordinator.headers).get_json()["items"]
    assert [(d["mentor_participant_id"], d["mentee_participant_id"]) for d in drafts] == [
        (ready_mentor_id, ready_mentee_id)]


def test_a_mentor_asked_for_their_hours_is_told_where_to_give_them(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor", hours=None)
    row = db.get_one(ProgrammeParticipant, uuid.UUID(mentor_id))
    event = record(db, EventType.ENROLMENT_INTAKE_ASKED,
                   enrolment_payload(db, db.get_one(Programme, uuid.UUID(programme["id"])), row, None), actor="system")
    messages.handle_events(db, [event])
    (told,) = notifications_read(db, Notification.user_id == mentor.user.id,
                                 Notification.type == "enrolment.intake_asked")
    assert told.title == "Give your weekly hours" and "confirm the weekly hours" in told.body
    assert told.data["link"] == f"#/programmes/{programme['id']}"
    assert not db.scalars(select(Notification).where(Notification.user_id == coordinator.user.id,
                                                     Notification.type == "enrolment.intake_asked")).all()


def test_a_mentor_who_clears_their_hours_after_confirming_them_is_left_out_again(
        client: FlaskClient, db: Session) -> None:
    """Hours cleared on the mentor's own schedule page would read as free at any time, day and night: in a programme
    the mentor is then left out (asked for their hours again) until they give some."""
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    mentor, mentor_id = joined(client, coordinator, programme, "mentor", hours=WEEKDAYS_9_TO_5)
    _, mentee_id = joined(client, coordinator, programme, "mentee")
    profile = db.scalars(select(MentorProfile).where(MentorProfile.user_id == mentor.user.id)).one()
    cleared = client.put(f"/api/v1/mentor-profiles/{profile.id}/availability", headers=mentor.headers,
                         json={"windows": []})
    assert cleared.status_code == 200, cleared.get_json()

    assert _left_out(client, coordinator, programme)["summary"] == "1 mentor has not given their hours"
    refused = client.post(f"{url}/pairings", headers=coordinator.headers,
                          json={"mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id})
    assert refused.status_code == 409 and "intake" in refused.get_json()["message"], refused.get_json()
    asked = client.post(f"{url}/match-runs", headers=coordinator.headers)
    assert execution.execute(lambda: nullcontext(db), uuid.UUID(asked.get_json()["id"])) == "done"
    assert db.get_one(MatchRun, uuid.UUID(asked.get_json()["id"])).inputs["mentors"] == []
    # Giving hours again in the intake brings them back.
    again = client.put(f"{url}/intake", headers=mentor.headers, json={"answers": [], "windows": WEEKDAYS_9_TO_5})
    assert again.status_code == 200 and again.get_json()["finished_at"] is not None
    assert _left_out(client, coordinator, programme)["mentors"] == 0
