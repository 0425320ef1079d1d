"""A person's inbox: one notification per (event, person, kind), read and marked read by its owner, mailed
when SMTP is configured. At the bottom of the domain, beside events: any package may tell someone something.

A notification keeps its templates and their words (``workflows.wording``); it is written for its reader when read
(``shown``): their times in the zone and locale they have then."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import EmailStatus, Notification, OutboxEvent, User
from outbox import enqueue_after_commit, mark_done, recorded_within
from workflows import wording
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import NotFound
from workflows.language import Text
from workflows.pagination import Page, paginate

log = structlog.get_logger(__name__)

NOTIFY_HANDLER = "notifications.notify"
SEND_EMAIL_TASK = "notifications.send_email"
# In a notification's data: the address its email goes to instead of the account's (an email change's notice
# to the old address). Kept out of what the API shows: emails appear in /me only.
EMAIL_TO = "email_to"

NOTIFICATIONS_TABLE = cast(Table, Notification.__table__)
# One notification per (event, user, type): built once, run with bind parameters.
INSERT_ONCE = (
    insert(NOTIFICATIONS_TABLE)
    .values({name: bindparam(name) for name in
             ("id", "user_id", "event_id", "type", "message", "title", "body", "words", "data", "email_status")})
    .on_conflict_do_nothing(index_elements=["event_id", "user_id", "type"])
    .returning(NOTIFICATIONS_TABLE.c.id)
)


def notify_user(
    db: Session,
    user_id: uuid.UUID,
    *,
    type_: str,
    said: wording.Notice,
    data: dict[str, Any],
    words: dict[str, Any] | None = None,
    event_id: uuid.UUID | None = None,
    email: bool = True,
) -> uuid.UUID | None:
    """Insert one notification (mailed too unless ``email`` is false: a message of its own goes out); a second one
    for the same (event, user, type) is ignored. What it says is kept as its key and its ``words``, written in the
    reader's language when read.

    Returns the new id, or ``None`` when it already existed.
    """
    email_status = EmailStatus.PENDING if get_settings().smtp_url and email else EmailStatus.NONE
    new_id: uuid.UUID | None = db.execute(INSERT_ONCE, {
        "id": uuid.uuid4(), "user_id": user_id, "event_id": event_id, "type": type_, "message": said.key,
        "title": None, "body": None,
        "words": words or {}, "data": data, "email_status": email_status,
    }).scalar_one_or_none()
    if new_id is not None:
        log.info("notification.created", notification_id=str(new_id), user_id=str(user_id), type=type_)
        if email_status == EmailStatus.PENDING:
            enqueue_after_commit(db, SEND_EMAIL_TASK, str(new_id))
    return new_id


@contextmanager
def told_together(db: Session) -> Iterator[list[OutboxEvent]]:
    """The events recorded inside the block are told by one message the caller records after (a pairing paused
    tells of the sessions it cancelled, each person once): none of them tells anyone on its own, in this
    transaction; their webhooks and other handlers run as ever. The list holds them once the block ends."""
    with recorded_within(db) as events:
        yield events
    mark_done(db, [event.id for event in events], NOTIFY_HANDLER)


@dataclass(frozen=True)
class Shown:
    """A notification as its reader reads it."""

    id: uuid.UUID
    user_id: uuid.UUID
    type: str
    title: str
    body: str
    data: dict[str, Any]
    read_at: datetime | None
    created_at: datetime


def shown(db: Session, notifications: Sequence[Notification], asked: str | None = None) -> list[Shown]:
    """The notifications written for their readers: each reader's language, zone and locale read now, in one
    query; in the locale ``asked`` (a client's), where one asks."""
    owners = {n.user_id for n in notifications}
    readers = {row.id: (row.timezone, row.locale) for row in db.execute(
        select(User.id, User.timezone, User.locale).where(User.id.in_(owners)))} if owners else {}
    read: list[Shown] = []
    for n in notifications:
        timezone, locale = readers.get(n.user_id, (None, None))
        locale = asked or locale
        title, body = words_of(n)
        read.append(Shown(n.id, n.user_id, n.type, wording.render(title, n.words, timezone, locale),
                          wording.render(body, n.words, timezone, locale), n.data, n.read_at, n.created_at))
    return read


def words_of(notification: Notification) -> tuple[Text | str, Text | str]:
    """A notification's title and body: the declared texts of its key; a row from before keys (or of a key no
    longer declared), the English it kept."""
    said = wording.notice_of(notification.message) if notification.message else None
    if said is not None:
        return said.title, said.body
    return notification.title or notification.message or "", notification.body or ""


def list_notifications(db: Session, actor: Actor, *, unread: bool, limit: int, cursor: str | None,
                       asked: str | None = None) -> Page[Shown]:
    query = select(Notification).where(Notification.user_id == actor.user_id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    page = paginate(db, query, Notification.created_at, Notification.id, limit=limit, cursor=cursor,
                    descending=True)
    return Page(shown(db, page.items, asked), page.next_cursor)


def mark_all_read(db: Session, actor: Actor, *, up_to: datetime | None = None) -> int:
    """Mark the actor's unread notifications read (those written at or before ``up_to`` when given: what the reader
    has seen, not what came since); how many. One statement, on the index of a user's unread notifications."""
    marking = update(Notification).where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
    if up_to is not None:
        marking = marking.where(Notification.created_at <= up_to)
    marked: int = db.execute(marking.values(read_at=utcnow())).rowcount  # type: ignore[attr-defined]
    return marked


def mark_read(db: Session, actor: Actor, notification_id: uuid.UUID, asked: str | None = None) -> Shown:
    notification = db.get(Notification, notification_id)
    if notification is None or notification.user_id != actor.user_id:
        raise NotFound("notification not found")
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.flush()
    (read,) = shown(db, [notification], asked)
    return read
