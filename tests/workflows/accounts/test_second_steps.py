"""The sign-in's side of two-step sign-in (``workflows/accounts/second_steps.py``), called directly with the time given:
when a challenge is asked, the window of one step either side, a challenge's life and its wrong codes, recovery codes
as a person types them, and a password account's set-up inside a challenge when a rule requires it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.config import get_settings
from infra.sealing import unseal
from models import Authenticator, RecoveryCode, SecondStepChallenge, SecondStepRequirement, User
from tests.factories.accounts import UserFactory, actor_of
from workflows.accounts import authenticators, second_steps
from workflows.errors import Conflict, Unauthenticated

T0 = datetime(2030, 3, 4, 9, 0, 0, tzinfo=UTC)


def with_authenticator(db: Session, user: User) -> tuple[pyotp.TOTP, list[str]]:
    setup = authenticators.begin(db, actor_of(user), name="Phone", now=T0)
    totp = pyotp.TOTP(setup.secret)
    codes = authenticators.confirm(db, actor_of(user), setup.id, code=totp.at(T0), now=T0)
    assert codes is not None
    return totp, codes


def test_no_challenge_without_an_authenticator_or_a_rule(db: Session) -> None:
    user = UserFactory(email="kim@example.org")
    assert second_steps.ask(db, user, now=T0) is None
    db.add(SecondStepRequirement(domain="example.org"))
    db.flush()
    due = second_steps.ask(db, user, now=T0)
    assert due is not None and due.enrolment and due.methods == ("totp",) and due.expires_in == 300
    # The challenge is kept as a hash: the token the client holds is nowhere in the database.
    stored = db.scalar(select(SecondStepChallenge).where(SecondStepChallenge.user_id == user.id))
    assert stored is not None and due.challenge not in stored.token_hash


def test_the_secret_is_sealed_and_a_code_counts_one_step_either_side_once(db: Session) -> None:
    user = UserFactory()
    totp, _codes = with_authenticator(db, user)
    row = db.scalar(select(Authenticator).where(Authenticator.user_id == user.id))
    assert row is not None and totp.secret not in row.secret and unseal(get_settings(), row.secret) == totp.secret
    later = T0 + timedelta(minutes=5)
    for offset, accepted in ((-60, False), (-30, True), (0, True), (30, True), (60, False)):
        due = second_steps.ask(db, user, now=later)
        assert due is not None
        moment = later + timedelta(seconds=offset)
        if accepted:
            assert second_steps.pass_challenge(db, due.challenge, code=totp.at(moment), now=later).method == "totp"
            # The step accepted, and every one before it, never counts again.
            for spent in (moment, moment - timedelta(seconds=30)):
                again = second_steps.ask(db, user, now=later)
                assert again is not None
                with pytest.raises(second_steps.SecondStepFailed):
                    second_steps.pass_challenge(db, again.challenge, code=totp.at(spent), now=later)
        else:
            with pytest.raises(second_steps.SecondStepFailed):
                second_steps.pass_challenge(db, due.challenge, code=totp.at(moment), now=later)


def test_a_challenge_lives_five_minutes_and_dies_after_five_wrong_codes(db: Session) -> None:
    user = UserFactory()
    totp, _codes = with_authenticator(db, user)
    due = second_steps.ask(db, user, now=T0)
    assert due is not None
    with pytest.raises(Unauthenticated) as expired:
        second_steps.pass_challenge(db, due.challenge, code=totp.at(T0 + timedelta(seconds=301)),
                                    now=T0 + timedelta(seconds=301))
    assert expired.value.reason == "second_step_expired"
    due = second_steps.ask(db, user, now=T0)
    assert due is not None
    for _ in range(5):
        with pytest.raises(second_steps.SecondStepFailed):
            second_steps.pass_challenge(db, due.challenge, code="12345x", now=T0)
    with pytest.raises(Unauthenticated) as dead:
        second_steps.pass_challenge(db, due.challenge, code=totp.at(T0 + timedelta(seconds=30)), now=T0)
    assert dead.value.reason == "second_step_expired"


def test_a_recovery_code_is_read_as_typed_and_spent_once(db: Session) -> None:
    user = UserFactory()
    _totp, codes = with_authenticator(db, user)
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    assert len(db.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()) == 10
    typed = f"  {codes[0][:5].upper()} {codes[0][6:]} "
    due = second_steps.ask(db, user, now=T0)
    assert due is not None and due.methods == ("totp", "recovery_code")
    assert second_steps.pass_challenge(db, due.challenge, recovery_code=typed, now=T0).method == "recovery_code"
    due = second_steps.ask(db, user, now=T0)
    assert due is not None
    with pytest.raises(second_steps.SecondStepFailed):
        second_steps.pass_challenge(db, due.challenge, recovery_code=codes[0], now=T0)


def test_a_rule_sets_one_up_inside_the_challenge_and_only_then(db: Session) -> None:
    user = UserFactory(email="lee@example.net")
    db.add(SecondStepRequirement(domain="*"))
    db.flush()
    due = second_steps.ask(db, user, now=T0)
    assert due is not None and due.enrolment
    setup = second_steps.begin_enrolment(db, due.challenge, now=T0)
    passed = second_steps.pass_challenge(db, due.challenge, code=pyotp.TOTP(setup.secret).at(T0), now=T0)
    assert passed.recovery_codes is not None and len(passed.recovery_codes) == 10
    assert db.get(Authenticator, setup.id).confirmed_at == T0
    later = second_steps.ask(db, user, now=T0)
    assert later is not None and not later.enrolment
    with pytest.raises(Conflict):
        second_steps.begin_enrolment(db, later.challenge, now=T0)
