"""What administrators do (``workflows/operations/admin.py``), called directly: every action is an admin's alone
and recorded once in the audit trail; a search takes its words literally."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AdminAction, Review, SessionStatus, User
from tests.database import events_of, refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.sessions import make_session
from workflows.actors import Actor
from workflows.errors import Forbidden, NotFound
from workflows.operations import admin as administration

START = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


def trail(db: Session, target_id: uuid.UUID) -> list[tuple[str, str | None]]:
    return [(a.action, a.reason) for a in db.scalars(select(AdminAction).where(AdminAction.target_id == target_id))]


def a_review(db: Session) -> Review:
    _mentor, mentee, session = make_session(db, START)
    review = Review(id=uuid.uuid4(), session_id=session.id, mentor_profile_id=session.mentor_profile_id,
                    mentee_user_id=mentee.user.id, rating=1, comment="rude")
    db.add(review)
    db.flush()
    return review


ACTIONS: dict[str, Callable[[Session, Actor], object]] = {
    "cancel a session": lambda db, actor: administration.cancel_session(
        db, actor, make_session(db, START)[2].id, reason="x"),
    "grant admin": lambda db, actor: administration.grant_admin(db, actor, UserFactory().id, reason="r"),
    "revoke admin": lambda db, actor: administration.revoke_admin(db, actor, UserFactory(is_admin=True).id, reason="r"),
    "hide a review": lambda db, actor: administration.hide_review(db, actor, a_review(db).id, reason="x"),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_is_for_admins_only_and_a_refused_one_records_nothing(db: Session, action: str) -> None:
    error = refused(db, Forbidden, lambda: ACTIONS[action](db, actor_of(UserFactory())))
    assert error.message == "administrators only"
    assert db.scalars(select(AdminAction)).all() == []


def test_an_admin_cancels_through_the_session_workflow_and_the_reason_is_recorded(db: Session) -> None:
    admin = UserFactory(is_admin=True)
    _mentor, _mentee, session = make_session(db, START)
    administration.cancel_session(db, actor_of(admin), session.id, reason="reported twice")
    assert (session.status, session.cancelled_by, session.cancel_late) == (SessionStatus.CANCELLED, "admin", False)
    assert ("session.cancelled", f"admin:{admin.id}") in events_of(db, session.id)
    assert trail(db, session.id) == [("session.cancelled", "reported twice")]


def test_granting_admin_twice_makes_one_admin_and_one_record(db: Session) -> None:
    admin, user = UserFactory(is_admin=True), UserFactory()
    administration.grant_admin(db, actor_of(admin), user.id, reason="runs the cohort")
    administration.grant_admin(db, actor_of(admin), user.id, reason="again")
    assert user.is_admin is True
    assert trail(db, user.id) == [("user.granted_admin", "runs the cohort")]


def test_revoking_admin_is_recorded_and_revoking_it_from_someone_without_it_is_not(db: Session) -> None:
    admin, other_admin, user = UserFactory(is_admin=True), UserFactory(is_admin=True), UserFactory()
    administration.revoke_admin(db, actor_of(admin), other_admin.id, reason="left")
    administration.revoke_admin(db, actor_of(admin), user.id, reason="left")
    assert (other_admin.is_admin, user.is_admin) == (False, False)
    assert (trail(db, other_admin.id), trail(db, user.id)) == ([("user.revoked_admin", "left")], [])


def test_a_deleted_or_unknown_user_is_not_found(db: Session) -> None:
    admin = actor_of(UserFactory(is_admin=True))
    deleted = UserFactory()
    deleted.deleted_at = deleted.created_at
    db.flush()
    for user_id in (deleted.id, uuid.uuid4()):
        error = refused(db, NotFound, lambda uid=user_id: administration.grant_admin(db, admin, uid, reason="r"))
        assert error.message == "user not found"
    assert db.get_one(User, deleted.id).is_admin is False


def test_hiding_a_review_twice_hides_it_once_and_records_once(db: Session) -> None:
    admin = actor_of(UserFactory(is_admin=True))
    review = a_review(db)
    administration.hide_review(db, admin, review.id, reason="abusive")
    hidden_at = review.hidden_at
    administration.hide_review(db, admin, review.id, reason="again")
    assert (review.hidden_at, review.hidden_reason) == (hidden_at, "abusive")
    assert trail(db, review.id) == [("review.hidden", "abusive")]


def test_a_user_search_takes_percent_and_underscore_literally(db: Session) -> None:
    word = uuid.uuid4().hex[:8]
    literal = UserFactory(display_name=f"{word} 100%_sure")
    UserFactory(display_name=f"{word} 100xxsure")
    page = administration.list_users(db, q=f"{word} 100%_", is_admin=None, limit=10, cursor=None)
    assert [u.id for u in page.items] == [literal.id]
    by_email = administration.list_users(db, q=literal.email.upper(), is_admin=None, limit=10, cursor=None)
    assert [u.id for u in by_email.items] == [literal.id]
