"""The programme dashboard's routes: its numbers and pairs at risk for its coordinators and admins only, from the
summaries the analytics handler keeps of the events the workflows record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.cli import ops
from models import MentorshipSession, OutboxEvent, PairingTally, SessionStatus
from tests.factories.accounts import PASSWORD, UserFactory, as_caller
from tests.factories.programmes import BASE, joined, running_programme
from tests.factories.reports import Cohort
from workflows.events import EventType
from workflows.programmes import following
from workflows.reports import tallies
from workflows.sessions import lifecycle as session_flow


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
                  {"from": "yesterday"}, {"to": "9999-12-31"}, {"from": "1999-12-31"}):
        answer = client.get(report, headers=coordinator.headers, query_string=query)
        assert answer.status_code in {400, 422}, (query, answer.get_json())
    for weeks in (0, 27, "x"):
        answer = client.get(f"{report}/at-risk", headers=coordinator.headers, query_string={"weeks": weeks})
        assert answer.status_code == 422, weeks
    two_years = client.get(report, headers=coordinator.headers, query_string={"from": "2029-03-05", "to": "2031-03-03"})
    assert two_years.status_code == 200 and len(two_years.get_json()["weeks"]) == 105


def _keep(db: Session) -> None:
    """The sessions and the analytics handlers, as the workers run them, over what the workflows recorded."""
    created = list(db.scalars(select(OutboxEvent).where(OutboxEvent.type == str(EventType.BOOKING_ACCEPTED))))
    session_flow.create_sessions_for_events(db, created)
    following.follow_series(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.type == str(EventType.BOOKING_SERIES_ACCEPTED)))))
    tallies.handle_events(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.type.in_([str(event_type) for event_type in tallies.HANDLED])))))


def test_a_pause_counts_as_the_pausers_cancellations_but_not_as_the_pairs_trouble(client: FlaskClient,
                                                                                  db: Session) -> None:
    coordinator, programme = running_programme(client, session_count=4)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    url = f"{BASE}/{programme['id']}/pairings"
    made = client.post(url, headers=coordinator.headers, json={"mentor_participant_id": mentor_id,
                                                               "mentee_participant_id": mentee_id}).get_json()
    assert client.post(f"/api/v1/booking-series/{made['series_id']}/accept", headers=mentor.headers).status_code == 200
    _keep(db)
    first = db.scalars(select(MentorshipSession).where(MentorshipSession.programme_id == uuid.UUID(programme["id"]))
                       .order_by(MentorshipSession.start_time)).first()
    assert first is not None
    cancelled = client.post(f"/api/v1/sessions/{first.id}/cancel", headers=mentee.headers,
                            json={"reason": "Exams that week"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert client.post(f"{url}/{made['id']}/pause", headers=mentee.headers, json={"reason": "On leave"}).status_code \
        == 200
    _keep(db)
    last = max(session.start_time for session in db.scalars(select(MentorshipSession).where(
        MentorshipSession.programme_id == uuid.UUID(programme["id"]))))
    body = client.get(f"{BASE}/{programme['id']}/report", headers=coordinator.headers,
                      query_string={"to": last.date().isoformat()}).get_json()
    # The mentee cancelled one meeting, and three with the pause: four, all the mentee's.
    assert body["sessions"]["cancelled_by_mentee"] == 4 and body["sessions"]["cancelled_by_mentor"] == 0
    assert body["pairs"] == {"proposed": 0, "active": 0, "paused": 1, "ended": 0}
    # Only the one asked for alone is the pair's own: the pause is no sign of trouble between them.
    tally = db.get(PairingTally, uuid.UUID(made["id"]))
    assert tally is not None and (tally.cancelled, tally.cancelled_by_pair) == (4, 1)


def test_a_deleted_account_ends_its_pairings_with_their_events_and_the_dashboard_follows(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    _, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    made = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers,
                       json={"mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
    gone = client.delete("/api/v1/me", headers=mentee.headers, json={"current_password": PASSWORD})
    assert gone.status_code == 204, gone.get_json()
    ended = db.scalars(select(OutboxEvent.actor).where(OutboxEvent.aggregate_id == uuid.UUID(made["id"]),
                                                       OutboxEvent.type == str(EventType.PAIRING_ENDED))).all()
    assert ended == ["system"]
    _keep(db)
    report = client.get(f"{BASE}/{programme['id']}/report", headers=coordinator.headers).get_json()
    assert report["pairs"] == {"proposed": 0, "active": 0, "paused": 0, "ended": 1}


def test_the_operators_rebuild_fills_the_summaries_of_a_programme_it_never_saw(app: Flask, db: Session) -> None:
    cohort = Cohort(db)
    pairing = cohort.pair(datetime(2031, 3, 3, 9, tzinfo=UTC))
    cohort.session(pairing, datetime(2031, 3, 4, 17, tzinfo=UTC), SessionStatus.COMPLETED)
    result = app.test_cli_runner().invoke(ops, ["rebuild-reports", str(cohort.programme.id)])
    assert result.exit_code == 0, result.output
    assert "rebuilt 1 programme(s)" in result.output
    tally = db.get(PairingTally, pairing.id)
    assert tally is not None and (tally.held, tally.first_held_at) == (1, datetime(2031, 3, 4, 17, tzinfo=UTC))
