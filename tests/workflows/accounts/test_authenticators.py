"""A person's own authenticators (``workflows/accounts/authenticators.py``), called directly: what a first one brings,
naming, the bound on how many, a fresh sign-in to remove one or renew the codes, and accounts of an organisation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.cli import ops
from infra import sealing
from infra.config import get_settings
from models import Authenticator, AuthEvent, AuthEventKind, Notification, RecoveryCode, SecondStepRequirement
from tests.factories.accounts import UserFactory, actor_of
from workflows.accounts import authenticators
from workflows.errors import Conflict, Forbidden, InvalidInput

T0 = datetime(2030, 3, 4, 9, 0, 0, tzinfo=UTC)


def test_the_first_authenticator_brings_recovery_codes_and_a_second_does_not(db: Session) -> None:
    user = UserFactory()
    actor = actor_of(user)
    first = authenticators.begin(db, actor, name="  Phone\n", now=T0)
    with pytest.raises(InvalidInput):
        authenticators.confirm(db, actor, first.id, code="000000" if pyotp.TOTP(first.secret).at(T0) != "000000"
                               else "111111", now=T0)
    assert authenticators.overview(db, actor).authenticators == []  # unconfirmed: not shown, signs no one in
    codes = authenticators.confirm(db, actor, first.id, code=pyotp.TOTP(first.secret).at(T0), now=T0)
    assert codes is not None and len(codes) == 10
    later = T0 + timedelta(minutes=1)
    second = authenticators.begin(db, actor, name="Key ring", now=later)
    assert authenticators.confirm(db, actor, second.id, code=pyotp.TOTP(second.secret).at(later), now=later) is None
    shown = authenticators.overview(db, actor)
    assert [row.name for row in shown.authenticators] == ["Phone", "Key ring"]
    assert (shown.recovery_codes_left, shown.required) == (10, False)
    with pytest.raises(Conflict):
        authenticators.confirm(db, actor, second.id, code=pyotp.TOTP(second.secret).at(later), now=later)


def test_at_most_ten_and_a_setup_left_unconfirmed_is_dropped_after_an_hour(db: Session) -> None:
    user = UserFactory()
    actor = actor_of(user)
    for n in range(10):
        authenticators.begin(db, actor, name=f"App {n}", now=T0)
    with pytest.raises(Conflict) as full:
        authenticators.begin(db, actor, name="One more", now=T0)
    assert full.value.reason == "too_many_authenticators"
    authenticators.begin(db, actor, name="One more", now=T0 + timedelta(hours=2))
    assert db.scalars(select(Authenticator.name).where(Authenticator.user_id == user.id)).all() == ["One more"]


def test_removing_and_renewing_need_a_fresh_sign_in_and_a_rule_keeps_the_last(db: Session) -> None:
    user = UserFactory(email="sam@example.edu")
    actor = actor_of(user)
    setup = authenticators.begin(db, actor, name="Phone", now=T0)
    authenticators.confirm(db, actor, setup.id, code=pyotp.TOTP(setup.secret).at(T0), now=T0)
    for stale in (None, T0 - timedelta(minutes=11)):
        with pytest.raises(Forbidden):
            authenticators.remove(db, actor, setup.id, signed_in_at=stale, now=T0)
        with pytest.raises(Forbidden):
            authenticators.renew_recovery_codes(db, actor, signed_in_at=stale, now=T0)
    fresh = T0 - timedelta(minutes=9)
    assert len(authenticators.renew_recovery_codes(db, actor, signed_in_at=fresh, now=T0)) == 10
    db.add(SecondStepRequirement(domain="example.edu"))
    db.flush()
    with pytest.raises(Conflict):
        authenticators.remove(db, actor, setup.id, signed_in_at=fresh, now=T0)
    db.delete(db.get(SecondStepRequirement, "example.edu"))
    authenticators.remove(db, actor, setup.id, signed_in_at=fresh, now=T0)
    assert db.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all() == []


def test_an_account_of_an_organisation_has_no_second_step_here(db: Session) -> None:
    user = UserFactory(password_hash=None)
    with pytest.raises(Conflict) as refused:
        authenticators.begin(db, actor_of(user), name="Phone", now=T0)
    assert refused.value.reason == "no_password"


def test_an_operator_reseals_the_keys_and_removes_a_lost_persons_second_steps(
        app: Flask, db: Session, configure: Callable[..., None]) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    configure(CREDENTIALS_KEYS=old)
    user = UserFactory()
    setup = authenticators.begin(db, actor_of(user), name="Phone", now=T0)
    authenticators.confirm(db, actor_of(user), setup.id, code=pyotp.TOTP(setup.secret).at(T0), now=T0)
    configure(CREDENTIALS_KEYS=f"{new},{old}")
    resealed = app.test_cli_runner().invoke(ops, ["reseal-credentials"])
    assert resealed.exit_code == 0 and "1 authenticator(s)" in resealed.output, resealed.output
    configure(CREDENTIALS_KEYS=new)
    row = db.get(Authenticator, setup.id)
    assert row is not None
    db.refresh(row)
    assert sealing.unseal(get_settings(), row.secret) == setup.secret

    unknown = app.test_cli_runner().invoke(ops, ["remove-second-steps", "nobody@example.com"])
    assert unknown.exit_code != 0 and "user not found" in unknown.output
    removed = app.test_cli_runner().invoke(ops, ["remove-second-steps", user.email.upper()])
    assert removed.exit_code == 0 and "removed 1 authenticator(s)" in removed.output, removed.output
    db.expire_all()
    assert db.scalars(select(Authenticator).where(Authenticator.user_id == user.id)).all() == []
    assert db.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all() == []
    assert sorted(db.scalars(select(Notification.type).where(Notification.user_id == user.id))) == [
        "account.authenticator_added", "account.authenticator_removed"]
    assert db.scalar(select(AuthEvent.kind).where(AuthEvent.user_id == user.id)) == AuthEventKind.AUTHENTICATOR_REMOVED
