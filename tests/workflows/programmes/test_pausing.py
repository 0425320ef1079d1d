"""A pause with its day to go on, through the API and the beat's sweep on the real database: the day is checked
(after today, within a year, not after the programme's end; refused days change nothing); on that day the system
resumes the pairing (a new series of the sessions left, proposed to the mentor); one that cannot go on stays paused
with no day and its pair and coordinators read why; a resume by hand drops the day; two sweeps at once resume a
pairing once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, BookingStatus, OutboxEvent, Pairing, PairingStatus
from tests.concurrency import concurrently
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import BASE, create, joined, running_programme
from tests.servers import live_app
from workflows.notifications import messages
from workflows.programmes import following, pausing

SERIES = "/api/v1/booking-series"


def _active_pairing(client: FlaskClient, db: Session, **settings: Any
                    ) -> tuple[Caller, Caller, Caller, dict[str, Any], str]:
    """A coordinator, a mentor and a mentee, their programme and their pairing's address, the mentor's accept
    followed (active)."""
    coordinator, programme = running_programme(client, session_count=4, **settings)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    made = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
    assert client.post(f"{SERIES}/{made['series_id']}/accept", headers=mentor.headers).status_code == 200
    following.follow_series(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.type == "booking_series.accepted"))))
    return coordinator, mentor, mentee, programme, f"{BASE}/{programme['id']}/pairings/{made['id']}"


def _events(db: Session, pairing_id: str) -> set[tuple[str, str | None]]:
    return {(row.type, row.actor) for row in db.scalars(
        select(OutboxEvent).where(OutboxEvent.aggregate_id == uuid.UUID(pairing_id)))}


def _told(client: FlaskClient, caller: Caller, kind: str) -> list[str]:
    """The titles and bodies of the caller's notifications of one kind, as the web app reads them."""
    items = client.get("/api/v1/notifications", headers=caller.headers).get_json()["items"]
    return [f"{one['title']}: {one['body']}" for one in items if one["type"] == kind]


def test_a_pause_names_its_day_and_the_system_resumes_it_then(client: FlaskClient, db: Session) -> None:
    coordinator, mentor, mentee, _, one = _active_pairing(client, db)
    today = datetime.now(UTC).date()
    before = db.scalar(select(func.count()).select_from(OutboxEvent))
    for bad in (today.isoformat(), (today - timedelta(days=3)).isoformat(), (today + timedelta(days=400)).isoformat(),
                "soon"):
        refused = client.post(f"{one}/pause", headers=mentee.headers, json={"resume_on": bad})
        assert refused.status_code == 422, (bad, refused.get_json())
    assert db.scalar(select(func.count()).select_from(OutboxEvent)) == before  # a refused day changed nothing
    assert client.get(one, headers=mentee.headers).get_json()["status"] == "active"
    day = today + timedelta(days=10)
    paused = client.post(f"{one}/pause", headers=mentee.headers,
                         json={"reason": "On leave", "resume_on": day.isoformat()})
    assert paused.status_code == 200, paused.get_json()
    assert (paused.get_json()["status"], paused.get_json()["resume_on"]) == ("paused", day.isoformat())
    pairing_id = paused.get_json()["id"]
    event = db.scalars(select(OutboxEvent).where(OutboxEvent.type == "pairing.paused")).one()
    assert (event.payload["resume_on"], event.payload["reason"]) == (day.isoformat(), "On leave")
    messages.handle_events(db, [event])
    said = _told(client, mentor, "pairing.paused")
    assert len(said) == 1 and "is on hold: “On leave”." in said[0], said
    assert f"It goes on by itself on {day.strftime('%-d %B %Y')}" in said[0], said
    # The days before, the sweep leaves it; on its day the system resumes it: the sessions left, asked for again.
    assert pausing.resume_due(db, now=datetime.combine(day - timedelta(days=1), datetime.max.time(), UTC)) == 0
    assert pausing.resume_due(db, now=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=1)) == 1
    resumed = client.get(one, headers=coordinator.headers).get_json()
    assert (resumed["status"], resumed["resume_on"]) == ("proposed", None)
    assert db.scalar(select(func.count()).select_from(Booking).where(
        Booking.series_id == uuid.UUID(resumed["series_id"]), Booking.status == BookingStatus.DRAFT)) == 4
    assert datetime.fromisoformat(resumed["first_start"]).date() >= day
    assert ("pairing.resumed", "system") in _events(db, pairing_id)
    assert pausing.resume_due(db, now=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=2)) == 0
    history = client.get(f"{one.rsplit('/pairings', 1)[0]}/history", headers=coordinator.headers).get_json()["items"]
    assert any("went on, on the day its pause named" in (line["summary"] or "") for line in history), history


def test_a_pairing_that_cannot_go_on_stays_paused_and_its_people_are_told_why(
        client: FlaskClient, db: Session) -> None:
    coordinator, mentor, mentee, programme, one = _active_pairing(client, db)
    programme_url = f"{BASE}/{programme['id']}"
    day = datetime.now(UTC).date() + timedelta(days=5)
    pairing_id = client.post(f"{one}/pause", headers=coordinator.headers,
                             json={"resume_on": day.isoformat()}).get_json()["id"]
    # Meanwhile the mentor keeps Sunday mornings only, the mentee Monday mornings: no time in common on the day.
    for caller, weekday in ((mentor, 6), (mentee, 0)):
        answer = client.put(f"{programme_url}/intake", headers=caller.headers, json={
            "answers": [], "windows": [{"weekday": weekday, "start_minute": 600, "end_minute": 660}]})
        assert answer.status_code == 200, answer.get_json()
    assert pausing.resume_due(db, now=datetime.combine(day, datetime.min.time(), UTC)) == 1
    after = client.get(one, headers=mentee.headers).get_json()
    assert (after["status"], after["resume_on"], after["series_id"]) == ("paused", None, None)
    assert ("pairing.not_resumed", "system") in _events(db, pairing_id)
    event = db.scalars(select(OutboxEvent).where(OutboxEvent.type == "pairing.not_resumed")).one()
    assert "no time in common" in event.payload["reason"]
    messages.handle_events(db, [event])
    for caller in (mentor, mentee, coordinator):
        said = _told(client, caller, "pairing.not_resumed")
        assert len(said) == 1 and "could not: “the mentor and the mentee have no time in common" in said[0], said
    assert pausing.resume_due(db, now=datetime.combine(day, datetime.min.time(), UTC)) == 0  # told once


def test_a_resume_by_hand_drops_the_day_and_an_end_clears_it(client: FlaskClient, db: Session) -> None:
    today = datetime.now(UTC).date()
    _, _, mentee, programme, one = _active_pairing(client, db, ends_on=(today + timedelta(days=60)).isoformat(),
                                                   starts_on=today.isoformat())
    past_end = (date.fromisoformat(programme["ends_on"]) + timedelta(days=1)).isoformat()
    refused = client.post(f"{one}/pause", headers=mentee.headers, json={"resume_on": past_end})
    assert refused.status_code == 400 and "ends on" in refused.get_json()["message"], refused.get_json()
    day = (today + timedelta(days=20)).isoformat()
    assert client.post(f"{one}/pause", headers=mentee.headers, json={"resume_on": day}).status_code == 200
    resumed = client.post(f"{one}/resume", headers=mentee.headers, json={})
    assert resumed.status_code == 200 and resumed.get_json()["resume_on"] is None, resumed.get_json()
    ended = client.post(f"{one}/end", headers=mentee.headers, json={})
    assert (ended.get_json()["status"], ended.get_json()["resume_on"]) == ("ended", None)
    assert pausing.resume_due(db, now=datetime.now(UTC) + timedelta(days=30)) == 0


def test_two_sweeps_at_once_resume_a_pairing_once(seed: Session, committed: sessionmaker[Session]) -> None:
    admin, coordinator = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory())
    mentor, mentee = as_caller(UserFactory()), as_caller(UserFactory())
    seed.commit()
    client = live_app(committed).test_client()
    programme = create(client, admin, coordinator, session_count=4)
    client.post(f"{BASE}/{programme['id']}/open-enrolment", headers=coordinator.headers)
    _, mentor_id = joined(client, coordinator, programme, "mentor", person=mentor)
    _, mentee_id = joined(client, coordinator, programme, "mentee", person=mentee)
    made = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
    assert client.post(f"{SERIES}/{made['series_id']}/accept", headers=mentor.headers).status_code == 200
    with committed() as db, db.begin():
        following.follow_series(db, list(db.scalars(select(OutboxEvent).where(
            OutboxEvent.type == "booking_series.accepted"))))
    day = datetime.now(UTC).date() + timedelta(days=3)
    paused = client.post(f"{BASE}/{programme['id']}/pairings/{made['id']}/pause", headers=mentee.headers,
                         json={"resume_on": day.isoformat()})
    assert paused.status_code == 200, paused.get_json()
    moment = datetime.combine(day, datetime.min.time(), UTC)

    def sweep() -> int:
        with committed() as own, own.begin():
            return pausing.resume_due(own, now=moment)

    assert sorted(concurrently([sweep, sweep])) == [0, 1]  # SKIP LOCKED: the second finds it taken or resumed
    with committed() as db:
        pairing = db.get_one(Pairing, uuid.UUID(made["id"]))
        assert (pairing.status, pairing.resume_on) == (PairingStatus.PROPOSED, None)
        assert db.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.aggregate_id == pairing.id, OutboxEvent.type == "pairing.resumed")) == 1
