"""Disabling, enabling and deleting accounts (``workflows/operations/accounts.py``), called directly: an admin's
alone, the last admin kept, two admins disabling each other leave one able to act."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AdminAction, SignIn, User
from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.sessions import make_session
from workflows.accounts import refresh_tokens, sign_ins
from workflows.accounts.sign_ins import ClientInfo
from workflows.errors import Conflict, Forbidden, NotFound
from workflows.operations import accounts


def test_only_an_admin_disables_enables_or_deletes(db: Session) -> None:
    someone, target = UserFactory(), UserFactory()
    for call in (accounts.disable_user, accounts.enable_user, accounts.delete_user):
        refused(db, Forbidden, lambda call=call: call(db, actor_of(someone), target.id, reason="x"))
    refused(db, NotFound, lambda: accounts.disable_user(db, actor_of(UserFactory(is_admin=True)),
                                                        UserFactory(deleted_at=datetime.now(UTC)).id, reason="x"))


def test_disabling_ends_every_live_sign_in_and_refuses_a_new_one(db: Session) -> None:
    admin, target = UserFactory(is_admin=True), UserFactory()
    signed = refresh_tokens.sign_in(db, target, ClientInfo())
    version = target.token_version

    accounts.disable_user(db, actor_of(admin), target.id, reason="spam")

    db.expire_all()
    assert db.get_one(SignIn, signed.sign_in_id).revoked_at is not None
    assert db.get_one(User, target.id).token_version == version + 1
    refused(db, sign_ins.AccountDisabled, lambda: refresh_tokens.sign_in(db, db.get_one(User, target.id), ClientInfo()))
    refused(db, sign_ins.AccountDisabled, lambda: refresh_tokens.rotate(db, signed.refresh_token, ClientInfo()))


def test_the_last_admin_able_to_act_is_kept(db: Session) -> None:
    first, second = UserFactory(is_admin=True), UserFactory(is_admin=True)
    others = list(db.scalars(select(User).where(User.is_admin, User.id.not_in([first.id, second.id]),
                                                User.disabled_at.is_(None), User.deleted_at.is_(None))))
    accounts.disable_user(db, actor_of(first), second.id, reason="left")
    if not others:  # the database holds no other admin: the first is the last one able to act
        refused(db, Conflict, lambda: accounts.disable_user(db, actor_of(second), first.id, reason="x"))
    refused(db, Conflict, lambda: accounts.delete_user(db, actor_of(first), first.id, reason="x"))
    trail = db.scalars(select(AdminAction.action).where(AdminAction.target_id == second.id)).all()
    assert trail == [accounts.DISABLED_USER]


def test_enabling_keeps_what_was_cancelled_cancelled(db: Session) -> None:
    admin = UserFactory(is_admin=True)
    _mentor, mentee, session = make_session(db, datetime.now(UTC) + timedelta(days=4))
    accounts.disable_user(db, actor_of(admin), mentee.user.id, reason="x")
    enabled = accounts.enable_user(db, actor_of(admin), mentee.user.id, reason="ok")
    assert enabled.disabled_at is None and enabled.disabled_reason is None
    db.refresh(session)
    assert session.cancel_reason == accounts.DISABLED_REASON
    assert accounts.enable_user(db, actor_of(admin), mentee.user.id, reason="again") is enabled
    assert sorted(db.scalars(select(AdminAction.action).where(AdminAction.target_id == mentee.user.id))) == [
        accounts.DISABLED_USER, accounts.ENABLED_USER]
