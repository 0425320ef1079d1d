"""One list of action items: in a programme, the items a mentor writes on completing a session are the pairing's
items (the mentee's unless named otherwise, with a date if given), and the session's ``action_items`` shows them;
a session outside programmes keeps its own list."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import ActionItem, Booking, MentorshipSession, SessionStatus
from tests.factories.accounts import Caller
from tests.factories.programmes import BASE, joined, running_programme
from tests.factories.sessions import make_session
from workflows.sessions import lifecycle as sessions

SERIES = "/api/v1/booking-series"


def _paired_session(client: FlaskClient, db: Session) -> tuple[Caller, Caller, Caller, dict[str, Any],
                                                                MentorshipSession]:
    """A programme's coordinator, mentor and mentee, paired, the sessions made as the worker makes them, and the
    first one under way."""
    coordinator, programme = running_programme(client, session_count=2)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    pairing = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
    assert client.post(f"{SERIES}/{pairing['series_id']}/accept", headers=mentor.headers).status_code == 200
    made = [sessions.create_session_from_booking(db, booking_id) for booking_id in db.scalars(
        select(Booking.id).where(Booking.series_id == uuid.UUID(pairing["series_id"])).order_by(Booking.start_time))]
    first = made[0]
    assert first is not None
    first.status, first.started_at = SessionStatus.IN_PROGRESS, datetime.now(UTC)
    db.flush()
    return coordinator, mentor, mentee, pairing, first


def test_items_written_on_completing_a_programme_session_are_the_pairings_items(client: FlaskClient,
                                                                                db: Session) -> None:
    coordinator, mentor, mentee, pairing, session = _paired_session(client, db)
    long_one = "Read " + "x" * 995
    done = client.post(f"/api/v1/sessions/{session.id}/complete", headers=mentor.headers, json={
        "notes": "Planned the talk", "action_items": [
            "Draft the outline", {"title": "Send the slides", "owner": "mentor", "due_on": "2031-05-01"}, "   ",
            {"title": "Book a room", "due_on": "2031-05-03"}, long_one]})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["action_items"] == ["Draft the outline", "Send the slides", "Book a room", long_one]
    url = f"{BASE}/{pairing['programme_id']}/pairings/{pairing['id']}/action-items"
    items = client.get(url, headers=coordinator.headers, query_string={"open": "true"}).get_json()["items"]
    assert [(one["title"], one["owner_user_id"], one["due_on"], one["session_id"]) for one in items] == [
        ("Draft the outline", str(mentee.user.id), None, str(session.id)),
        ("Send the slides", str(mentor.user.id), "2031-05-01", str(session.id)),
        ("Book a room", str(mentee.user.id), "2031-05-03", str(session.id)),
        (long_one, str(mentee.user.id), None, str(session.id))]
    # The session's list is a view of those items: one ticked off stays the session's, and an item added for the
    # session on the pairing's page shows there too.
    ticked = client.patch(f"{url}/{items[0]['id']}", headers=mentee.headers, json={"done": True})
    assert ticked.status_code == 200, ticked.get_json()
    added = client.post(url, headers=mentee.headers, json={"title": "Ask for feedback", "session_id": str(session.id),
                                                          "due_on": "2031-05-10"})
    assert added.status_code == 201 and added.get_json()["due_on"] == "2031-05-10", added.get_json()
    shown = client.get(f"/api/v1/sessions/{session.id}", headers=mentee.headers).get_json()
    assert shown["action_items"] == ["Draft the outline", "Send the slides", "Book a room", long_one,
                                     "Ask for feedback"]
    listed = client.get("/api/v1/sessions", headers=mentor.headers, query_string={"role": "mentor"}).get_json()
    assert next(one for one in listed["items"] if one["id"] == str(session.id))["action_items"] == \
        shown["action_items"]


def test_bad_items_on_completion_are_refused_and_change_nothing(client: FlaskClient, db: Session) -> None:
    _, mentor, _, _, session = _paired_session(client, db)
    for bad in (["x" * 1001], [{"owner": "mentor"}], [{"title": "t", "owner": "coordinator"}],
                [{"title": "t", "due_on": "soon"}], [{"title": "t", "colour": "red"}], [7]):
        refused = client.post(f"/api/v1/sessions/{session.id}/complete", headers=mentor.headers,
                              json={"action_items": bad})
        assert refused.status_code == 422, (bad, refused.get_json())
    assert db.get_one(MentorshipSession, session.id).status == SessionStatus.IN_PROGRESS
    assert db.scalar(select(func.count()).select_from(ActionItem)) == 0


def test_a_session_outside_programmes_keeps_its_own_list(client: FlaskClient, db: Session) -> None:
    mentor, _, session = make_session(db, datetime.now(UTC) + timedelta(minutes=10))
    session.status, session.started_at = SessionStatus.IN_PROGRESS, datetime.now(UTC)
    db.flush()
    done = client.post(f"/api/v1/sessions/{session.id}/complete", headers=mentor.headers,
                       json={"action_items": ["Read the Dynamo paper", "Sketch the API"]})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["action_items"] == ["Read the Dynamo paper", "Sketch the API"]
    assert db.scalar(select(func.count()).select_from(ActionItem)) == 0
