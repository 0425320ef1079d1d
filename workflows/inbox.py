"""A person's inbox: one notification per (event, person, kind), read and marked read by its owner, mailed
when SMTP is configured. At the bottom of the domain, beside events: any package may tell someone something."""

from __future__ import annotations

import uuid
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import EmailStatus, Notification
from outbox import enqueue_after_commit
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import NotFound
from workflows.pagination import Page, paginate

log = structlog.get_logger(__name__)

SEND_EMAIL_TASK = "notifications.send_email"
# In a notification's data: the address its email goes to instead of the account's (an email change's notice
# to the old address). Kept out of what the API shows: emails appear in /me only.
EMAIL_TO = "email_to"

NOTIFICATIONS_TABLE = cast(Table, Notification.__table__)
# One notification per (event, user, type): built once, run with bind parameters.
INSERT_ONCE = (
    insert(NOTIFICATIONS_TABLE)
    .values({name: bindparam(name) for name in
             ("id", "user_id", "event_id", "type", "title", "body", "data", "email_status")})
    .on_conflict_do_nothing(index_elements=["event_id", "user_id", "type"])
    .returning(NOTIFICATIONS_TABLE.c.id)
)


def notify_user(
    db: Session,
    user_id: uuid.UUID,
    *,
    type_: str,
    title: str,
    body: str,
    data: dict[str, Any],
    event_id: uuid.UUID | None = None,
    email: bool = True,
) -> uuid.UUID | None:
    """Insert one notification (mailed too unless ``email`` is false: a message of its own goes out); a second one
    for the same (event, user, type) is ignored.

    Returns the new id, or ``None`` when it already existed.
    """
    email_status = EmailStatus.PENDING if get_settings().smtp_url and email else EmailStatus.NONE
    new_id: uuid.UUID | None = db.execute(INSERT_ONCE, {
        "id": uuid.uuid4(), "user_id": user_id, "event_id": event_id, "type": type_, "title": title, "body": body,
        "data": data, "email_status": email_status,
    }).scalar_one_or_none()
    if new_id is not None:
        log.info("notification.created", notification_id=str(new_id), user_id=str(user_id), type=type_)
        if email_status == EmailStatus.PENDING:
            enqueue_after_commit(db, SEND_EMAIL_TASK, str(new_id))
    return new_id


def list_notifications(db: Session, actor: Actor, *, unread: bool, limit: int, cursor: str | None
                       ) -> Page[Notification]:
    query = select(Notification).where(Notification.user_id == actor.user_id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return paginate(db, query, Notification.created_at, Notification.id, limit=limit, cursor=cursor,
                    descending=True)


def mark_read(db: Session, actor: Actor, notification_id: uuid.UUID) -> Notification:
    notification = db.get(Notification, notification_id)
    if notification is None or notification.user_id != actor.user_id:
        raise NotFound("notification not found")
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.flush()
    return notification
