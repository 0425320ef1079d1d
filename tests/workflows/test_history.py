"""A booking's or session's history (``workflows/history.py``), called directly: the part each event's actor took,
never their id. Who may read a history is the API tests' (``tests/api/common/test_history.py``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from models import MentorProfile, User
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.sessions import group_session, make_session
from workflows import history
from workflows.sessions import lifecycle as sessions

START = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


def parts(db: Session, viewer: User, session_id: uuid.UUID) -> list[tuple[str, str]]:
    page = history.session_timeline(db, actor_of(viewer), session_id, limit=50, cursor=None)
    return sorted((entry.type, entry.actor) for entry in page.items)


def test_an_admins_cancellation_shows_as_the_admins_and_the_systems_moves_as_the_systems(db: Session) -> None:
    mentor, _mentee, session = make_session(db, START)
    admin = UserFactory(is_admin=True)
    sessions.cancel_session_as_admin(db, actor_of(admin), session.id, reason="reported", now=START - timedelta(days=1))
    assert parts(db, mentor.user, session.id) == [("session.cancelled", "admin"), ("session.scheduled", "system")]
    assert parts(db, admin, session.id) == parts(db, mentor.user, session.id)  # an admin reads any history
    assert all(str(admin.id) not in actor for _type, actor in parts(db, mentor.user, session.id))


def test_in_a_group_session_a_mentee_is_a_mentee_to_everyone_and_the_mentor_the_mentor(db: Session) -> None:
    session, (_other, staying) = group_session(db, START, seats=2)
    mentor = db.get_one(MentorProfile, session.mentor_profile_id).user
    sessions.update_session_details(db, actor_of(mentor), session.id, {"agenda": "Pairing"},
                                    now=START - timedelta(days=1))
    sessions.start_session(db, actor_of(db.get_one(User, staying)), session.id, now=START)
    expected = [("session.started", "mentee"), ("session.updated", "mentor")]
    assert parts(db, db.get_one(User, staying), session.id) == expected
    assert parts(db, mentor, session.id) == expected
