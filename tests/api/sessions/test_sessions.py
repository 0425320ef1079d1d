from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import SessionStatus
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.sessions import make_session
from workflows.sessions import lifecycle as session_flow


def now() -> datetime:
    return datetime.now(UTC)


def test_session_lifecycle_through_the_api(client: FlaskClient, db: Session) -> None:
    mentor, mentee, session = make_session(db, now() + timedelta(minutes=10))
    url = f"/api/v1/sessions/{session.id}"
    body = client.get(url, headers=mentee.headers).get_json()
    assert (body["status"], body["kind"], body["booking_id"]) == ("scheduled", "individual", str(session.booking_id))
    assert (body["start_time"], body["end_time"]) == (session.start_time.isoformat(), session.end_time.isoformat())
    assert client.get(url, headers=as_caller(UserFactory()).headers).status_code == 404
    complete_early = client.post(f"{url}/complete", headers=mentor.headers)
    assert complete_early.status_code == 400
    assert complete_early.get_json()["message"] == "cannot complete a session that is scheduled"
    started = client.patch(f"{url}/start", headers=mentee.headers)
    assert started.status_code == 200 and started.get_json()["status"] == "in_progress"
    assert started.get_json()["started_at"] is not None
    assert client.post(f"{url}/start", headers=mentor.headers).status_code == 400
    assert client.post(f"{url}/complete", headers=mentee.headers).status_code == 403
    done = client.post(f"{url}/complete", headers=mentor.headers,
                       json={"notes": "Good", "action_items": ["read"], "metadata": {"k": [1, 2]}})
    assert done.status_code == 200
    body = done.get_json()
    assert (body["status"], body["completed_by"], body["notes"]) == ("completed", "mentor", "Good")
    assert (body["action_items"], body["metadata"]) == (["read"], {"k": [1, 2]})
    refused = client.post(f"{url}/cancel", json={"reason": "x"}, headers=mentee.headers)
    assert refused.status_code == 400 and "completed" in refused.get_json()["message"]


def test_complete_by_patch_and_bad_metadata(client: FlaskClient, db: Session) -> None:
    mentor, _mentee, session = make_session(db, now() + timedelta(minutes=5))
    url = f"/api/v1/sessions/{session.id}"
    assert client.post(f"{url}/start", headers=mentor.headers).status_code == 200
    assert client.patch(f"{url}/complete", headers=mentor.headers, json={"metadata": {"a": "\x00"}}).status_code == 422
    assert client.patch(f"{url}/complete", headers=mentor.headers, json={"metadata": "x"}).status_code == 422
    assert client.patch(f"{url}/complete", headers=mentor.headers).get_json()["status"] == "completed"


def test_start_window(client: FlaskClient, db: Session) -> None:
    mentor, _mentee, session = make_session(db, now() + timedelta(minutes=30))
    response = client.post(f"/api/v1/sessions/{session.id}/start", headers=mentor.headers)
    assert response.status_code == 400 and "too early" in response.get_json()["message"]
    # The clock moves on: 10 minutes before the start it opens, after the end it is closed.
    opened = session_flow.start_session(db, _actor(mentor), session.id, now=session.start_time - timedelta(minutes=10))
    assert opened.status == SessionStatus.IN_PROGRESS
    _mentor2, mentee2, late = make_session(db, now() + timedelta(days=1))
    with pytest.raises(Exception, match="time has passed"):
        session_flow.start_session(db, _actor(mentee2), late.id, now=late.end_time)


def _actor(caller: Caller) -> session_flow.Actor:
    profile = caller.user.mentor_profile
    return session_flow.Actor(user_id=caller.user.id, mentor_profile_id=profile.id if profile else None)


@pytest.mark.parametrize(
    ("who", "hours_before", "late", "fee"),
    [("mentee", 3, True, 4000), ("mentee", 30, False, 0), ("mentor", 3, False, 0)],
)
def test_cancellation_policy(client: FlaskClient, db: Session, who: str, hours_before: int, late: bool,
                             fee: int) -> None:
    mentor, mentee, session = make_session(db, now() + timedelta(hours=hours_before))
    caller = mentee if who == "mentee" else mentor
    response = client.post(f"/api/v1/sessions/{session.id}/cancel", json={"reason": "conflict"},
                           headers=caller.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "cancelled"
    cancellation = body["cancellation"]
    assert (cancellation["cancelled_by"], cancellation["late"], cancellation["fee_cents"]) == (who, late, fee)
    assert cancellation["reason"] == "conflict"
    booking = client.get(f"/api/v1/bookings/{session.booking_id}", headers=mentee.headers).get_json()
    assert booking["status"] == "cancelled"
    assert client.post(f"/api/v1/sessions/{session.id}/cancel", json={"reason": "again"},
                       headers=caller.headers).status_code == 400
    assert client.post(f"/api/v1/sessions/{session.id}/cancel", json={},
                       headers=caller.headers).status_code == 422


def test_list_sessions_by_role_with_cursor(client: FlaskClient, db: Session) -> None:
    mentor, mentee, first = make_session(db, now() + timedelta(days=2))
    listing_mentor_sessions = client.get("/api/v1/sessions?role=mentor", headers=mentor.headers).get_json()
    assert [s["id"] for s in listing_mentor_sessions["items"]] == [str(first.id)]
    assert client.get("/api/v1/sessions?role=mentee", headers=mentor.headers).get_json()["items"] == []
    assert [s["id"] for s in client.get("/api/v1/sessions?status=scheduled",
                                        headers=mentee.headers).get_json()["items"]] == [str(first.id)]
    assert client.get("/api/v1/sessions?status=completed", headers=mentee.headers).get_json()["items"] == []


def test_sessions_carry_a_meeting_link_from_the_template(client: FlaskClient, db: Session,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    mentor, mentee, session = make_session(db, now() + timedelta(days=2))
    body = client.get(f"/api/v1/sessions/{session.id}", headers=mentee.headers).get_json()
    assert body["meeting_url"] == f"https://meet.jit.si/mentorship-{session.meeting_room}"
    monkeypatch.setitem(client.application.extensions, "settings", dataclasses.replace(  # the app's, for this test
        client.application.extensions["settings"], meeting_url_template=""))
    assert client.get(f"/api/v1/sessions/{session.id}", headers=mentor.headers).get_json()["meeting_url"] is None


def test_the_patch_forms_are_deprecated_with_a_sunset_date(client: FlaskClient, db: Session) -> None:
    mentor, mentee, session = make_session(db, now() + timedelta(minutes=10))
    url = f"/api/v1/sessions/{session.id}"
    started = client.patch(f"{url}/start", headers=mentee.headers)
    assert started.status_code == 200
    assert started.headers["Deprecation"] == f"@{int(datetime(2026, 11, 23, tzinfo=UTC).timestamp())}"
    assert started.headers["Sunset"] == "Tue, 01 Jun 2027 00:00:00 GMT"
    completed = client.patch(f"{url}/complete", headers=mentor.headers, json={})
    assert completed.status_code == 200 and "Sunset" in completed.headers
    assert "Deprecation" not in client.get(url, headers=mentor.headers).headers
    paths = client.get("/api/openapi.json").json["paths"]
    assert paths["/api/v1/sessions/{session_id}/start"]["patch"]["deprecated"] is True
    assert "deprecated" not in paths["/api/v1/sessions/{session_id}/start"]["post"]


def test_the_patch_forms_send_their_deprecation_headers_with_every_error_too(
    client: FlaskClient, db: Session
) -> None:
    mentor, mentee, session = make_session(db, now() + timedelta(days=2))
    url = f"/api/v1/sessions/{session.id}"
    errors = {
        401: client.patch(f"{url}/start"),  # refused by the blueprint's login check, before the view
        404: client.patch(f"/api/v1/sessions/{uuid.uuid4()}/start", headers=mentee.headers),
        400: client.patch(f"{url}/start", headers=mentee.headers),  # two days too early
        403: client.patch(f"{url}/complete", headers=mentee.headers, json={}),
        422: client.patch(f"{url}/complete", headers=mentor.headers, json={"notes": 5}),
    }
    for status, answer in errors.items():
        assert answer.status_code == status, (status, answer.get_json())
        assert "Deprecation" in answer.headers and "Sunset" in answer.headers, status
    refused_post = client.post(f"{url}/start", headers=mentee.headers)
    assert refused_post.status_code == 400 and "Deprecation" not in refused_post.headers
