"""The inbox (``workflows/inbox.py``), called directly: one notification per event, person and kind; only its owner
reads it or marks it read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import OutboxEvent
from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.sessions import make_session
from workflows import inbox
from workflows.errors import NotFound

START = datetime(2031, 6, 2, 9, 30, tzinfo=UTC)


def event(db: Session, aggregate_id: uuid.UUID, event_type: str) -> OutboxEvent:
    return db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == aggregate_id,
                                                OutboxEvent.type == event_type)).one()


def test_one_notification_per_event_person_and_kind(db: Session) -> None:
    user = UserFactory()
    _mentor, _mentee, session = make_session(db, START)
    event_id = event(db, session.id, "session.scheduled").id
    first = inbox.notify_user(db, user.id, type_="team.invited", title="t", body="b", data={},
                                      event_id=event_id)
    again = inbox.notify_user(db, user.id, type_="team.invited", title="t", body="b", data={},
                                      event_id=event_id)
    other_kind = inbox.notify_user(db, user.id, type_="team.left", title="t", body="b", data={},
                                           event_id=event_id)
    assert first is not None and again is None and other_kind not in {None, first}


def test_only_its_user_marks_a_notification_read_and_the_first_time_stays(db: Session) -> None:
    user = UserFactory()
    made = inbox.notify_user(db, user.id, type_="team.left", title="t", body="b", data={})
    assert made is not None
    stranger = refused(db, NotFound, lambda: inbox.mark_read(db, actor_of(UserFactory()), made))
    assert stranger.message == "notification not found"
    read_at = inbox.mark_read(db, actor_of(user), made).read_at
    assert read_at is not None
    assert inbox.mark_read(db, actor_of(user), made).read_at == read_at
    unread = inbox.list_notifications(db, actor_of(user), unread=True, limit=10, cursor=None)
    assert unread.items == []
