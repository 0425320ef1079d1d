"""In-app notifications, one row per person and event, emailed when SMTP is configured."""

from __future__ import annotations

import smtplib
import uuid
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import MentorProfile, Notification, OutboxEvent, User
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.config import get_settings
from workflows.email import send_email
from workflows.errors import NotFound
from workflows.outbox import enqueue_after_commit
from workflows.pagination import Page, paginate

log = structlog.get_logger(__name__)

SEND_EMAIL_TASK = "notifications.send_email"
MAX_EMAIL_ATTEMPTS = 5


_NOTIFICATIONS = cast(Table, Notification.__table__)
# One notification per (event, user, type): built once, run with bind parameters.
_NOTIFY = (
    insert(_NOTIFICATIONS)
    .values({name: bindparam(name) for name in
             ("id", "user_id", "event_id", "type", "title", "body", "data", "email_status")})
    .on_conflict_do_nothing(index_elements=["event_id", "user_id", "type"])
    .returning(_NOTIFICATIONS.c.id)
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
) -> uuid.UUID | None:
    """Insert one notification; a second one for the same (event, user, type) is ignored.

    Returns the new id, or ``None`` when it already existed.
    """
    email_status = "pending" if get_settings().smtp_url else "none"
    new_id: uuid.UUID | None = db.execute(_NOTIFY, {
        "id": uuid.uuid4(), "user_id": user_id, "event_id": event_id, "type": type_, "title": title, "body": body,
        "data": data, "email_status": email_status,
    }).scalar_one_or_none()
    if new_id is not None:
        log.info("notification.created", notification_id=str(new_id), user_id=str(user_id), type=type_)
        if email_status == "pending":
            enqueue_after_commit(db, SEND_EMAIL_TASK, str(new_id))
    return new_id


def mentor_user_id(db: Session, mentor_profile_id: uuid.UUID) -> uuid.UUID:
    user_id = db.scalar(select(MentorProfile.user_id).where(MentorProfile.id == mentor_profile_id))
    if user_id is None:
        raise NotFound("mentor profile not found")
    return user_id


def _when(payload: dict[str, Any]) -> str:
    start = datetime.fromisoformat(payload["start_time"])
    return start.strftime("%Y-%m-%d %H:%M UTC")


# Event type -> (who is told, title, body template). Recipients: "mentor", "mentee", or both.
MESSAGES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "booking.requested": (("mentor",), "New booking request", "A mentee asked for a session on {when}."),
    "booking.accepted": (("mentee",), "Booking accepted", "Your session on {when} is confirmed."),
    "booking.declined": (("mentee",), "Booking declined", "Your request for {when} was declined."),
    "booking.cancelled": (("mentor",), "Booking request withdrawn", "The request for {when} was withdrawn."),
    "booking.expired": (("mentor", "mentee"), "Booking request expired",
                        "The request for {when} expired before it was answered."),
    "session.cancelled": (("mentor", "mentee"), "Session cancelled", "The session on {when} was cancelled."),
    "session.completed": (("mentor", "mentee"), "Session completed", "The session on {when} is complete."),
    "session.missed": (("mentor", "mentee"), "Session missed", "The session on {when} was never started."),
    "review.created": (("mentor",), "New review", "A mentee rated a session {rating}/5."),
}


def recipients(db: Session, event: OutboxEvent, roles: tuple[str, ...]) -> list[uuid.UUID]:
    payload = event.payload
    people: list[uuid.UUID] = []
    if "mentor" in roles:
        people.append(mentor_user_id(db, uuid.UUID(payload["mentor_profile_id"])))
    if "mentee" in roles:
        people.extend(uuid.UUID(user) for user in _mentees(payload))
    return people


def _mentees(payload: dict[str, Any]) -> list[str]:
    if payload.get("mentee_user_ids"):
        return list(payload["mentee_user_ids"])
    return [payload["mentee_user_id"]] if payload.get("mentee_user_id") else []


def handle_event(db: Session, event: OutboxEvent) -> None:
    """The notifications handler: tell the right people about ``event``."""
    spec = MESSAGES.get(event.type)
    if spec is None:
        return
    roles, title, template = spec
    payload = event.payload
    body = template.format(when=_when(payload) if "start_time" in payload else "", rating=payload.get("rating"))
    for user_id in recipients(db, event, roles):
        notify_user(db, user_id, type_=event.type, title=title, body=body, event_id=event.id,
                    data={"event_type": event.type, "resource": payload})


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


def deliver_email(db: Session, notification_id: uuid.UUID) -> bool:
    """Email one notification if it is still owed; ``True`` when sent now.

    The row stays locked while the message is handed to SMTP, so two copies of
    the task never both send it. A crash after the hand-off and before the
    commit resends it once (at-least-once); the stable Message-ID lets mail
    systems drop that copy.
    """
    settings = get_settings()
    notification = db.execute(
        select(Notification)
        .where(Notification.id == notification_id, Notification.email_status == "pending")
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if notification is None or not settings.smtp_url:
        return False
    email = db.scalar(select(User.email).where(User.id == notification.user_id))
    notification.email_attempts += 1
    try:
        send_email(settings.smtp_url, sender=settings.smtp_from, to=email or "", subject=notification.title,
                   body=notification.body, message_id=str(notification.id))
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("notification.email_failed", notification_id=str(notification.id), error=str(exc),
                    attempts=notification.email_attempts)
        if notification.email_attempts >= MAX_EMAIL_ATTEMPTS:
            notification.email_status = "failed"
        return False
    notification.email_status = "sent"
    log.info("notification.emailed", notification_id=str(notification.id))
    return True


def due_emails(db: Session, *, older_than_seconds: int = 60, limit: int = 200) -> list[uuid.UUID]:
    """Emails still owed a while after their notification: their first message was lost or failed."""
    return list(db.scalars(
        select(Notification.id)
        .where(Notification.email_status == "pending",
               Notification.created_at <= func.now() - timedelta(seconds=older_than_seconds))
        .order_by(Notification.created_at).limit(limit)
    ))
