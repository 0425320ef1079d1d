"""Refresh tokens (``workflows/accounts/refresh_tokens.py``), called directly: each is spent once for the next of its
sign-in, a spent one presented again ends that sign-in, and an expired, revoked or unknown one opens nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import SignIn
from tests.database import refused
from tests.factories.accounts import UserFactory
from workflows.accounts import refresh_tokens
from workflows.accounts.sign_ins import ClientInfo
from workflows.errors import Unauthenticated

NOW = datetime(2031, 5, 1, 12, tzinfo=UTC)
CLIENT = ClientInfo("Firefox", "192.0.2.7")


def test_a_token_is_spent_for_the_next_of_its_sign_in_which_lives_on_from_then(db: Session) -> None:
    user = UserFactory()
    first = refresh_tokens.sign_in(db, user, CLIENT, now=NOW)
    later = NOW + timedelta(days=3)
    second = refresh_tokens.rotate(db, first.refresh_token, ClientInfo("Firefox 2", None), now=later)
    assert (second.user, second.sign_in_id) == (user, first.sign_in_id)
    assert second.refresh_token != first.refresh_token
    renewed = db.get_one(SignIn, first.sign_in_id)
    ttl = timedelta(days=get_settings().refresh_token_ttl_days)
    assert (renewed.last_used_at, renewed.expires_at) == (later, later + ttl)
    assert (renewed.user_agent, renewed.ip_address) == ("Firefox 2", "192.0.2.7")  # an address unsaid stays


def test_a_spent_token_presented_again_ends_its_sign_in_the_newest_token_with_it(db: Session) -> None:
    user = UserFactory()
    first = refresh_tokens.sign_in(db, user, CLIENT, now=NOW)
    second = refresh_tokens.rotate(db, first.refresh_token, CLIENT, now=NOW)
    # Not undone: a refusal of this kind keeps what it wrote (the API commits it).
    with pytest.raises(refresh_tokens.RefreshTokenReused) as reused:
        refresh_tokens.rotate(db, first.refresh_token, CLIENT, now=NOW)
    assert reused.value.message == "the refresh token was already used; every token of this sign-in is now revoked"
    assert (reused.value.keeps_changes, reused.value.user_id) == (True, user.id)
    db.expire_all()
    assert db.get_one(SignIn, first.sign_in_id).revoked_at == NOW
    ended = refused(db, Unauthenticated, lambda: refresh_tokens.rotate(db, second.refresh_token, CLIENT, now=NOW))
    assert ended.message == "the refresh token has been revoked; sign in again"


def test_a_token_works_until_it_expires(db: Session) -> None:
    user = UserFactory()
    signed_in = refresh_tokens.sign_in(db, user, CLIENT, now=NOW)
    expires = NOW + timedelta(days=get_settings().refresh_token_ttl_days)
    expired = refused(db, Unauthenticated, lambda: refresh_tokens.rotate(
        db, signed_in.refresh_token, CLIENT, now=expires))
    assert expired.message == "the refresh token has expired; sign in again"
    refresh_tokens.rotate(db, signed_in.refresh_token, CLIENT, now=expires - timedelta(microseconds=1))


def test_an_unknown_token_or_one_of_a_deleted_account_opens_nothing(db: Session) -> None:
    unknown = refused(db, Unauthenticated, lambda: refresh_tokens.rotate(db, "not a token", CLIENT, now=NOW))
    user = UserFactory()
    signed_in = refresh_tokens.sign_in(db, user, CLIENT, now=NOW)
    user.deleted_at = NOW
    db.flush()
    deleted = refused(db, Unauthenticated, lambda: refresh_tokens.rotate(db, signed_in.refresh_token, CLIENT, now=NOW))
    assert unknown.message == deleted.message == "the refresh token is invalid"
