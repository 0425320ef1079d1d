"""Reporting a conversation through the API: a paired mentee's report reaches her programme's coordinators (told, the
event carrying no words), who read that conversation from the report, and only from it, each read audited; a report
outside programmes reaches the administrators; bad and foreign reports are refused with nothing written."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AdminAction, ConversationReport, OutboxEvent
from tests.api_calls import future, request_booking
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.factories.programmes import BASE, joined, running_programme
from workflows.events import EventType

URL = "/api/v1/conversations"
REPORTS = "/api/v1/conversation-reports"


def _open(client: FlaskClient, caller: Caller, **body: Any) -> str:
    opened = client.post(URL, headers=caller.headers, json=body)
    assert opened.status_code == 200, opened.get_json()
    return opened.get_json()["id"]


def _send(client: FlaskClient, caller: Caller, conversation: str, words: str) -> dict[str, Any]:
    sent = client.post(f"{URL}/{conversation}/messages", headers=caller.headers, json={"body": words})
    assert sent.status_code == 201, sent.get_json()
    return sent.get_json()


def test_a_paired_mentees_report_reaches_her_coordinators_who_read_it_audited(client: FlaskClient,
                                                                              db: Session) -> None:
    coordinator, programme = running_programme(client)
    other, _ = running_programme(client)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    assert client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).status_code == 201
    one = _open(client, mentee, user_id=str(mentor.user.id))
    rude = _send(client, mentor, one, "Send me your phone number or else.")
    made = client.post(f"{URL}/{one}/report", headers=mentee.headers, json={
        "reason": "harassment", "words": "He keeps insisting.", "message_id": rude["id"]})
    assert made.status_code == 201, made.get_json()
    report = made.get_json()
    assert (report["programme_id"], report["message_id"]) == (programme["id"], rude["id"])
    event = db.scalar(select(OutboxEvent).where(OutboxEvent.type == EventType.CONVERSATION_REPORTED))
    assert event is not None and "insisting" not in str(event.payload) and "phone" not in str(event.payload)
    assert event.payload["coordinator_user_ids"] == [str(coordinator.user.id)]

    told = client.get("/api/v1/notifications", headers=coordinator.headers).get_json()["items"]
    note = next(n for n in told if n["title"] == "A conversation was reported")
    assert note["body"] == (f"{mentee.user.display_name} reported a conversation for harassment. Read it from the "
                            "report: your reading is recorded.")
    assert note["data"]["link"] == f"#/reports/{report['id']}"
    assert [r["id"] for r in client.get(REPORTS, headers=coordinator.headers).get_json()["items"]] == [report["id"]]
    assert client.get(f"{URL}/{one}/messages", headers=coordinator.headers).status_code == 404  # only from the report

    read = client.get(f"{REPORTS}/{report['id']}", headers=coordinator.headers)
    assert read.status_code == 200
    body = read.get_json()
    assert [m["body"] for m in body["messages"]] == ["Send me your phone number or else."]
    assert (body["words"], body["reporter_name"]) == ("He keeps insisting.", mentee.user.display_name)
    assert sorted(body["people"]) == sorted([mentee.user.display_name, mentor.user.display_name])
    audit = db.scalars(select(AdminAction).where(AdminAction.action == "conversation.read_reported")).all()
    assert [(a.admin_user_id, a.target_id, a.reason) for a in audit] == [
        (coordinator.user.id, uuid.UUID(one), f"report {report['id']}: harassment")]
    for outsider in (other, mentor, as_caller(UserFactory())):
        assert client.get(f"{REPORTS}/{report['id']}", headers=outsider.headers).status_code == 404
        assert client.get(REPORTS, headers=outsider.headers).get_json()["items"] == []


def test_a_report_outside_programmes_reaches_the_administrators(client: FlaskClient, db: Session) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    assert request_booking(client, mentee, listing.id, future())[0] == 201
    one = _open(client, mentee, user_id=str(mentor.user.id))
    _send(client, mentor, one, "Buy my course at a discount!")
    made = client.post(f"{URL}/{one}/report", headers=mentee.headers, json={"reason": "spam"}).get_json()
    assert made["programme_id"] is None
    assert client.get(f"{REPORTS}/{made['id']}", headers=admin.headers).get_json()["messages"][0]["body"] == \
        "Buy my course at a discount!"
    assert any(n["title"] == "A conversation was reported"
               for n in client.get("/api/v1/notifications", headers=admin.headers).get_json()["items"])


def test_bad_and_foreign_reports_are_refused_and_nothing_is_written(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    assert request_booking(client, mentee, listing.id, future())[0] == 201
    one = _open(client, mentee, user_id=str(mentor.user.id))
    for caller, body, status in (
            (mentee, {"reason": "boring"}, 422), (mentee, {"reason": "spam", "words": "x" * 1001}, 422),
            (mentee, {"reason": "spam", "message_id": str(uuid.uuid4())}, 404), (mentee, {}, 422),
            (as_caller(UserFactory()), {"reason": "spam"}, 404)):
        answer = client.post(f"{URL}/{one}/report", headers=caller.headers, json=body)
        assert answer.status_code == status, (body, answer.get_json())
    assert db.scalar(select(func.count()).select_from(ConversationReport)) == 0
    assert db.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.type == EventType.CONVERSATION_REPORTED)) == 0
