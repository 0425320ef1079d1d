from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Notification, OutboxEvent
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.sessions import make_session
from workflows.actors import Actor
from workflows.notifications import messages
from workflows.sessions import analytics, reviews
from workflows.sessions import lifecycle as session_flow


def completed_session(db: Session) -> tuple:
    mentor, mentee, session = make_session(db, datetime.now(UTC) + timedelta(minutes=5))
    actor = Actor(user_id=mentor.user.id, mentor_profile_id=session.mentor_profile_id)
    session_flow.start_session(db, actor, session.id)
    session_flow.complete_session(db, actor, session.id)
    event = db.scalars(select(OutboxEvent).where(OutboxEvent.type == "session.completed",
                                                 OutboxEvent.aggregate_id == session.id)).one()
    return mentor, mentee, session, event


def test_review_only_after_unlock_once_and_rating_follows(client: FlaskClient, db: Session) -> None:
    mentor, mentee, session, event = completed_session(db)
    url = f"/api/v1/sessions/{session.id}/review"
    not_yet = client.post(url, json={"rating": 4}, headers=mentee.headers)
    assert not_yet.status_code == 403 and "not eligible yet" in not_yet.get_json()["message"]
    reviews.handle_event(db, event)
    reviews.handle_event(db, event)  # delivered twice: still one eligibility
    assert client.post(url, json={"rating": 4}, headers=mentor.headers).status_code == 403
    assert client.post(url, json={"rating": 4}, headers=as_caller(UserFactory()).headers).status_code == 404
    assert client.post(url, json={"rating": 6}, headers=mentee.headers).status_code == 422
    created = client.post(url, json={"rating": 4, "comment": "good"}, headers=mentee.headers)
    assert created.status_code == 201 and created.get_json()["rating"] == 4
    assert client.post(url, json={"rating": 5}, headers=mentee.headers).status_code == 409
    profile = client.get(f"/api/v1/mentor-profiles/{session.mentor_profile_id}", headers=mentee.headers).get_json()
    assert (profile["rating_average"], profile["rating_count"]) == (4.0, 1)
    listed = client.get(f"/api/v1/mentor-profiles/{session.mentor_profile_id}/reviews",
                        headers=mentee.headers).get_json()
    assert [r["comment"] for r in listed["items"]] == ["good"]
    (public,) = listed["items"]
    assert public["reviewer"] == f"{mentee.user.display_name.split()[0]} {mentee.user.display_name.split()[-1][0]}."
    assert "mentee_user_id" not in public and "session_id" not in public
    assert db.scalar(select(func.count()).where(OutboxEvent.type == "review.created")) == 1


def test_a_review_names_its_author_by_first_name_and_initial_or_not_at_all(client: FlaskClient, db: Session) -> None:
    names = []
    for display_name, anonymous in (("Grace Brewster Hopper", False), ("Ada", False), ("Alan Turing", True)):
        _mentor, mentee, session, event = completed_session(db)
        mentee.user.display_name = display_name
        reviews.handle_event(db, event)
        posted = client.post(f"/api/v1/sessions/{session.id}/review", headers=mentee.headers,
                             json={"rating": 5, "anonymous": anonymous})
        assert posted.status_code == 201 and posted.get_json()["anonymous"] is anonymous
        listed = client.get(f"/api/v1/mentor-profiles/{session.mentor_profile_id}/reviews",
                            headers=mentee.headers).get_json()["items"]
        names.append(listed[0]["reviewer"])
    assert names == ["Grace H.", "Ada", "A mentee"]
    assert reviews.public_name("Deleted user", anonymous=False, deleted=True) == "A mentee"


def test_notifications_reach_the_right_people_once(client: FlaskClient, db: Session) -> None:
    mentor, mentee, _session, event = completed_session(db)
    messages.handle_event(db, event)
    messages.handle_event(db, event)
    owners = db.scalars(select(Notification.user_id).where(Notification.event_id == event.id)).all()
    assert sorted(owners) == sorted([mentor.user.id, mentee.user.id])
    listed = client.get("/api/v1/notifications?unread=true", headers=mentee.headers).get_json()
    assert [n["type"] for n in listed["items"]] == ["session.completed"]
    notification_id = listed["items"][0]["id"]
    assert client.post(f"/api/v1/notifications/{notification_id}/read", headers=mentor.headers).status_code == 404
    read = client.post(f"/api/v1/notifications/{notification_id}/read", headers=mentee.headers)
    assert read.status_code == 200 and read.get_json()["read_at"] is not None
    assert client.get("/api/v1/notifications?unread=true", headers=mentee.headers).get_json()["items"] == []
    assert len(client.get("/api/v1/notifications", headers=mentee.headers).get_json()["items"]) == 1


def test_stats_count_each_event_once(client: FlaskClient, db: Session) -> None:
    _mentor, mentee, session, event = completed_session(db)
    url = f"/api/v1/mentor-profiles/{session.mentor_profile_id}/stats"
    counted = {"sessions_completed": 0, "minutes_completed": 0, "sessions_cancelled": 0, "sessions_missed": 0,
               "average_rating": None, "reviews_count": 0, "no_show_count": None, "no_show_rate": None}
    before = client.get(url, headers=mentee.headers).get_json()
    assert {key: before[key] for key in counted} == counted  # the months, ratings and mentees: test_mentor_numbers
    analytics.handle_event(db, event)
    stats = client.get(url, headers=mentee.headers).get_json()
    assert (stats["sessions_completed"], stats["minutes_completed"]) == (1, 60)
    assert client.get(f"/api/v1/mentor-profiles/{uuid.uuid4()}/stats", headers=mentee.headers).status_code == 404


def test_mark_all_read_reads_the_callers_notifications_up_to_the_newest_seen(client: FlaskClient, db: Session
                                                                              ) -> None:
    ada, bob = as_caller(UserFactory()), as_caller(UserFactory())
    now = datetime.now(UTC)

    def notice(user_id: uuid.UUID, minutes_ago: int) -> uuid.UUID:
        made = Notification(id=uuid.uuid4(), user_id=user_id, type="booking.declined", title="Booking declined",
                            body="Declined.", created_at=now - timedelta(minutes=minutes_ago))
        db.add(made)
        return made.id

    older, seen, newer = notice(ada.user.id, 30), notice(ada.user.id, 20), notice(ada.user.id, 1)
    bobs = notice(bob.user.id, 25)
    db.flush()
    url = "/api/v1/notifications/read-all"
    assert client.post(url).status_code == 401
    refused = client.post(url, json={"up_to": "yesterday"}, headers=ada.headers)
    assert refused.status_code == 422 and "up_to" in refused.get_json()["errors"]["json"]
    up_to = (now - timedelta(minutes=20)).isoformat()
    answer = client.post(url, json={"up_to": up_to}, headers=ada.headers)
    assert answer.status_code == 200 and answer.get_json() == {"marked": 2}

    def read(notification_id: uuid.UUID) -> bool:
        return db.scalar(select(Notification.read_at).where(Notification.id == notification_id)) is not None

    db.expire_all()
    assert (read(older), read(seen), read(newer), read(bobs)) == (True, True, False, False)
    assert client.post(url, headers=ada.headers).get_json() == {"marked": 1}  # no body: every one left
    assert client.post(url, headers=ada.headers).get_json() == {"marked": 0}
    db.expire_all()
    assert read(newer) and not read(bobs)
