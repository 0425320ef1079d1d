"""Announcements through the API and their workers' handler: a programme's coordinators tell its mentees, its mentors,
everyone or its pairs not yet active; each recipient is told once (the handler run again tells no one twice), by
email as they chose; reading it counts; bad and foreign posts are refused with nothing written; an admin's notice
reaches every account."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AdminAction, Announcement, EmailChoice, EmailStatus, Notification, OutboxEvent, Telling, User
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.programmes import BASE, joined, running_programme
from tests.mail import Mailbox
from workflows.conversations import announcements
from workflows.events import EventType
from workflows.notifications import mail, preferences


def _deliver(db: Session, announcement_id: str) -> int:
    """The handler's work for the announcement's event, as a worker runs it."""
    events = db.scalars(select(OutboxEvent).where(OutboxEvent.type == EventType.ANNOUNCEMENT_POSTED,
                                                  OutboxEvent.aggregate_id == uuid.UUID(announcement_id))).all()
    assert len(events) == 1
    return announcements.deliver(db, events)


def _told(db: Session, announcement_id: str) -> list[uuid.UUID]:
    (event_id,) = db.scalars(select(OutboxEvent.id).where(OutboxEvent.aggregate_id == uuid.UUID(announcement_id)))
    return sorted(db.scalars(select(Notification.user_id).where(Notification.event_id == event_id)))


def _cohort(client: FlaskClient) -> tuple[Any, dict[str, Any], list[Any], list[Any]]:
    coordinator, programme = running_programme(client)
    mentors = [joined(client, coordinator, programme, "mentor")[0] for _ in range(2)]
    mentees = [joined(client, coordinator, programme, "mentee")[0] for _ in range(3)]
    return coordinator, programme, mentors, mentees


def test_a_coordinator_tells_the_mentees_once_each_and_sees_who_read_it(client: FlaskClient, db: Session,
                                                                       mailbox: Mailbox) -> None:
    coordinator, programme, mentors, mentees = _cohort(client)
    preferences.choose(db, mentees[2].user.id, {Telling.ANNOUNCEMENTS: EmailChoice.OFF})
    url = f"{BASE}/{programme['id']}/announcements"
    posted = client.post(url, headers=coordinator.headers, json={
        "audience": "mentees", "title": "The kick-off moved", "body": "We meet on **Thursday** instead."})
    assert posted.status_code == 201, posted.get_json()
    made = posted.get_json()
    assert (made["recipients"], made["html"]) == (None, "<p>We meet on <strong>Thursday</strong> instead.</p>\n")
    event = db.scalar(select(OutboxEvent).where(OutboxEvent.type == EventType.ANNOUNCEMENT_POSTED))
    assert event is not None and "Thursday" not in str(event.payload)  # the event names it, without its words
    assert event.payload["coordinator_user_ids"] == [str(coordinator.user.id)]

    assert _deliver(db, made["id"]) == 3
    assert _deliver(db, made["id"]) == 0  # a handler run again (a worker died before its commit) tells no one twice
    assert _told(db, made["id"]) == sorted(m.user.id for m in mentees)
    notification = db.scalar(select(Notification).where(Notification.user_id == mentees[0].user.id))
    assert notification is not None
    shown = client.get("/api/v1/notifications", headers=mentees[0].headers).get_json()["items"][0]
    assert (shown["title"], shown["body"]) == ("Spring cohort: The kick-off moved", "We meet on **Thursday** instead.")
    assert shown["data"]["link"] == f"#/announcements/{made['id']}"

    # Email by each one's choice: two at once, the third chose none.
    for one in db.scalars(select(Notification).where(Notification.type == EventType.ANNOUNCEMENT_POSTED)):
        mail.deliver_email(db, one.id)
    assert sorted(m["To"] for m in mailbox.inbox.messages) == sorted(m.user.email for m in mentees[:2])
    assert mailbox.inbox.messages[0]["Subject"] == "Spring cohort: The kick-off moved"
    off = db.scalar(select(Notification.email_status).where(Notification.user_id == mentees[2].user.id))
    assert off == EmailStatus.NONE

    listed = client.get(url, headers=coordinator.headers).get_json()["items"]
    assert [(one["recipients"], one["read"]) for one in listed] == [(3, 0)]
    history = client.get(f"{BASE}/{programme['id']}/history?limit=100", headers=coordinator.headers).get_json()
    said = f"{coordinator.user.display_name} posted an announcement to the mentees"  # its words are not in it
    assert [one["summary"] for one in history["items"]].count(said) == 1
    read = client.get(f"/api/v1/announcements/{made['id']}", headers=mentees[1].headers)
    assert read.status_code == 200 and read.get_json()["read"] is None  # a recipient does not see the counts
    assert client.get(f"/api/v1/announcements/{made['id']}", headers=mentees[1].headers).status_code == 200
    assert client.get(url, headers=coordinator.headers).get_json()["items"][0]["read"] == 1  # once, however often
    assert client.get(f"/api/v1/announcements/{made['id']}", headers=coordinator.headers).get_json()["read"] == 1
    for outsider in (mentors[0], as_caller(UserFactory())):  # not a recipient: not told it exists
        assert client.get(f"/api/v1/announcements/{made['id']}", headers=outsider.headers).status_code == 404
    assert client.get(url, headers=mentees[0].headers).status_code == 404


def test_everyone_the_mentors_and_the_pairs_not_yet_active(client: FlaskClient, db: Session) -> None:
    coordinator, programme, mentors, mentees = _cohort(client)
    participants = {str(p["user_id"]): p["id"] for p in client.get(
        f"{BASE}/{programme['id']}/participants", headers=coordinator.headers).get_json()["items"]}
    paired = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": participants[str(mentors[0].user.id)],
        "mentee_participant_id": participants[str(mentees[0].user.id)]})
    assert paired.status_code == 201, paired.get_json()
    url = f"{BASE}/{programme['id']}/announcements"
    expected = {"everyone": [*mentors, *mentees], "mentors": mentors, "not_active": [mentors[0], mentees[0]]}
    for audience, people in expected.items():
        made = client.post(url, headers=coordinator.headers, json={"audience": audience, "title": audience,
                                                                   "body": "Hello"}).get_json()
        _deliver(db, made["id"])
        assert _told(db, made["id"]) == sorted(p.user.id for p in people), audience


def test_bad_and_foreign_announcements_are_refused_and_nothing_is_written(client: FlaskClient, db: Session) -> None:
    coordinator, programme, _, mentees = _cohort(client)
    other, _ = running_programme(client)
    url = f"{BASE}/{programme['id']}/announcements"
    good = {"audience": "everyone", "title": "Hello", "body": "Welcome"}

    def written() -> tuple[int, int]:
        return (db.scalar(select(func.count()).select_from(Announcement)) or 0,
                db.scalar(select(func.count()).select_from(OutboxEvent).where(
                    OutboxEvent.type == EventType.ANNOUNCEMENT_POSTED)) or 0)

    before = written()
    for caller, body, status in (
            (other, good, 404), (mentees[0], good, 404), (coordinator, {**good, "body": "x" * 4001}, 422),
            (coordinator, {**good, "title": "\u202e\u0000 "}, 422), (coordinator, {**good, "audience": "all"}, 422),
            (coordinator, {**good, "title": "t" * 201}, 422), (coordinator, {"title": "no body"}, 422)):
        answer = client.post(url, headers=caller.headers, json=body)
        assert answer.status_code == status, (body, answer.get_json())
    assert client.post(f"{BASE}/{uuid.uuid4()}/announcements", headers=coordinator.headers, json=good
                       ).status_code == 404
    assert client.post("/api/v1/announcements", headers=coordinator.headers, json=good).status_code == 403
    assert client.get("/api/v1/announcements", headers=coordinator.headers).status_code == 403
    assert written() == before
    # A title's direction overrides are dropped and its spaces run together; its words stay.
    made = client.post(url, headers=coordinator.headers, json={**good, "title": " Kick\u202e-off \n moved "})
    assert made.get_json()["title"] == "Kick-off moved"
    assert client.post(f"{BASE}/{programme['id']}/close", headers=coordinator.headers).status_code == 200
    assert client.post(url, headers=coordinator.headers, json=good).status_code == 400  # closed: nothing more


def test_an_admins_notice_reaches_every_account(client: FlaskClient, db: Session) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    people = [UserFactory() for _ in range(3)]
    gone = UserFactory()
    gone.disabled_at = func.now()
    db.flush()
    made = client.post("/api/v1/announcements", headers=admin.headers, json={
        "audience": "mentors", "title": "Maintenance", "body": "Sunday"})
    assert made.status_code == 422  # a notice is to everyone
    made = client.post("/api/v1/announcements", headers=admin.headers, json={"title": "Maintenance",
                                                                          "body": "On Sunday, 06:00 UTC"})
    assert made.status_code == 201, made.get_json()
    _deliver(db, made.get_json()["id"])
    told = set(_told(db, made.get_json()["id"]))
    everyone = set(db.scalars(select(User.id).where(User.deleted_at.is_(None), User.disabled_at.is_(None))))
    assert told == everyone - {admin.user.id} and {p.id for p in people} <= told and gone.id not in told
    notice = client.get("/api/v1/announcements", headers=admin.headers).get_json()["items"][0]
    assert (notice["programme_id"], notice["recipients"], notice["read"]) == (None, len(told), 0)
    shown = client.get("/api/v1/notifications", headers=as_caller(people[0]).headers).get_json()["items"][0]
    assert shown["title"] == "Notice: Maintenance"
    audited = db.scalars(select(AdminAction).where(AdminAction.admin_user_id == admin.user.id)).one()
    assert (audited.action, str(audited.target_id), audited.reason) == ("notice.posted", made.get_json()["id"],
                                                                        "Maintenance")
