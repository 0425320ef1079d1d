"""Who may, as every domain asks it (``workflows/access.py``): an administrator reads a record they take no part in,
and their read is in the admin audit trail naming them; a participant's own read leaves none; anyone else finds
nothing, and the admin-only rule refuses them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AdminAction
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.sessions import make_session
from workflows import access
from workflows.errors import Forbidden, NotFound
from workflows.sessions.lifecycle import get_visible_session


def _trail(db: Session) -> list[tuple[str, str, object]]:
    return [(row.action, row.target_type, row.target_id) for row in db.scalars(select(AdminAction))]


def test_an_admins_read_of_someone_elses_session_is_in_the_audit_trail_naming_them(db: Session) -> None:
    mentor, mentee, session = make_session(db, datetime.now(UTC) + timedelta(days=1))
    admin = UserFactory(is_admin=True)
    db.flush()
    for participant in (mentor, mentee):
        assert get_visible_session(db, actor_of(participant.user), session.id).id == session.id
    assert _trail(db) == []  # a participant's own read is no admin action

    assert get_visible_session(db, actor_of(admin), session.id).id == session.id
    assert _trail(db) == [("session.read", "session", session.id)]
    assert db.scalar(select(AdminAction.admin_user_id)) == admin.id

    with pytest.raises(NotFound):  # nor a stranger, nor a read to act on it
        get_visible_session(db, actor_of(UserFactory()), session.id)
    assert len(_trail(db)) == 1


def test_the_admin_only_rule_lets_admins_in_and_no_one_else() -> None:
    access.require_admin(actor_of(UserFactory.build(is_admin=True)))
    with pytest.raises(Forbidden):
        access.require_admin(actor_of(UserFactory.build()))
    assert access.is_admin(actor_of(UserFactory.build(is_admin=True)))
    assert not access.is_admin(actor_of(UserFactory.build()))
