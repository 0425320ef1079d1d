"""The programme dashboard's routes: its numbers and pairs at risk for its coordinators and admins only, from the
summaries the analytics handler keeps of the events the workflows record."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import OutboxEvent
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.programmes import BASE, joined, running_programme
from workflows.reports import tallies


def test_a_coordinator_reads_their_programme_and_nobody_outside_it_reads_anything(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    other_coordinator, other = running_programme(client)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor", capacity=2)
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    proposed = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers,
                           json={"mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id})
    assert proposed.status_code == 201, proposed.get_json()
    # The analytics handler, as the worker runs it, over the events the workflows recorded.
    tallies.handle_events(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.type.in_([str(event_type) for event_type in tallies.HANDLED])))))
    report = f"{BASE}/{programme['id']}/report"
    mine = client.get(report, headers=coordinator.headers)
    assert mine.status_code == 200, mine.get_json()
    body = mine.get_json()
    assert body["pairs"] == {"proposed": 1, "active": 0, "paused": 0, "ended": 0}
    assert len(body["weeks"]) == 12 and sum(week["pairs_started"] for week in body["weeks"]) == 1
    assert (body["from"], body["to"]) == (body["weeks"][0]["week"], body["weeks"][-1]["week"])
    assert body["match"] == {"from_run": 0, "top3": 0, "share": None} and body["attendance_rate"] is None
    admin = as_caller(UserFactory(is_admin=True))
    assert client.get(report, headers=admin.headers).get_json()["pairs"]["proposed"] == 1
    # Another programme's coordinator and a stranger: not found; the programme's own people: not theirs to read.
    for outsider in (other_coordinator, as_caller(UserFactory())):
        assert client.get(report, headers=outsider.headers).status_code == 404
        assert client.get(f"{report}/at-risk", headers=outsider.headers).status_code == 404
    for participant in (mentor, mentee):
        assert client.get(report, headers=participant.headers).status_code == 403
    assert client.get(f"{BASE}/{other['id']}/report", headers=other_coordinator.headers).get_json()["pairs"] == {
        "proposed": 0, "active": 0, "paused": 0, "ended": 0}
    assert client.get(report).status_code == 401


def test_bad_periods_and_weeks_are_refused(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    report = f"{BASE}/{programme['id']}/report"
    for query in ({"from": "2031-03-10", "to": "2031-03-01"}, {"from": "2029-01-01", "to": "2031-03-01"},
                  {"from": "yesterday"}):
        answer = client.get(report, headers=coordinator.headers, query_string=query)
        assert answer.status_code in {400, 422}, (query, answer.get_json())
    for weeks in (0, 27, "x"):
        answer = client.get(f"{report}/at-risk", headers=coordinator.headers, query_string={"weeks": weeks})
        assert answer.status_code == 422, weeks
    two_years = client.get(report, headers=coordinator.headers, query_string={"from": "2029-03-05", "to": "2031-03-03"})
    assert two_years.status_code == 200 and len(two_years.get_json()["weeks"]) == 105
