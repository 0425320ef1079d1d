"""Links mailed to an address: to confirm it is the user's, and to set a forgotten password.

Each link carries a token derived from its row's id with a server key (HMAC-SHA256), so the mailer
rebuilds it without the database ever holding it; the row keeps only the token's SHA-256 and is
spent once. A verification confirms the address it was sent to (a new one, when the user changes
their email: the old one stays until then). A reset sets a new password, ends every token and
the calendar feed, and confirms the address, since only its owner could open the link. Until an
address is confirmed, these links are the only emails it receives.

Asking for a reset answers the same whether or not the address has an account; the links go out
after commit, from the ``notifications`` queue, and again from beat if that message was lost.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

import structlog
from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from infra.config import get_settings
from infra.smtp import send_email
from models import AccountToken, AccountTokenPurpose, EmailStatus, FeedRevocation, Notification, User, UserIdentity
from models.accounts.users import UNIQUE_EMAIL
from outbox import enqueue_after_commit
from workflows import inbox, wording
from workflows.accounts import enforcement, sign_ins
from workflows.accounts.users import (
    check_new_password,
    end_calendar_feed,
    end_made_unconfirmed,
    hash_password,
    normalise_email,
    register_user,
    verify_current_password,
    void_email_changes,
)
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import (
    BusinessRuleViolation,
    Conflict,
    InvalidInput,
    NotFound,
    Unauthenticated,
    add_or_conflict,
    refusal,
)
from workflows.notifications import mail

log = structlog.get_logger(__name__)

SEND_TASK = "notifications.send_account_email"
PASSWORD_RESET_TTL = timedelta(minutes=30)
MAX_ATTEMPTS = 5
INVALID_LINK = refusal("this link is invalid, used or expired: ask for a new one")

# Each link's email (a subject and a body, in the language of the account it is sent for) and its page.
_MESSAGES = {
    AccountTokenPurpose.VERIFY_EMAIL: (wording.notice("email.verify", "Confirm your email address", (
        "Open this link to confirm that {email} is yours:\n\n{link}\n\nIt works once, until {expires}. If you did "
        "not ask for this, ignore this message.")), "verify-email"),
    AccountTokenPurpose.RESET_PASSWORD: (wording.notice("email.reset_password", "Reset your password", (
        "Someone (we hope you) asked to reset the password of the account of {email}. Open this link to choose a new "
        "one:\n\n{link}\n\nIt works once, until {expires}. If you did not ask, ignore this message: your password "
        "stays as it is.")), "reset-password"),
    AccountTokenPurpose.CANCEL_EMAIL_CHANGE: (wording.notice(
        "email.cancel_email_change", "Your email is being changed", (
        "Someone signed in to your account of {email} asked to change its email to another address. It changes once "
        "that address is confirmed.\n\nIf this was not you, cancel the change on this page (opening it changes "
        "nothing: its button does), then choose a new password:\n\n{link}\n\nIt works until {expires}.")),
        "cancel-email-change"),
}
REGISTRATION_TRIED = wording.notice("account.registration_attempt", "Someone tried to sign up with your email", (
    "Someone just tried to create a new account with this address, which is already yours. Nothing changed. If this "
    "was you, sign in instead (or reset your password if you forgot it); if not, you need do nothing. This notice is "
    "sent at most once a day."))
EMAIL_CHANGED = wording.notice("account.email_changed", "Your email was changed", (
    "Your account's email was changed to another address, which its owner just confirmed. If this was not you, reset "
    "your password at {link}."))
PASSWORD_RESET = wording.notice("account.password_reset", "Your password was reset", (
    "The password of your account was just reset through a link sent to this address, and every sign-in ended. If "
    "this was not you, ask for a new link at once."))
EMAIL_CHANGE_ASKED = wording.notice("account.email_change_requested", "Your email is being changed", (
    "Someone signed in to your account asked to change its email to another address. It changes once that address is "
    "confirmed; until then you can cancel it in your settings. If this was not you, cancel it and change your "
    "password at once."))
EMAIL_CHANGE_CANCELLED = wording.notice(
    "account.email_change_cancelled", "The change of your email was cancelled", (
        "The change of your account's email was cancelled from the link sent to this address, and every sign-in "
        "ended. Choose a new password now: whoever asked for the change knew the old one."))


def _token(token_id: uuid.UUID) -> str:
    key = get_settings().jwt_secret_key.encode()
    digest = hmac.new(key, b"account-link:" + token_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _issue(db: Session, user: User, purpose: AccountTokenPurpose, email: str, ttl: timedelta) -> AccountToken:
    """A new link for ``purpose``, replacing the user's earlier unspent ones; mailed after commit."""
    now = utcnow()
    db.execute(update(AccountToken)
               .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
               .values(used_at=now))
    token_id = uuid.uuid4()
    row = AccountToken(id=token_id, user_id=user.id, purpose=purpose, email=email,
                       token_hash=sign_ins.digest(_token(token_id)), created_at=now, expires_at=now + ttl,
                       email_status=EmailStatus.PENDING if get_settings().smtp_url else EmailStatus.NONE)
    db.add(row)
    db.flush()
    if row.email_status == EmailStatus.PENDING:
        enqueue_after_commit(db, SEND_TASK, str(row.id))
    log.info("account_email.issued", token_id=str(row.id), user_id=str(user.id), purpose=purpose.value)
    return row


class AccountExists(Conflict):
    """A registration with the address of an existing account: 409 (the sign-up page says so), and the owner is
    told, at most once a day; that notice is kept though the request is refused."""

    keeps_changes: ClassVar[bool] = True


REGISTRATION_NOTICE = "account.registration_attempt"
REGISTRATION_NOTICE_EVERY = timedelta(days=1)


def sign_up(db: Session, *, email: str, password: str, display_name: str, timezone: str | None = None,
            locale: str | None = None) -> User:
    """A new account (in the person's timezone and locale when given), and a link to its address to confirm it. With
    the address of an existing account: :class:`AccountExists`, and its owner is told someone tried (at most once a
    day)."""
    try:
        user = register_user(db, email=email, password=password, display_name=display_name, timezone=timezone,
                             locale=locale)
    except Conflict as exists:
        _tell_owner_of_a_registration(db, normalise_email(email))
        raise AccountExists(exists.message) from None
    request_verification(db, user)
    return user


def _tell_owner_of_a_registration(db: Session, address: str) -> None:
    owner = db.scalar(select(User).where(User.email == address, User.deleted_at.is_(None)).with_for_update())
    if owner is None:
        return
    told = db.scalar(select(Notification.id).where(
        Notification.user_id == owner.id, Notification.type == REGISTRATION_NOTICE,
        Notification.created_at > utcnow() - REGISTRATION_NOTICE_EVERY).limit(1))
    if told is not None:
        return
    inbox.notify_user(
        db, owner.id, type_=REGISTRATION_NOTICE, said=REGISTRATION_TRIED,
        data={"link": "#/signin"})



def request_verification(db: Session, user: User, email: str | None = None) -> AccountToken:
    """Mail a link confirming ``email`` (the user's own by default) for ``EMAIL_VERIFICATION_TTL``."""
    return _issue(db, user, AccountTokenPurpose.VERIFY_EMAIL, email or user.email,
                  get_settings().email_verification_ttl)


def resend_verification(db: Session, actor: Actor) -> None:
    """A new link for the address waiting to be confirmed (a new email, else the account's own); earlier ones end.
    400 when there is none."""
    user = db.get(User, actor.user_id)
    if user is None or user.deleted_at is not None:
        raise Unauthenticated("the token's user no longer exists")
    waiting = pending_email(db, user) or (user.email if user.email_verified_at is None else None)
    if waiting is None:
        raise BusinessRuleViolation("your email is confirmed already")
    request_verification(db, user, waiting)


def pending_email(db: Session, user: User) -> str | None:
    """A new address the user asked for and has not confirmed yet (their email stays until they do)."""
    return db.scalar(select(AccountToken.email).where(
        AccountToken.user_id == user.id, AccountToken.purpose == AccountTokenPurpose.VERIFY_EMAIL,
        AccountToken.used_at.is_(None), AccountToken.expires_at > func.now(), AccountToken.email != user.email,
    ).order_by(AccountToken.created_at.desc()).limit(1))


def _spend(db: Session, token: str, purpose: AccountTokenPurpose) -> AccountToken:
    """The link's row, spent now; ``InvalidInput`` for an unknown, used or expired one."""
    row = db.execute(
        update(AccountToken)
        .where(AccountToken.token_hash == sign_ins.digest(token), AccountToken.purpose == purpose,
               AccountToken.used_at.is_(None), AccountToken.expires_at > func.now())
        .values(used_at=utcnow())
        .returning(AccountToken)
    ).scalar_one_or_none()
    if row is None:
        raise InvalidInput(INVALID_LINK)
    return row


@dataclass(frozen=True)
class Verified:
    user: User
    changed: bool  # the address confirmed was a new one, which is now the account's email


def verify_email(db: Session, token: str) -> Verified:
    """Confirm the address the link was sent to; it becomes the account's email if it was a new one."""
    row = _spend(db, token, AccountTokenPurpose.VERIFY_EMAIL)
    user = db.get(User, row.user_id, with_for_update=True, populate_existing=True)
    if user is None or user.deleted_at is not None:
        raise InvalidInput(INVALID_LINK)
    previous = user.email
    if row.email != previous:
        user.email = row.email
        add_or_conflict(db, user, {UNIQUE_EMAIL: Conflict("another account uses this email now", reason="email_taken")})
        if user.email_verified_at is not None:  # the old address was confirmed: tell it where the account went
            inbox.notify_user(
                db, user.id, type_="account.email_changed", said=EMAIL_CHANGED,
                words={"link": f"{get_settings().public_url}/#/forgot-password"},
                data={inbox.EMAIL_TO: previous})
    user.email_verified_at = utcnow()
    mail.send_held(db, user.id)  # a visitor's bookings made before the address was confirmed are confirmed now
    log.info("account.email_verified", user_id=str(user.id), changed=row.email != previous)
    return Verified(user, changed=row.email != previous)


def request_password_reset(db: Session, email: str) -> None:
    """Mail a reset link to the account of ``email`` if there is one; nothing tells the caller which.

    The same statements run and the same message is queued either way (for an address without an
    account, the mailer finds no link to send), so the answer takes as long too.
    """
    try:
        address = normalise_email(email)
    except InvalidInput:
        address = ""
    if enforcement.sign_on_only(db, address) is not None:
        address = ""  # its domain signs in through its provider only: no password is set, and no link is sent
    now, token_id = utcnow(), uuid.uuid4()
    owner = select(User.id).where(User.email == address, User.deleted_at.is_(None)).scalar_subquery()
    purpose = AccountTokenPurpose.RESET_PASSWORD
    db.execute(update(AccountToken)
               .where(AccountToken.user_id == owner, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
               .values(used_at=now))
    status = EmailStatus.PENDING if get_settings().smtp_url else EmailStatus.NONE
    token_hash = sign_ins.digest(_token(token_id))
    link = select(literal(token_id), User.id, literal(purpose.value), User.email, literal(token_hash), literal(now),
                  literal(now + PASSWORD_RESET_TTL), literal(status.value)
                  ).where(User.email == address, User.deleted_at.is_(None))
    db.execute(insert(AccountToken).from_select(
        ["id", "user_id", "purpose", "email", "token_hash", "created_at", "expires_at", "email_status"], link))
    if status == EmailStatus.PENDING:
        enqueue_after_commit(db, SEND_TASK, str(token_id))


def reset_link_expiry(db: Session, token: str) -> datetime:
    """Until when a reset link can set a password (it stays unused); ``InvalidInput`` for one that is unknown, used,
    expired, or of an account gone or whose email changed since."""
    row = db.execute(select(AccountToken.expires_at, User.email, AccountToken.email, User.deleted_at)
                     .join(User, User.id == AccountToken.user_id)
                     .where(AccountToken.token_hash == sign_ins.digest(token),
                            AccountToken.purpose == AccountTokenPurpose.RESET_PASSWORD,
                            AccountToken.used_at.is_(None), AccountToken.expires_at > func.now())).one_or_none()
    if row is None or row[3] is not None or row[1] != row[2]:
        raise InvalidInput(INVALID_LINK)
    enforcement.refuse_passwords_for(db, row[1])  # a link sent before the address's organisation turned passwords off
    return row[0]


def reset_password(db: Session, token: str, new_password: str) -> User:
    """Set a new password through a reset link: every token, the calendar feed and a change of email waiting to be
    confirmed end; the address is confirmed."""
    row = _spend(db, token, AccountTokenPurpose.RESET_PASSWORD)
    user = db.get(User, row.user_id, with_for_update=True, populate_existing=True)
    if user is None or user.deleted_at is not None or row.email != user.email:
        raise InvalidInput(INVALID_LINK)
    enforcement.refuse_passwords_for(db, user.email, user.id)  # a link sent before passwords were turned off
    check_new_password(new_password, user_inputs=(user.email, user.display_name), field="new_password")
    user.password_hash = hash_password(new_password)
    if user.email_verified_at is None:
        # The mailbox's owner proved it only now: an organisation's identity linked to the account before (through a
        # provider that does not own the address's domain) may have been someone else's, and goes.
        db.execute(delete(UserIdentity).where(UserIdentity.user_id == user.id))
        user.email_verified_at = utcnow()
        mail.send_held(db, user.id)
    db.flush()
    sign_ins.end_all(db, user.id)
    void_email_changes(db, user.id)
    end_calendar_feed(db, user.id, FeedRevocation.PASSWORD_RESET)
    end_made_unconfirmed(db, user.id, FeedRevocation.PASSWORD_RESET)
    inbox.notify_user(
        db, user.id, type_="account.password_reset", said=PASSWORD_RESET,
        data={})
    db.flush()
    log.info("account.password_reset", user_id=str(user.id))
    return user


def deliver(db: Session, token_id: uuid.UUID) -> bool:
    """Mail one link if it is still owed; ``True`` when sent now. The row stays locked while SMTP takes it."""
    settings = get_settings()
    row = db.execute(select(AccountToken).where(AccountToken.id == token_id,
                                                AccountToken.email_status == EmailStatus.PENDING)
                     .with_for_update(skip_locked=True)).scalar_one_or_none()
    if row is None or not settings.smtp_url:
        return False
    if row.used_at is not None or row.expires_at <= utcnow():
        row.email_status = EmailStatus.NONE  # replaced or expired before it went out: nothing to send
        return False
    said, route = _MESSAGES[row.purpose]
    timezone, locale = db.execute(select(User.timezone, User.locale).where(User.id == row.user_id)).one()
    link = f"{settings.public_url}/#/{route}?token={_token(row.id)}"
    words = {"email": row.email, "link": link, "expires": wording.at(row.expires_at)}
    row.email_attempts += 1
    try:
        send_email(settings.smtp_url, sender=settings.smtp_from, to=row.email,
                   subject=wording.render(said.title, words, timezone, locale),
                   body=wording.render(said.body, words, timezone, locale), message_id=str(row.id))
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("account_email.failed", token_id=str(row.id), error=str(exc), attempts=row.email_attempts)
        if row.email_attempts >= MAX_ATTEMPTS:
            row.email_status = EmailStatus.FAILED
        return False
    row.email_status = EmailStatus.SENT
    log.info("account_email.sent", token_id=str(row.id), purpose=row.purpose.value)
    return True


def due(db: Session, *, older_than: timedelta = timedelta(seconds=60), limit: int = 200) -> list[uuid.UUID]:
    """Links still owed a while after they were made: their first message was lost or failed."""
    return list(db.scalars(select(AccountToken.id).where(
        AccountToken.email_status == EmailStatus.PENDING, AccountToken.created_at <= func.now() - older_than,
        AccountToken.expires_at > func.now()).order_by(AccountToken.created_at).limit(limit)))


def change_email(db: Session, actor: Actor, *, email: str, current_password: str) -> User:
    """Ask to move the account to ``email``: a link confirms the new address, which replaces the old one only
    then; the old address (if confirmed) is told at once. 403 on a wrong password, 409 when the address is taken."""
    user = db.get(User, actor.user_id, with_for_update=True, populate_existing=True)
    if user is None or user.deleted_at is not None:
        raise Unauthenticated("the token's user no longer exists")
    enforcement.refuse_passwords_for(db, user.email, user.id)  # its organisation manages the address
    verify_current_password(user, current_password)
    address = normalise_email(email)
    if address == user.email:
        raise InvalidInput("this is already your email")
    if db.scalar(select(User.id).where(User.email == address)) is not None:
        raise Conflict("another account uses this email", reason="email_taken")
    request_verification(db, user, address)
    inbox.notify_user(
        db, user.id, type_="account.email_change_requested", said=EMAIL_CHANGE_ASKED,
        data={"link": "#/settings"}, email=False)  # the address being left is mailed its own link, below
    if user.email_verified_at is not None:  # the address being left hears of it, with a link to cancel it
        _issue(db, user, AccountTokenPurpose.CANCEL_EMAIL_CHANGE, user.email, get_settings().email_verification_ttl)
    db.flush()
    return user


def cancel_email_change(db: Session, actor: Actor) -> User:
    """The signed-in owner cancels the change of their email waiting to be confirmed; 404 when none is."""
    user = db.get(User, actor.user_id, with_for_update=True, populate_existing=True)
    if user is None or user.deleted_at is not None:
        raise Unauthenticated("the token's user no longer exists")
    if not void_email_changes(db, user.id):
        raise NotFound("no change of your email is waiting to be confirmed")
    log.info("account.email_change_cancelled", user_id=str(user.id), by="owner")
    return user


def cancel_email_change_by_link(db: Session, token: str) -> User:
    """The link mailed to the address being left: the change waiting for confirmation ends, and so does every sign-in
    of the account (whoever asked for it was signed in); the owner is asked to choose a new password."""
    row = _spend(db, token, AccountTokenPurpose.CANCEL_EMAIL_CHANGE)
    user = db.get(User, row.user_id, with_for_update=True, populate_existing=True)
    if user is None or user.deleted_at is not None or row.email != user.email:
        raise InvalidInput(INVALID_LINK)
    void_email_changes(db, user.id)
    sign_ins.end_all(db, user.id)
    inbox.notify_user(
        db, user.id, type_="account.email_change_cancelled", said=EMAIL_CHANGE_CANCELLED,
        data={"link": "#/forgot-password"})
    log.info("account.email_change_cancelled", user_id=str(user.id), by="link")
    return user
