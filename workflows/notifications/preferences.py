"""How each person is told: per kind of news (``Telling``), by email at once, in a daily or weekly digest, or not at
all; in the app always. Account security is always mailed at once.

Every notification's kind comes from its type (:func:`kind_of`). An email carries a link that stops that kind's
email without signing in (:func:`unsubscribe_url`, RFC 8058's one-click ``List-Unsubscribe``): a signed token of the
reader and the kind, with a key of its own derived from the service's secret, valid for a year; opening it changes
nothing, only its button (or a mail provider's ``POST``) does (:func:`unsubscribe`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import jwt
from babel.lists import format_list
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import EmailChoice, NotificationPreference, Telling, User
from workflows import wording
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, InvalidInput
from workflows.events import EventType
from workflows.language import text

AUDIENCE = "unsubscribe"
LINK_LIFETIME = timedelta(days=366)
# What each kind is, as its preferences screen names it.
DESCRIBED = {
    Telling.BOOKINGS: text("telling.described.bookings", "Bookings and sessions"),
    Telling.REMINDERS: text("telling.described.reminders", "Reminders before a session"),
    Telling.MESSAGES: text("telling.described.messages", "Messages"),
    Telling.ANNOUNCEMENTS: text("telling.described.announcements", "Announcements"),
    Telling.PROGRAMMES: text("telling.described.programmes", "Programme changes"),
    Telling.SECURITY: text("telling.described.security", "Account security"),
}
# What each kind is inside a sentence ("Stop emails about {kinds}").
NAMED = {
    Telling.BOOKINGS: text("telling.named.bookings", "bookings and sessions"),
    Telling.REMINDERS: text("telling.named.reminders", "reminders before a session"),
    Telling.MESSAGES: text("telling.named.messages", "messages"),
    Telling.ANNOUNCEMENTS: text("telling.named.announcements", "announcements"),
    Telling.PROGRAMMES: text("telling.named.programmes", "programme changes"),
    Telling.SECURITY: text("telling.named.security", "account security"),
}
# The first part of a notification's type, and its kind (any other is a booking's or a session's).
_BY_PREFIX = {
    "message": Telling.MESSAGES, "announcement": Telling.ANNOUNCEMENTS,
    "programme": Telling.PROGRAMMES, "enrolment": Telling.PROGRAMMES, "pairing": Telling.PROGRAMMES,
    "goal": Telling.PROGRAMMES, "plan": Telling.PROGRAMMES, "match_run": Telling.PROGRAMMES,
    "conversation": Telling.PROGRAMMES,  # a coordinator told of a block, or a report
    "nudge": Telling.PROGRAMMES,  # a programme's reminders of a step left undone
    "account": Telling.SECURITY, "calendar_feed": Telling.SECURITY, "webhook": Telling.SECURITY,
}


def kind_of(notification_type: str) -> Telling:
    """The kind of news a notification of this type is."""
    if notification_type == EventType.SESSION_REMINDER:
        return Telling.REMINDERS
    return _BY_PREFIX.get(notification_type.split(".", 1)[0], Telling.BOOKINGS)


@dataclass(frozen=True)
class Preference:
    kind: Telling
    email: EmailChoice
    described: str

    @property
    def locked(self) -> bool:
        """Account security's email cannot be turned off."""
        return self.kind == Telling.SECURITY


def chosen(db: Session, user_id: uuid.UUID) -> dict[Telling, EmailChoice]:
    """The person's email choice for every kind (at once where they chose nothing)."""
    rows = dict(db.execute(select(NotificationPreference.kind, NotificationPreference.email)
                           .where(NotificationPreference.user_id == user_id)).all())
    return {kind: rows.get(kind, EmailChoice.NOW) for kind in Telling}


def email_for(db: Session, user_id: uuid.UUID, notification_type: str) -> EmailChoice:
    """How the person is mailed a notification of this type now."""
    kind = kind_of(notification_type)
    if kind == Telling.SECURITY:
        return EmailChoice.NOW
    return db.scalar(select(NotificationPreference.email).where(
        NotificationPreference.user_id == user_id, NotificationPreference.kind == kind)) or EmailChoice.NOW


def listed(db: Session, user_id: uuid.UUID, asked: str | None = None) -> list[Preference]:
    """The person's choice for every kind, each kind named in the language ``asked`` (a client's), else theirs."""
    locale = asked or db.scalar(select(User.locale).where(User.id == user_id))
    return [Preference(kind, email, wording.render(DESCRIBED[kind], {}, None, locale))
            for kind, email in chosen(db, user_id).items()]


def choose(db: Session, user_id: uuid.UUID, choices: Mapping[Telling, EmailChoice]) -> list[Preference]:
    """Set the person's email choice for the kinds given (the rest stay); 400 for turning account security's email
    to anything but at once, and nothing changes."""
    if choices.get(Telling.SECURITY, EmailChoice.NOW) != EmailChoice.NOW:
        raise BusinessRuleViolation("account security is always emailed at once", field="preferences")
    rows = [{"user_id": user_id, "kind": kind, "email": email, "updated_at": utcnow()}
            for kind, email in choices.items() if kind != Telling.SECURITY]
    if rows:
        statement = insert(NotificationPreference).values(rows)
        db.execute(statement.on_conflict_do_update(
            index_elements=["user_id", "kind"],
            set_={"email": statement.excluded.email, "updated_at": statement.excluded.updated_at}))
    return listed(db, user_id)


def _key() -> str:
    return hashlib.sha256(b"unsubscribe:" + get_settings().jwt_secret_key.encode()).hexdigest()


def unsubscribe_token(user_id: uuid.UUID, kinds: Sequence[Telling]) -> str:
    claims = {"aud": AUDIENCE, "sub": str(user_id), "kinds": [kind.value for kind in kinds],
              "exp": int((utcnow() + LINK_LIFETIME).timestamp())}
    return jwt.encode(claims, _key(), algorithm="HS256")


def unsubscribe_url(user_id: uuid.UUID, kinds: Sequence[Telling]) -> str | None:
    """The one-click link that stops these kinds' email for the person (a notification's kind; a digest's kinds);
    none for account security."""
    kept = [kind for kind in kinds if kind != Telling.SECURITY]
    if not kept:
        return None
    return f"{get_settings().public_url}/unsubscribe?token={quote(unsubscribe_token(user_id, kept))}"


def list_unsubscribe_headers(url: str | None) -> dict[str, str]:
    """RFC 8058's headers for an email whose one-click link is ``url`` (none without one)."""
    if url is None:
        return {}
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def named(kinds: Sequence[Telling], locale: str | None = None) -> str:
    """"messages", "reminders and announcements": what a link stops, in the reader's words."""
    return format_list([wording.say(NAMED[kind], locale) for kind in kinds], locale=wording.locale_of(locale))


@dataclass(frozen=True)
class Unsubscribing:
    user_id: uuid.UUID
    kinds: tuple[Telling, ...]
    described: str
    off: bool  # every one of them is off already (or now)


def read_link(db: Session, token: str) -> Unsubscribing:
    """What an unsubscribe link stops, and whether it is off already; changes nothing. 422 for a link not ours,
    expired, or of an account deleted since."""
    try:
        claims = jwt.decode(token, _key(), algorithms=["HS256"], audience=AUDIENCE,
                            options={"require": ["exp", "sub", "kinds"]})
        user_id = uuid.UUID(str(claims["sub"]))
        kinds = tuple(dict.fromkeys(Telling(kind) for kind in claims["kinds"]))
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidInput("this link is not valid or has expired", field="token") from exc
    if not kinds or Telling.SECURITY in kinds or db.get(User, user_id) is None:
        raise InvalidInput("this link is not valid or has expired", field="token")
    now = chosen(db, user_id)
    return Unsubscribing(user_id, kinds, named(kinds), all(now[kind] == EmailChoice.OFF for kind in kinds))


def unsubscribe(db: Session, token: str) -> Unsubscribing:
    """Stop the link's kinds of email for its reader (their in-app notifications stay). Doing it again changes
    nothing more."""
    link = read_link(db, token)
    choose(db, link.user_id, dict.fromkeys(link.kinds, EmailChoice.OFF))
    return Unsubscribing(link.user_id, link.kinds, link.described, off=True)
