"""Users, passwords and credentials."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import ClassVar

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra.config import get_settings
from infra.environment import PasswordHashProfile
from models import AccountToken, AccountTokenPurpose, FeedRevocation, User
from models.accounts.users import UNIQUE_EMAIL
from workflows import inbox, wording
from workflows.accounts import enforcement, sign_ins
from workflows.actors import Actor
from workflows.calendars import feeds as calendars
from workflows.clock import utcnow
from workflows.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Overloaded,
    Unauthenticated,
    add_or_conflict,
    refusal,
)
from workflows.language import text
from workflows.webhooks import endpoints as webhook_endpoints

# users.email is varchar(320). The limit applies to the stored form: lower-casing can lengthen
# a string ("İ" becomes "i" and a combining dot), so it is measured after normalising.
MAX_EMAIL_LENGTH = 320


@cache
def _hashing_slots() -> threading.BoundedSemaphore:
    """``PASSWORD_CHECKS_PER_PROCESS`` argon2 computations at once in this process; more wait, then are refused."""
    return threading.BoundedSemaphore(get_settings().password_checks_per_process)


# How long a password check waits for a slot before the request is refused with 503.
HASHING_WAIT_SECONDS = 2.0


@contextmanager
def _hashing_slot() -> Iterator[None]:
    """One of the process's argon2 slots: a burst of sign-ins costs memory and CPU it is bounded to, and requests
    that cannot get one within ``HASHING_WAIT_SECONDS`` are answered 503 with ``Retry-After`` rather than queued."""
    slots = _hashing_slots()
    if not slots.acquire(timeout=HASHING_WAIT_SECONDS):
        raise Overloaded("too many password checks at once: retry in a moment", retry_after=1)
    try:
        yield
    finally:
        slots.release()


def _verify(password_hash: str, password: str) -> None:
    with _hashing_slot():
        _hasher().verify(password_hash, password)


@cache
def _hasher() -> PasswordHasher:
    if get_settings().password_hash_profile is PasswordHashProfile.CHEAPEST:
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()  # argon2id with RFC 9106's low-memory parameters


@cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so a wrong email costs as much time as a wrong password."""
    return _hasher().hash("not a real password")


class PasswordRejected(DomainError):
    """A password did not match: what sign-in throttling counts."""


class WrongCredentials(PasswordRejected, Unauthenticated):
    """A failed sign-in; ``user_id`` says whose account it was, when the email is one (never shown to the client).
    Nothing was written before it but the audit trail's record of it, which is kept."""

    keeps_changes: ClassVar[bool] = True

    def __init__(self, user_id: uuid.UUID | None) -> None:
        super().__init__(refusal("wrong email or password"))
        self.user_id = user_id


class WrongCurrentPassword(PasswordRejected, Forbidden):
    """The caller is signed in, but may change their password only by proving they know it."""

    def __init__(self) -> None:
        super().__init__(refusal("the current password is wrong"))


def normalise_email(email: str) -> str:
    """The stored, compared form of an email; ``InvalidInput`` when that form is too long to store."""
    normalised = email.strip().lower()
    if len(normalised) > MAX_EMAIL_LENGTH:
        raise InvalidInput("the email is longer than {max_email_length} characters once lower-cased",
                           words={"max_email_length": MAX_EMAIL_LENGTH})
    return normalised


MIN_PASSWORD_LENGTH = 12
_JUDGED_LENGTH = 72  # zxcvbn reads no more; a passphrase longer than that is long enough


def check_new_password(password: str, *, user_inputs: Sequence[str] = (), field: str = "password") -> None:
    """Refuse (422) a new password shorter than :data:`MIN_PASSWORD_LENGTH`, or one zxcvbn finds easy to guess (score
    below 3: a common password from its list of 30,000 leaked in breaches, a keyboard walk, a repetition, a date, the
    account's own name or email), saying why. Bundled lists only: no password leaves the service."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("a password has at least {min_password_length} characters",
                           words={"min_password_length": MIN_PASSWORD_LENGTH}, field=field)
    # Loaded on the first new password (its lists take about 14 MB): processes that never set one (the workers,
    # an API process that only serves bookings) never hold them.
    from zxcvbn import zxcvbn  # noqa: PLC0415

    words = [piece for text in user_inputs if text for piece in (text, *re.split(r"[\s@._+-]+", text)) if piece]
    judged = zxcvbn(password[:_JUDGED_LENGTH], user_inputs=[word[:100] for word in words[:20]])
    if judged["score"] < 3:  # noqa: PLR2004 - zxcvbn's "safely unguessable" begins at 3
        warning = (judged["feedback"]["warning"] or "it is like passwords that are guessed first").rstrip(".")
        raise InvalidInput("this password is too easy to guess: {warning}; a few unrelated words make a better one",
                           words={"warning": warning[:1].lower() + warning[1:]}, field=field)


def hash_password(password: str) -> str:
    with _hashing_slot():
        return _hasher().hash(password)


def register_user(db: Session, *, email: str, password: str, display_name: str, verified: bool = False,
                  timezone: str | None = None, locale: str | None = None) -> User:
    """A new account; its email counts as verified only when an operator vouches for it (``verified``). Refused
    (:class:`PasswordSignInOff`) for an address whose domain signs in through its provider only."""
    enforcement.refuse_passwords_for(db, normalise_email(email))
    check_new_password(password, user_inputs=(email, display_name))
    user = User(
        id=uuid.uuid4(),
        email=normalise_email(email),
        password_hash=hash_password(password),
        display_name=display_name.strip(),
        email_verified_at=utcnow() if verified else None,
        timezone=timezone,
        locale=locale,
    )
    add_or_conflict(db, user, {UNIQUE_EMAIL: Conflict("an account with this email already exists",
                                                      reason="email_taken")})
    return user


def authenticate(db: Session, *, email: str, password: str) -> User:
    """The account whose email and password these are. An account with no password (made by a sign-in at an
    organisation's provider) costs the same time and is refused the same way as a wrong password. An address whose
    domain signs in through its provider only is refused with :class:`PasswordSignInOff` before any password is
    checked, whatever it is (which domains do is public): no answer tells whether an old password is right."""
    address = normalise_email(email)
    user = db.execute(select(User).where(User.email == address)).scalar_one_or_none()
    enforcement.refuse_passwords_for(db, address, user.id if user else None)
    stored = user.password_hash if user is not None else None
    try:
        _verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        raise WrongCredentials(user.id if user else None) from None
    if user is None or stored is None:
        raise WrongCredentials(user.id if user else None)
    if user.disabled_at is not None:
        raise sign_ins.AccountDisabled(user.id)
    if _hasher().check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    return user


def user_id_of(db: Session, email: str) -> uuid.UUID | None:
    """The account of an (already normalised) email, if any."""
    return db.scalar(select(User.id).where(User.email == email))


def get_user(db: Session, user_id: uuid.UUID) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


def end_all_tokens(db: Session, actor: Actor) -> None:
    """Sign out everywhere: every token issued to the actor so far stops working, and their live
    streams end (:func:`workflows.accounts.sign_ins.end_all`); a change of their email waiting to be confirmed ends
    too, and so do the calendar feed and webhook endpoints made while their address was unconfirmed
    (:func:`end_made_unconfirmed`)."""
    sign_ins.end_all(db, actor.user_id)
    void_email_changes(db, actor.user_id)
    end_made_unconfirmed(db, actor.user_id, FeedRevocation.SIGNED_OUT_EVERYWHERE)


def void_email_changes(db: Session, user_id: uuid.UUID) -> int:
    """End every change of the account's email waiting for its new address to be confirmed (the links to it stop
    working), as a password change, a reset, signing out everywhere or its owner's cancellation must: whoever
    started it with the old password gets no address out of it. How many links ended."""
    ended = db.execute(update(AccountToken).where(
        AccountToken.user_id == user_id, AccountToken.purpose == AccountTokenPurpose.VERIFY_EMAIL,
        AccountToken.used_at.is_(None),
        AccountToken.email != select(User.email).where(User.id == user_id).scalar_subquery(),
    ).values(used_at=utcnow()))
    return int(getattr(ended, "rowcount", 0) or 0)


def verify_current_password(user: User, password: str) -> None:
    """The signed-in user proves they know their password before a sensitive change; 403 otherwise (an account
    with no password proves nothing so)."""
    try:
        _verify(user.password_hash or _dummy_hash(), password)
        if user.password_hash is None:
            raise VerificationError
    except (VerificationError, InvalidHashError):
        raise WrongCurrentPassword from None


def update_account(db: Session, actor: Actor, changes: dict[str, str | None]) -> User:
    """Change the caller's display name, timezone or locale (``None`` clears the last two)."""
    user = get_user(db, actor.user_id)
    if "display_name" in changes:
        name = (changes["display_name"] or "").strip()
        if not name:
            raise InvalidInput("display_name must not be blank")
        user.display_name = name
    for field in ("timezone", "locale"):
        if field in changes:
            setattr(user, field, changes[field])
    db.flush()
    return user


def change_password(db: Session, actor: Actor, *, current_password: str, new_password: str) -> User:
    """Set a new password and end every earlier token; the caller must know the current password."""
    # Locked, so two changes at once apply one after the other, each checking the password it replaces.
    # FOR NO KEY UPDATE: a refresh inserting a token (a key share on the user) need not wait for it.
    user = db.get(User, actor.user_id, with_for_update={"key_share": True}, populate_existing=True)
    if user is None:
        raise Unauthenticated("the token's user no longer exists")
    verify_current_password(user, current_password)
    enforcement.refuse_passwords_for(db, user.email, user.id)
    check_new_password(new_password, user_inputs=(user.email, user.display_name), field="new_password")
    user.password_hash = hash_password(new_password)
    end_calendar_feed(db, user.id, FeedRevocation.PASSWORD_CHANGED)
    inbox.notify_user(
        db, user.id, type_="account.password_changed", said=PASSWORD_CHANGED,
        data={"link": "#/forgot-password"})  # the web app shows it as a link; an email writes its address out
    db.flush()
    sign_ins.end_all(db, user.id)
    void_email_changes(db, user.id)
    return user


PASSWORD_CHANGED = wording.notice("account.password_changed", "Your password was changed", (
    "The password of your account was just changed, and every other sign-in ended. If this was not you, reset it at "
    "once from the link."))
FEED_ENDED_BECAUSE = {
    FeedRevocation.PASSWORD_CHANGED: text("account.feed_ended.password_changed", "your password was changed"),
    FeedRevocation.PASSWORD_RESET: text("account.feed_ended.password_reset", "your password was reset"),
}
FEED_ENDED = wording.notice("calendar_feed.revoked", "Calendar feed turned off", (
    "Your private calendar feed stopped working because {because}. Create a new feed address in your settings and "
    "subscribe to it again."))


def end_calendar_feed(db: Session, user_id: uuid.UUID, reason: FeedRevocation) -> None:
    """A change that ends every credential of the account ends its calendar feed URL too, and says so."""
    if calendars.revoke_feed_token(db, user_id, reason) and reason in FEED_ENDED_BECAUSE:
        inbox.notify_user(
            db, user_id, type_="calendar_feed.revoked", said=FEED_ENDED,
            words={"because": wording.phrase(FEED_ENDED_BECAUSE[reason])},
            data={"reason": reason.value})


# Why what an account made while its address was unconfirmed ends now, as its owner reads it.
MADE_UNCONFIRMED_ENDED_BECAUSE = {
    FeedRevocation.ADDRESS_CLAIMED: text("account.unconfirmed_ended.claimed",
                                         "the address's owner signed in through their organisation"),
    FeedRevocation.PASSWORD_RESET: text("account.unconfirmed_ended.reset",
                                        "the password was reset through a link mailed to the address"),
    FeedRevocation.SIGNED_OUT_EVERYWHERE: text("account.unconfirmed_ended.signed_out", "you signed out everywhere"),
}
UNCONFIRMED_ENDED = wording.notice(
    "account.unconfirmed_credentials_ended",
    "Calendar feed and webhooks made before your address was confirmed turned off", (
        "Because {because}, what was set up on this account before its address was confirmed stopped working:{ended}"
        "\n\nWhoever set it up may not have been you. If it was yours, create it again in your settings."))
FEED_ADDRESS = text("account.unconfirmed_ended.feed", "your private calendar feed address")
ENDPOINT = text("account.unconfirmed_ended.endpoint", "the webhook endpoint {url}")


def end_made_unconfirmed(db: Session, user_id: uuid.UUID, reason: FeedRevocation) -> None:
    """The calendar feed and the webhook endpoints made while the account's address was unconfirmed end: whoever
    made them may not own the address (a feed would keep serving the owner's sessions, an endpoint their bookings).
    Done when the address's owner proves it (taking it back through their organisation, a password reset) and when
    signing out everywhere; the owner is told what ended, once."""
    because = MADE_UNCONFIRMED_ENDED_BECAUSE[reason]
    feed = calendars.revoke_feed_token(db, user_id, reason, only_made_unconfirmed=True)
    urls = webhook_endpoints.disable_made_unconfirmed(
        db, user_id, f"made before the account's address was confirmed; {because.english}")
    if not feed and not urls:
        return
    ended = ([wording.phrase(FEED_ADDRESS)] if feed else []) + [wording.phrase(ENDPOINT, url=url) for url in urls]
    inbox.notify_user(
        db, user_id, type_="account.unconfirmed_credentials_ended", said=UNCONFIRMED_ENDED,
        words={"because": wording.phrase(because), "ended": wording.each(ended)},
        data={"reason": reason.value, "calendar_feed": feed, "webhook_urls": urls, "link": "#/settings"})
