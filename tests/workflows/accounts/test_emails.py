"""Links mailed to an address (``workflows/accounts/emails.py``), called directly: each works once and until it
expires, a newer one replaces it, a confirmation moves the account to the address it went to, and a reset ends
every credential. Sending the mail is the API tests' (with a real SMTP server)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import AccountToken, AccountTokenPurpose, Notification, User
from tests.database import refused
from tests.factories.accounts import PASSWORD, UserFactory, actor_of
from workflows.accounts import emails as account_emails
from workflows.accounts import users as accounts
from workflows.errors import BusinessRuleViolation, Conflict, InvalidInput


def link(row: AccountToken) -> str:
    """The token of the link mailed for ``row``, as the mailer rebuilds it."""
    return account_emails._token(row.id)


def links(db: Session, user: User, purpose: AccountTokenPurpose) -> list[AccountToken]:
    """The user's links of ``purpose``, oldest first, as stored now."""
    db.expire_all()
    return list(db.scalars(select(AccountToken).where(AccountToken.user_id == user.id, AccountToken.purpose == purpose)
                           .order_by(AccountToken.created_at, AccountToken.id)))


def notices(db: Session, user: User) -> list[tuple[str, str | None]]:
    """(type, the address it is mailed to instead of the account's) of the user's notifications."""
    return sorted((n.type, n.data.get("email_to")) for n in db.scalars(
        select(Notification).where(Notification.user_id == user.id)))


def test_signing_up_makes_an_unconfirmed_account_and_a_link_to_confirm_its_address(db: Session) -> None:
    user = account_emails.sign_up(db, email="Ada@Example.com", password="a long password", display_name="Ada")
    (row,) = links(db, user, AccountTokenPurpose.VERIFY_EMAIL)
    assert (user.email_verified_at, row.email, row.used_at) == (None, "ada@example.com", None)
    assert row.token_hash != link(row)  # only a digest of the token is kept
    assert account_emails.verify_email(db, link(row)).user.email_verified_at is not None


def test_a_link_works_once(db: Session) -> None:
    user = UserFactory(email_verified_at=None)
    row = account_emails.request_verification(db, user)
    account_emails.verify_email(db, link(row))
    again = refused(db, InvalidInput, lambda: account_emails.verify_email(db, link(row)))
    assert again.message == "this link is invalid, used or expired: ask for a new one"


def test_a_link_ends_when_it_expires_or_a_newer_one_is_sent(db: Session) -> None:
    user = UserFactory(email_verified_at=None)
    account_emails.request_verification(db, user)
    account_emails.request_verification(db, user)
    first, second = links(db, user, AccountTokenPurpose.VERIFY_EMAIL)
    assert first.used_at is not None and second.used_at is None
    replaced = refused(db, InvalidInput, lambda: account_emails.verify_email(db, link(first)))
    # Its time runs out: it expires now (the transaction's now, which the check reads).
    db.execute(update(AccountToken).where(AccountToken.id == second.id)
               .values(created_at=func.now() - timedelta(hours=1), expires_at=func.now()))
    expired = refused(db, InvalidInput, lambda: account_emails.verify_email(db, link(second)))
    assert replaced.message == expired.message == account_emails.INVALID_LINK
    assert db.get_one(User, user.id).email_verified_at is None


def test_a_link_of_one_purpose_does_nothing_for_the_other(db: Session) -> None:
    user = UserFactory(email_verified_at=None)
    verification = account_emails.request_verification(db, user)
    error = refused(db, InvalidInput, lambda: account_emails.reset_password(db, link(verification), "a new password"))
    assert error.message == account_emails.INVALID_LINK


def test_a_new_address_replaces_the_old_one_only_once_confirmed_and_the_old_one_is_told(db: Session) -> None:
    user = UserFactory(email="old@example.com")
    account_emails.change_email(db, actor_of(user), email="New@Example.com", current_password=PASSWORD)
    assert (user.email, account_emails.pending_email(db, user)) == ("old@example.com", "new@example.com")
    (row,) = links(db, user, AccountTokenPurpose.VERIFY_EMAIL)
    verified = account_emails.verify_email(db, link(row))
    assert (verified.changed, verified.user.email, account_emails.pending_email(db, verified.user)) == (
        True, "new@example.com", None)
    # The old address hears of it through a link to cancel it (its own message); the notice itself stays in the app.
    assert notices(db, user) == [("account.email_change_requested", None),
                                 ("account.email_changed", "old@example.com")]
    assert [row.email for row in links(db, user, AccountTokenPurpose.CANCEL_EMAIL_CHANGE)] == ["old@example.com"]


def test_an_unconfirmed_old_address_is_told_nothing_of_the_change(db: Session) -> None:
    user = UserFactory(email="never-confirmed@example.com", email_verified_at=None)
    account_emails.change_email(db, actor_of(user), email="new@example.com", current_password=PASSWORD)
    account_emails.verify_email(db, link(links(db, user, AccountTokenPurpose.VERIFY_EMAIL)[-1]))
    assert notices(db, user) == [("account.email_change_requested", None)]  # in the app only
    assert links(db, user, AccountTokenPurpose.CANCEL_EMAIL_CHANGE) == []


def test_an_email_change_needs_the_password_and_an_address_nobody_uses(db: Session) -> None:
    user = UserFactory(email="mine@example.com")
    UserFactory(email="someone@example.com")
    wrong = refused(db, accounts.WrongCurrentPassword, lambda: account_emails.change_email(
        db, actor_of(user), email="new@example.com", current_password="not it"))
    same = refused(db, InvalidInput, lambda: account_emails.change_email(
        db, actor_of(user), email="MINE@example.com", current_password=PASSWORD))
    taken = refused(db, Conflict, lambda: account_emails.change_email(
        db, actor_of(user), email="someone@example.com", current_password=PASSWORD))
    assert (wrong.message, same.message, taken.message) == (
        "the current password is wrong", "this is already your email", "another account uses this email")
    assert links(db, user, AccountTokenPurpose.VERIFY_EMAIL) == []


def test_an_address_taken_while_its_link_waited_is_not_given_to_a_second_account(db: Session) -> None:
    user = UserFactory()
    account_emails.change_email(db, actor_of(user), email="wanted@example.com", current_password=PASSWORD)
    UserFactory(email="wanted@example.com")
    (row,) = links(db, user, AccountTokenPurpose.VERIFY_EMAIL)
    error = refused(db, Conflict, lambda: account_emails.verify_email(db, link(row)))
    assert error.message == "another account uses this email now"


def test_asking_for_a_link_again_sends_one_for_the_address_waiting_and_none_when_all_is_confirmed(
        db: Session) -> None:
    confirmed = UserFactory()
    error = refused(db, BusinessRuleViolation, lambda: account_emails.resend_verification(db, actor_of(confirmed)))
    assert error.message == "your email is confirmed already"
    account_emails.change_email(db, actor_of(confirmed), email="next@example.com", current_password=PASSWORD)
    account_emails.resend_verification(db, actor_of(confirmed))
    first, second = links(db, confirmed, AccountTokenPurpose.VERIFY_EMAIL)
    assert (first.email, second.email, first.used_at is not None, second.used_at) == (
        "next@example.com", "next@example.com", True, None)


def test_a_reset_is_asked_for_alike_for_any_address_and_makes_a_link_only_for_an_account(db: Session) -> None:
    user = UserFactory(email="reset@example.com")
    deleted = UserFactory(email="gone@example.com")
    deleted.deleted_at = deleted.created_at
    for address in ("Reset@Example.com", "nobody@example.com", "gone@example.com", "x" * 400):
        account_emails.request_password_reset(db, address)
    assert [row.email for row in db.scalars(select(AccountToken))] == ["reset@example.com"]
    assert links(db, user, AccountTokenPurpose.RESET_PASSWORD)[0].expires_at - links(
        db, user, AccountTokenPurpose.RESET_PASSWORD)[0].created_at == account_emails.PASSWORD_RESET_TTL


def test_a_reset_sets_the_password_ends_every_sign_in_and_confirms_the_address(db: Session) -> None:
    user = UserFactory(email_verified_at=None)
    account_emails.request_password_reset(db, user.email)
    (row,) = links(db, user, AccountTokenPurpose.RESET_PASSWORD)
    version = user.token_version
    account_emails.reset_password(db, link(row), "a new password")
    db.expire_all()
    stored = db.get_one(User, user.id)
    assert (stored.token_version, stored.email_verified_at is not None) == (version + 1, True)
    assert accounts.authenticate(db, email=user.email, password="a new password") is not None
    assert notices(db, user) == [("account.password_reset", None)]


def test_a_reset_link_is_void_once_the_account_has_moved_to_another_address(db: Session) -> None:
    user = UserFactory(email="before@example.com")
    account_emails.request_password_reset(db, user.email)
    user.email = "after@example.com"
    db.flush()
    (row,) = links(db, user, AccountTokenPurpose.RESET_PASSWORD)
    error = refused(db, InvalidInput, lambda: account_emails.reset_password(db, link(row), "a new password"))
    assert error.message == account_emails.INVALID_LINK
    assert row.expires_at - row.created_at == timedelta(minutes=30)
