"""Who cancelled a programme's sessions and why, and the numbers that count them: a cohort with every kind of
cancellation (a coordinator's pause, end and removal, a mentee leaving, a mentee's and a mentor's own request, an
admin's, a meeting moved by agreement, and a row from before causes were recorded) read back through the sessions'
pages and histories, the pairings' pages, the two exports, the dashboard and the pairs at risk, which all count from
one definition (docs/PRIMER.md, "Programme reports")."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Booking, MentorshipSession, OutboxEvent
from tests.api_calls import iso
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.programmes import BASE, joined, running_programme
from workflows.events import EventType
from workflows.programmes import following
from workflows.reports import tallies
from workflows.sessions import lifecycle as session_flow

TODAY = datetime.now(UTC).date()
PERIOD = {"from": TODAY.isoformat(), "to": (TODAY + timedelta(days=120)).isoformat()}


def _csv(client: FlaskClient, caller: Caller, programme_id: str, name: str) -> list[dict[str, str]]:
    answer = client.get(f"{BASE}/{programme_id}/exports/{name}.csv", headers=caller.headers, query_string=PERIOD)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"), newline="")))


def _keep(db: Session) -> None:
    """The analytics handler over what the workflows recorded, as the worker runs it."""
    tallies.handle_events(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.type.in_([str(event_type) for event_type in tallies.HANDLED])))))


def _cohort(client: FlaskClient, db: Session) -> tuple[Caller, dict[str, Any], dict[str, dict[str, Any]],
                                                         dict[str, tuple[Caller, str, Caller, str]]]:
    """Five pairs of four sessions each, accepted by their mentors, their sessions made."""
    coordinator, programme = running_programme(client, session_count=4)
    people: dict[str, tuple[Caller, str, Caller, str]] = {}
    pairings: dict[str, dict[str, Any]] = {}
    for name in ("paused", "ended", "left", "removed", "mixed"):
        mentor, mentor_id = joined(client, coordinator, programme, "mentor")
        mentee, mentee_id = joined(client, coordinator, programme, "mentee")
        made = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers,
                           json={"mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id})
        assert made.status_code == 201, made.get_json()
        pairings[name], people[name] = made.get_json(), (mentor, mentor_id, mentee, mentee_id)
        accepted = client.post(f"/api/v1/booking-series/{made.get_json()['series_id']}/accept",
                               headers=mentor.headers)
        assert accepted.status_code == 200, accepted.get_json()
        for booking_id in db.scalars(select(Booking.id).where(
                Booking.series_id == uuid.UUID(made.get_json()["series_id"]))):
            session_flow.create_session_from_booking(db, booking_id)
    following.follow_series(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.type == str(EventType.BOOKING_SERIES_ACCEPTED)))))
    return coordinator, programme, pairings, people


def _sessions_of(db: Session, pairing: dict[str, Any]) -> list[MentorshipSession]:
    return list(db.scalars(select(MentorshipSession).join(Booking, Booking.id == MentorshipSession.booking_id)
                           .where(Booking.series_id == uuid.UUID(pairing["series_id"]))
                           .order_by(MentorshipSession.start_time)))


def test_every_cancellation_names_who_and_why_and_every_count_agrees(
        client: FlaskClient, db: Session) -> None:
    coordinator, programme, pairings, people = _cohort(client, db)
    base = f"{BASE}/{programme['id']}"
    sessions = {name: _sessions_of(db, pairing) for name, pairing in pairings.items()}
    assert [len(each) for each in sessions.values()] == [4, 4, 4, 4, 4]
    _mixed(client, db, people["mixed"], sessions["mixed"])
    mentor, _, mentee, _ = people["paused"]
    # One of the pair's own cancellations each, then the coordinator pauses what is left.
    for caller, session in ((mentee, sessions["paused"][0]), (mentor, sessions["paused"][1])):
        answer = client.post(f"/api/v1/sessions/{session.id}/cancel", headers=caller.headers,
                             json={"reason": "Something came up"})
        assert answer.status_code == 200, answer.get_json()
    assert client.post(f"{base}/pairings/{pairings['paused']['id']}/pause", headers=coordinator.headers,
                       json={}).status_code == 200
    assert client.post(f"{base}/pairings/{pairings['ended']['id']}/end", headers=coordinator.headers,
                       json={}).status_code == 200
    assert client.post(f"{base}/leave", headers=people["left"][2].headers).status_code == 200
    assert client.post(f"{base}/participants/{people['removed'][1]}/remove",
                       headers=coordinator.headers).status_code == 200
    _keep(db)

    # Each session names who cancelled it and why, on its own page.
    expected = {"paused": [("mentee", "request"), ("mentor", "request"), ("coordinator", "pause"),
                           ("coordinator", "pause")],
                "ended": [("coordinator", "end")] * 4, "left": [("mentee", "leave")] * 4,
                "removed": [("coordinator", "removal")] * 4,
                "mixed": [("admin", "request"), ("mentee", None)]}  # its third moved, its fourth still to come
    for name, made in sessions.items():
        reader = people[name][2] if name != "left" else people[name][0]
        told = [client.get(f"/api/v1/sessions/{one.id}", headers=reader.headers).get_json()["cancellation"]
                for one in made]
        if name == "mixed":
            assert [(one or {}).get("cancelled_by") for one in told] == ["admin", "mentee", "system", None]
            assert told[2]["cause"] == "reschedule"
            told = told[:2]
        assert [(one["cancelled_by"], one["cause"]) for one in told] == expected[name], name
    # The histories name the coordinator who paused, not the mentee whose side the sessions were cancelled on.
    for path in (f"/api/v1/sessions/{sessions['paused'][3].id}/events",
                 f"/api/v1/booking-series/{pairings['paused']['series_id']}/events"):
        timeline = client.get(path, headers=mentee.headers).get_json()["items"]
        assert [(entry["type"], entry["actor"]) for entry in timeline if entry["type"].endswith(".cancelled")] == [
            (f"{'session' if '/sessions/' in path else 'booking_series'}.cancelled", "coordinator")], path
    # The event says it too, for webhooks.
    cancelled = db.scalars(select(OutboxEvent.payload).where(
        OutboxEvent.type == str(EventType.SESSION_CANCELLED),
        OutboxEvent.aggregate_id == sessions["removed"][0].id)).one()
    assert (cancelled["cancelled_by"], cancelled["cause"]) == ("coordinator", "removal")

    # The sessions export: one row per session, who and why.
    listed = [row for row in _csv(client, coordinator, programme["id"], "sessions") if row["kind"] == "individual"]
    assert str(sessions["mixed"][2].id) not in {row["session_id"] for row in listed}  # a moved meeting's old time
    rows = [row for row in listed if row["status"] == "cancelled"]
    assert len(listed) - len(rows) == 2  # the mixed pair's fourth and its moved third, still to come
    by_pairing = {pairing["id"]: name for name, pairing in pairings.items()}
    assert Counter((by_pairing[row["pairing_id"]], row["cancelled_by"], row["cause"]) for row in rows) == Counter(
        (name, who, why or "") for name, pairs in expected.items() for who, why in pairs)
    # The pairs export counts those very rows.
    pairs = {by_pairing[row["pairing_id"]]: row for row in _csv(client, coordinator, programme["id"], "pairs")}
    for name in pairings:
        mine = [row for row in rows if by_pairing[row["pairing_id"]] == name]
        assert int(pairs[name]["sessions_cancelled"]) == len(mine) == len(expected[name])
        assert int(pairs[name]["cancelled_by_pair"]) == sum(
            row["cancelled_by"] in {"mentor", "mentee"} and row["cause"] in {"request", ""} for row in mine)
    assert (int(pairs["paused"]["cancelled_by_pair"]), int(pairs["mixed"]["cancelled_by_pair"])) == (2, 1)
    # The dashboard, over the weeks of those sessions, the same again, by who.
    last = max(one.start_time for made in sessions.values() for one in made).date()
    report = client.get(f"{base}/report", headers=coordinator.headers,
                        query_string={"from": TODAY.isoformat(), "to": last.isoformat()}).get_json()
    who = Counter(row["cancelled_by"] for row in rows if row["status"] == "cancelled")
    assert {key: value for key, value in report["sessions"].items() if key.startswith("cancelled_by_")} == {
        f"cancelled_by_{one}": who[one] for one in ("mentor", "mentee", "coordinator", "admin", "system")}
    assert sum(week[f"cancelled_by_{one}"] for week in report["weeks"]
               for one in ("mentor", "mentee", "coordinator", "admin", "system")) == len(rows) == 18
    # The pairs at risk: the paused pair's own two cancellations, as the pairs export counts them.
    at_risk = client.get(f"{base}/report/at-risk", headers=coordinator.headers).get_json()["items"]
    assert [(pair["pairing_id"], pair["reasons"]) for pair in at_risk] == [
        (pairings["paused"]["id"], ["2 of 2 sessions cancelled at the pair's request or missed"])]

    # An ended pairing's page still lists its sessions, each with its outcome.
    listed = client.get(f"{base}/pairings/{pairings['ended']['id']}/sessions", headers=coordinator.headers)
    assert listed.status_code == 200, listed.get_json()
    assert [(one["status"], one["cancelled_by"], one["cause"]) for one in listed.get_json()["items"]] == [
        ("cancelled", "coordinator", "end")] * 4


def _mixed(client: FlaskClient, db: Session, people: tuple[Caller, str, Caller, str],
           sessions: list[MentorshipSession]) -> None:
    """The mixed pair's sessions: an admin cancels the first; the mentee cancels the second, in a row written before
    causes were recorded (the migration could not tell its cause); the third is moved by agreement."""
    mentor, _, mentee, _ = people
    admin = as_caller(UserFactory(is_admin=True))
    answer = client.post(f"/api/v1/admin/sessions/{sessions[0].id}/cancel", headers=admin.headers,
                         json={"reason": "The mentor asked us to"})
    assert answer.status_code == 200, answer.get_json()
    answer = client.post(f"/api/v1/sessions/{sessions[1].id}/cancel", headers=mentee.headers,
                         json={"reason": "Something came up"})
    assert answer.status_code == 200, answer.get_json()
    db.execute(update(MentorshipSession).where(MentorshipSession.id == sessions[1].id).values(cancel_cause=None))
    later = sessions[2].start_time + timedelta(days=1)
    made = client.post(f"/api/v1/bookings/{sessions[2].booking_id}/reschedule-proposals", headers=mentee.headers,
                       json={"start_times": [iso(later)]})
    assert made.status_code == 201, made.get_json()
    moved = client.post(f"/api/v1/reschedule-proposals/{made.get_json()['id']}/accept", headers=mentor.headers,
                        json={"start_time": iso(later)})
    assert moved.status_code == 200, moved.get_json()
    session_flow.create_session_from_booking(db, uuid.UUID(moved.get_json()["id"]))


def test_the_documents_name_every_one_who_may_cancel_and_every_cause(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    who = {"mentor", "mentee", "coordinator", "admin", "system"}
    causes = {"pause", "end", "leave", "removal", "request", "reschedule"}
    assert set(schemas["Cancellation"]["properties"]["cancelled_by"]["enum"]) == who
    assert set(schemas["Cancellation"]["properties"]["cause"]["enum"]) - {None} == causes
    data = schemas["SessionCancelledEventData"]["properties"]
    assert set(data["cancelled_by"]["enum"]) == who and set(data["cause"]["enum"]) - {None} == causes
    assert set(schemas["PairSession"]["properties"]["cause"]["enum"]) - {None} == causes
    # A series' cancellation too: its page, and its webhook.
    assert set(schemas["Series"]["properties"]["cancelled_by"]["enum"]) - {None} == who
    assert set(schemas["BookingSeriesEventData"]["properties"]["cancelled_by"]["enum"]) - {None} == who
