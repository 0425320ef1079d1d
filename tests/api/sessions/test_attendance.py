"""Attendance over HTTP: checking in, reporting the other side absent, the session's `attendance`, disputing the
finding (422 for bad input, 409 twice) and an administrator's answer (`/admin/disputes`, 403 for anyone else)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Booking, MentorProfile, User
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.sessions import individual_session


def test_a_mentee_checks_in_reports_the_mentor_absent_and_an_admin_answers_the_mentors_dispute(
        client: FlaskClient, db: Session) -> None:
    session = individual_session(db, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20))
    mentor = as_caller(db.get_one(MentorProfile, session.mentor_profile_id).user)
    mentee = as_caller(db.get_one(User, db.get_one(Booking, session.booking_id).mentee_user_id))
    stranger, admin = as_caller(UserFactory()), as_caller(UserFactory(is_admin=True))
    url = f"/api/v1/sessions/{session.id}"
    assert client.post(f"{url}/check-in", headers=stranger.headers).status_code == 404
    assert client.post(f"{url}/no-show", headers=mentee.headers).status_code == 400  # not checked in
    checked = client.post(f"{url}/check-in", headers=mentee.headers)
    assert checked.status_code == 200, checked.get_json()
    mentee_seen = [(a["role"], a["checked_in_at"] is not None) for a in checked.get_json()["attendance"]]
    assert mentee_seen == [("mentor", False), ("mentee", True)]
    reported = client.post(f"{url}/no-show", headers=mentee.headers)
    assert reported.status_code == 200, reported.get_json()
    assert reported.get_json()["status"] == "mentor_no_show"
    shown = client.get(url, headers=mentor.headers).get_json()["attendance"][1]
    assert (shown["no_show"], shown["no_show_fee_cents"], shown["dispute_status"]) == ("mentor", 0, None)
    assert shown["disputable_until"] is not None
    disputes = f"{url}/attendance-disputes"
    for bad in ({}, {"reason": ""}, {"reason": "x" * 2001}, {"reason": "I was there", "booking_id": "nope"}):
        assert client.post(disputes, json=bad, headers=mentor.headers).status_code == 422, bad
    assert client.post(disputes, json={"reason": "no"}, headers=stranger.headers).status_code == 404
    made = client.post(disputes, json={"reason": "I was in the room from 9:00."}, headers=mentor.headers)
    assert made.status_code == 201, made.get_json()
    dispute = made.get_json()
    assert (dispute["status"], dispute["raised_by"], dispute["attribution_before"]) == ("open", "mentor", "mentor")
    assert client.post(disputes, json={"reason": "me too"}, headers=mentee.headers).status_code == 403  # not blamed
    assert client.post(disputes, json={"reason": "again"}, headers=mentor.headers).status_code == 409
    queue = "/api/v1/admin/disputes?status=open"
    assert client.get(queue, headers=mentor.headers).status_code == 403
    assert [d["id"] for d in client.get(queue, headers=admin.headers).get_json()["items"]] == [dispute["id"]]
    resolve = f"/api/v1/admin/disputes/{dispute['id']}/resolve"
    assert client.post(resolve, json={"absent": "mentor"}, headers=mentor.headers).status_code == 403
    assert client.post(resolve, json={"absent": "both"}, headers=admin.headers).status_code == 422
    answered = client.post(resolve, json={"absent": "none", "note": "Both joined the call."}, headers=admin.headers)
    assert answered.status_code == 200, answered.get_json()
    assert (answered.get_json()["status"], answered.get_json()["attribution_after"]) == ("resolved", "none")
    assert client.post(resolve, json={"absent": "mentee"}, headers=admin.headers).status_code == 409
    after = client.get(url, headers=mentee.headers).get_json()
    assert (after["status"], after["attendance"][1]["no_show"], after["attendance"][1]["dispute_status"]) == (
        "mentor_no_show", "none", "resolved")
    audit = client.get("/api/v1/admin/audit", headers=admin.headers).get_json()["items"]
    assert (audit[0]["action"], audit[0]["target_type"], audit[0]["reason"]) == (
        "attendance.resolved", "dispute", "Both joined the call.")
    assert client.get(queue, headers=admin.headers).get_json()["items"] == []
    history = [e["type"] for e in client.get(f"{url}/events", headers=mentee.headers).get_json()["items"]]
    assert {"session.checked_in", "session.no_show", "attendance.disputed", "attendance.resolved"} <= set(history)
