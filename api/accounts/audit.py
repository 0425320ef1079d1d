"""Credentials' events recorded from the API (``workflows.accounts.audit``): the user when known, the client address
as the rate limits count it. A refusal that records one (a failed sign-in, a lock-out) keeps the record."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from api.database import db_session
from api.ratelimit import client_address, throttled_password_check, throttled_sign_in
from models import AuthEventKind, User
from workflows.accounts import audit as auth_events
from workflows.accounts import enforcement, sign_ins
from workflows.accounts import users as accounts
from workflows.errors import LockedOut


def record(kind: AuthEventKind, user_id: uuid.UUID | None, *, refusal: auth_events.Refusal | None = None) -> None:
    auth_events.record(db_session(), kind, user_id, client_address(), refusal=refusal)


def sign_in(email: str, password: str) -> User:
    """Check the password, throttled; its failure or the lock-out recorded (the caller records the sign-in, or the
    second step it asks)."""
    account = accounts.normalise_email(email)
    try:
        with throttled_sign_in(f"email:{account}"):
            user = accounts.authenticate(db_session(), email=email, password=password)
    except (accounts.WrongCredentials, sign_ins.AccountDisabled, enforcement.PasswordSignInOff) as failed:
        record(AuthEventKind.SIGN_IN_FAILED, failed.user_id)
        raise
    except LockedOut:
        record(AuthEventKind.LOCKED_OUT, accounts.user_id_of(db_session(), account))
        raise
    return user


@contextmanager
def password_checked(user_id: uuid.UUID) -> Iterator[None]:
    """A signed-in user's password check (a change, a deletion), throttled; a lock-out is recorded."""
    try:
        with throttled_password_check(f"user:{user_id}"):
            yield
    except LockedOut:
        record(AuthEventKind.LOCKED_OUT, user_id)
        raise
