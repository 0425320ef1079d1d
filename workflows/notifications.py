"""In-app notifications, one row per person and event, emailed when SMTP is configured."""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.config import get_settings
from infra.smtp import Attachment, send_email
from models import EmailStatus, MentorProfile, Notification, OutboxEvent, User
from outbox import enqueue_after_commit
from workflows.actors import Actor
from workflows.calendars import booking_invite, invite_attachment
from workflows.clock import utcnow
from workflows.errors import NotFound
from workflows.events import DomainEvent, EventType, from_outbox
from workflows.pagination import Page, paginate
from workflows.roles import Role
from workflows.slots import free_slots

log = structlog.get_logger(__name__)

SEND_EMAIL_TASK = "notifications.send_email"
# In a notification's data: the address its email goes to instead of the account's (an email change's notice
# to the old address). Kept out of what the API shows: emails appear in /me only.
EMAIL_TO = "email_to"
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
    email_status = EmailStatus.PENDING if get_settings().smtp_url else EmailStatus.NONE
    new_id: uuid.UUID | None = db.execute(_NOTIFY, {
        "id": uuid.uuid4(), "user_id": user_id, "event_id": event_id, "type": type_, "title": title, "body": body,
        "data": data, "email_status": email_status,
    }).scalar_one_or_none()
    if new_id is not None:
        log.info("notification.created", notification_id=str(new_id), user_id=str(user_id), type=type_)
        if email_status == EmailStatus.PENDING:
            enqueue_after_commit(db, SEND_EMAIL_TASK, str(new_id))
    return new_id


def _when(payload: dict[str, Any]) -> str:
    start = datetime.fromisoformat(payload["start_time"])
    return start.strftime("%Y-%m-%d %H:%M UTC")


# Event type -> (who is told, title, body template).
MESSAGES: dict[EventType, tuple[tuple[Role, ...], str, str]] = {
    EventType.BOOKING_REQUESTED: ((Role.MENTOR,), "New booking request", "A mentee asked for a session on {when}."),
    EventType.BOOKING_ACCEPTED: ((Role.MENTEE,), "Booking accepted", "Your session on {when} is confirmed."),
    EventType.BOOKING_DECLINED: ((Role.MENTEE,), "Booking declined", "Your request for {when} was declined."),
    EventType.BOOKING_CANCELLED: ((Role.MENTOR,), "Booking request withdrawn",
                                  "The request for {when} was withdrawn."),
    EventType.BOOKING_EXPIRED: ((Role.MENTOR, Role.MENTEE), "Booking request expired",
                                "The request for {when} expired before it was answered."),
    EventType.SESSION_CANCELLED: ((Role.MENTOR, Role.MENTEE), "Session cancelled",
                                  "The session on {when} was cancelled."),
    EventType.SESSION_COMPLETED: ((Role.MENTOR, Role.MENTEE), "Session completed",
                                  "The session on {when} is complete."),
    EventType.SESSION_MISSED: ((Role.MENTOR, Role.MENTEE), "Session missed",
                               "The session on {when} was never started."),
    EventType.SESSION_UPDATED: ((Role.MENTEE,), "Session details changed",
                                "The meeting link or agenda of {when} changed."),
    EventType.REVIEW_CREATED: ((Role.MENTOR,), "New review", "A mentee rated a session {rating}/5."),
}


# A request the system settled because its time was taken (its reason in the payload): who is told, the
# title, and each one's words; the mentee is offered the listing's next free times.
SETTLED: dict[EventType, tuple[str, dict[Role, str]]] = {
    EventType.BOOKING_DECLINED: ("Booking declined", {
        Role.MENTEE: "Your request for {when} was declined: {reason}. {next}"}),
    EventType.BOOKING_CANCELLED: ("Booking request withdrawn", {
        Role.MENTEE: "Your request for {when} was withdrawn: {reason}. {next}",
        Role.MENTOR: "The request for {when} was withdrawn: the mentee has another session at this time."}),
}
NEXT_SLOTS_SHOWN = 3
NEXT_SLOTS_DAYS = 14


def next_free_times(db: Session, listing_id: str, now: datetime) -> str:
    """The listing's next free starts, in words, for a mentee whose request was settled."""
    found = free_slots(db, uuid.UUID(listing_id), start=now, end=now + timedelta(days=NEXT_SLOTS_DAYS), now=now)
    if not found:
        return f"The listing has no free time in the next {NEXT_SLOTS_DAYS} days."
    times = ", ".join(slot.start_time.strftime("%a %d %b %H:%M UTC") for slot in found[:NEXT_SLOTS_SHOWN])
    return f"Its next free times: {times}."


def _settled_rows(db: Session, outbox_event: OutboxEvent, event: DomainEvent,
                  mentor_users: Mapping[uuid.UUID, uuid.UUID], email_status: EmailStatus) -> list[dict[str, Any]]:
    title, bodies = SETTLED[EventType(outbox_event.type)]
    payload = outbox_event.payload
    words = {"when": _when(payload), "reason": payload.get("reason") or "its time was taken",
             "next": next_free_times(db, payload["listing_id"], utcnow())}
    return [{"id": uuid.uuid4(), "user_id": user_id, "event_id": event.id, "type": event.type, "title": title,
             "body": bodies[role].format(**words), "data": {"event_type": event.type, "resource": event.view_for(role)},
             "email_status": email_status}
            for user_id, role in recipients(event, tuple(bodies), mentor_users)]


def settled_by_system(outbox_event: OutboxEvent) -> bool:
    """Whether the event is the system's settling of a request (not a seat, not a person's decision)."""
    return (outbox_event.type in SETTLED and outbox_event.actor == Role.SYSTEM.value
            and not outbox_event.payload.get("group_session_id"))


def recipients(event: DomainEvent, roles: tuple[Role, ...], mentor_users: Mapping[uuid.UUID, uuid.UUID]
               ) -> list[tuple[uuid.UUID, Role]]:
    """The users told of ``event`` among its participants in ``roles``, each with their part in it.

    ``mentor_users`` maps mentor profiles to their users (:func:`mentor_users_of`).
    """
    people: list[tuple[uuid.UUID, Role]] = []
    mentor = event.participants.mentor_profile_id
    if Role.MENTOR in roles and mentor is not None:
        if mentor not in mentor_users:
            raise NotFound("mentor profile not found")
        people.append((mentor_users[mentor], Role.MENTOR))
    if Role.MENTEE in roles:
        people.extend((mentee, Role.MENTEE) for mentee in event.participants.mentee_user_ids)
    return people


def mentor_users_of(db: Session, events: Sequence[DomainEvent]) -> dict[uuid.UUID, uuid.UUID]:
    """The users of the events' mentors, in one query."""
    profiles = {event.participants.mentor_profile_id for event in events} - {None}
    if not profiles:
        return {}
    rows = db.execute(select(MentorProfile.id, MentorProfile.user_id).where(MentorProfile.id.in_(profiles)))
    return {profile: user for profile, user in rows}  # noqa: C416 - rows are typed pairs, not a mapping


def handle_events(db: Session, outbox_events: Sequence[OutboxEvent]) -> None:
    """The notifications handler: tell the right people about the events, each as their part lets them see it.

    A batch of events costs two statements: the mentors' users (when one of the events tells its mentor),
    and one insert of every notification.
    """
    told = [(outbox_event, MESSAGES[EventType(outbox_event.type)]) for outbox_event in outbox_events
            if outbox_event.type in MESSAGES]
    events = [from_outbox(outbox_event) for outbox_event, _ in told]
    telling_mentors = [event for event, (outbox_event, message) in zip(events, told, strict=True)
                       if Role.MENTOR in message[0] or settled_by_system(outbox_event)]
    mentor_users = mentor_users_of(db, telling_mentors)
    email_status = EmailStatus.PENDING if get_settings().smtp_url else EmailStatus.NONE
    rows: list[dict[str, Any]] = []
    for (outbox_event, (roles, title, template)), event in zip(told, events, strict=True):
        if settled_by_system(outbox_event):
            rows.extend(_settled_rows(db, outbox_event, event, mentor_users, email_status))
            continue
        payload = outbox_event.payload
        body = template.format(when=_when(payload) if "start_time" in payload else "", rating=payload.get("rating"))
        rows.extend({"id": uuid.uuid4(), "user_id": user_id, "event_id": event.id, "type": event.type, "title": title,
                     "body": body, "data": {"event_type": event.type, "resource": event.view_for(role)},
                     "email_status": email_status}
                    for user_id, role in recipients(event, roles, mentor_users))
    if not rows:
        return
    created = list(db.execute(_NOTIFY, rows).scalars())
    log.info("notifications.created", count=len(created), events=len(events))
    if email_status == EmailStatus.PENDING:
        for new_id in created:
            enqueue_after_commit(db, SEND_EMAIL_TASK, str(new_id))


def handle_event(db: Session, outbox_event: OutboxEvent) -> None:
    """:func:`handle_events` for one event."""
    handle_events(db, [outbox_event])


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
        .where(Notification.id == notification_id, Notification.email_status == EmailStatus.PENDING)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if notification is None or not settings.smtp_url:
        return False
    email, verified = db.execute(select(User.email, User.email_verified_at.is_not(None))
                                 .where(User.id == notification.user_id)).one()
    if not verified:  # an address nobody confirmed gets no mail but its confirmation and reset links
        notification.email_status = EmailStatus.NONE
        log.info("notification.email_unverified", notification_id=str(notification.id))
        return False
    # A notice to the address the account had before (an email change): sent there, not to the new one.
    email = notification.data.get(EMAIL_TO) or email
    notification.email_attempts += 1
    try:
        send_email(settings.smtp_url, sender=settings.smtp_from, to=email or "", subject=notification.title,
                   body=notification.body, message_id=str(notification.id),
                   attachments=email_attachments(db, notification))
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("notification.email_failed", notification_id=str(notification.id), error=str(exc),
                    attempts=notification.email_attempts)
        if notification.email_attempts >= MAX_EMAIL_ATTEMPTS:
            notification.email_status = EmailStatus.FAILED
        return False
    notification.email_status = EmailStatus.SENT
    log.info("notification.emailed", notification_id=str(notification.id))
    return True


def email_attachments(db: Session, notification: Notification) -> list[Attachment]:
    """A booking accepted: its email carries the session's calendar invite."""
    booking_id = notification.data.get("resource", {}).get("id")
    if notification.type != EventType.BOOKING_ACCEPTED or booking_id is None:
        return []
    invite = booking_invite(db, notification.user_id, uuid.UUID(booking_id))
    return [invite_attachment(invite)] if invite is not None else []


def due_emails(db: Session, *, older_than_seconds: int = 60, limit: int = 200) -> list[uuid.UUID]:
    """Emails still owed a while after their notification: their first message was lost or failed."""
    return list(db.scalars(
        select(Notification.id)
        .where(Notification.email_status == EmailStatus.PENDING,
               Notification.created_at <= func.now() - timedelta(seconds=older_than_seconds))
        .order_by(Notification.created_at).limit(limit)
    ))
