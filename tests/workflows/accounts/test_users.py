"""Users, passwords and credentials (``workflows/accounts/users.py``), called directly: the stored form of an email, who
may sign in, what an account's owner may change, and what a password change ends. The bound on concurrent
hashing is ``test_password_hashing_bound.py``'s."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CalendarFeed, FeedRevocation, Notification, SignIn, User
from tests.database import refused
from tests.factories.accounts import PASSWORD, UserFactory, actor_of
from workflows.accounts import refresh_tokens
from workflows.accounts import users as accounts
from workflows.accounts.sign_ins import ClientInfo
from workflows.calendars import feeds as calendars
from workflows.errors import Conflict, InvalidInput


def told(db: Session, user: User) -> list[str]:
    """The types of the user's in-app notifications."""
    return sorted(db.scalars(select(Notification.type).where(Notification.user_id == user.id)))


def test_an_email_is_kept_trimmed_and_lower_cased_and_measured_so() -> None:
    assert accounts.normalise_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"
    assert len(accounts.normalise_email("A" * 320)) == 320
    for too_long in ("a" * 321, "İ" * 161):  # "İ" lower-cases to two characters: 322 once stored
        with pytest.raises(InvalidInput) as error:
            accounts.normalise_email(too_long)
        assert error.value.message == "the email is longer than 320 characters once lower-cased"


def test_a_new_account_is_unconfirmed_unless_an_operator_vouches_for_it(db: Session) -> None:
    user = accounts.register_user(db, email=" New@Example.com", password="a long password", display_name=" Ada ")
    assert (user.email, user.display_name, user.email_verified_at, user.is_admin) == (
        "new@example.com", "Ada", None, False)
    assert user.password_hash != "a long password"
    vouched = accounts.register_user(db, email="ops@example.com", password="lamp orbit kettle drift",
                                     display_name="Ops", verified=True)
    assert vouched.email_verified_at is not None


def test_an_email_takes_one_account_whatever_its_case(db: Session) -> None:
    accounts.register_user(db, email="taken@example.com", password="a long password", display_name="First")
    error = refused(db, Conflict, lambda: accounts.register_user(
        db, email="TAKEN@example.com", password="another password", display_name="Second"))
    assert error.message == "an account with this email already exists"
    assert db.scalars(select(User.display_name).where(User.email == "taken@example.com")).all() == ["First"]


def test_signing_in_needs_the_password_and_says_the_same_for_a_wrong_one_and_an_unknown_email(db: Session) -> None:
    user = UserFactory(email="grace@example.com")
    assert accounts.authenticate(db, email=" Grace@Example.com", password=PASSWORD) is user
    wrong = refused(db, accounts.WrongCredentials, lambda: accounts.authenticate(
        db, email="grace@example.com", password="not it"))
    unknown = refused(db, accounts.WrongCredentials, lambda: accounts.authenticate(
        db, email="nobody@example.com", password=PASSWORD))
    assert isinstance(wrong, accounts.WrongCredentials) and isinstance(unknown, accounts.WrongCredentials)
    assert (wrong.message, unknown.message) == ("wrong email or password", "wrong email or password")
    assert (wrong.user_id, unknown.user_id) == (user.id, None)


def test_the_owner_changes_name_timezone_and_locale_and_none_clears_the_last_two(db: Session) -> None:
    user = UserFactory(timezone="Europe/Paris", locale="fr-FR")
    accounts.update_account(db, actor_of(user), {"display_name": "  Grace H  ", "timezone": None, "locale": "en-GB"})
    assert (user.display_name, user.timezone, user.locale) == ("Grace H", None, "en-GB")
    blank = refused(db, InvalidInput, lambda: accounts.update_account(db, actor_of(user), {"display_name": "   "}))
    assert blank.message == "display_name must not be blank"
    db.expire_all()
    assert db.get_one(User, user.id).display_name == "Grace H"


def test_a_password_change_needs_the_current_one(db: Session) -> None:
    user = UserFactory()
    error = refused(db, accounts.WrongCurrentPassword, lambda: accounts.change_password(
        db, actor_of(user), current_password="not it", new_password="a new password"))
    assert error.message == "the current password is wrong"
    assert accounts.authenticate(db, email=user.email, password=PASSWORD) is not None


def test_a_password_change_ends_every_sign_in_and_the_calendar_feed_and_says_so(db: Session) -> None:
    user = UserFactory()
    signed_in = refresh_tokens.sign_in(db, user, ClientInfo())
    calendars.issue_feed_token(db, actor_of(user))
    version = user.token_version
    accounts.change_password(db, actor_of(user), current_password=PASSWORD, new_password="a new password")
    db.expire_all()
    assert accounts.authenticate(db, email=user.email, password="a new password") is not None
    assert db.get_one(User, user.id).token_version == version + 1
    assert db.get_one(SignIn, signed_in.sign_in_id).revoked_at is not None
    feed = db.get_one(CalendarFeed, user.id)
    assert (feed.token_hash, feed.revoked_reason) == (None, FeedRevocation.PASSWORD_CHANGED)
    assert told(db, user) == ["account.password_changed", "calendar_feed.revoked"]


def test_a_change_that_ends_no_working_feed_says_nothing_of_one(db: Session) -> None:
    user = UserFactory()
    accounts.change_password(db, actor_of(user), current_password=PASSWORD, new_password="a new password")
    assert told(db, user) == ["account.password_changed"]
    calendars.issue_feed_token(db, actor_of(user))
    accounts.end_calendar_feed(db, user.id, FeedRevocation.ACCOUNT_DELETED)  # not a reason told in-app
    assert told(db, user) == ["account.password_changed"]
    assert db.get_one(CalendarFeed, user.id).token_hash is None
