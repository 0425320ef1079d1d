"""Email of notifications: each owed one sent once to a confirmed address, with the calendar invite of what
it announces, retried a few times, then given up."""

from __future__ import annotations

import smtplib
import uuid
from datetime import timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.config import get_settings
from infra.smtp import Attachment, send_email
from models import EmailStatus, Listing, Notification, User
from workflows.bookings import links
from workflows.calendars.feeds import (
    add_links,
    booking_invite,
    calendar_attachment,
    invite_attachment,
    session_cancellation,
)
from workflows.clock import utcnow
from workflows.events import EventType
from workflows.inbox import EMAIL_TO, Shown, shown
from workflows.notifications import together

log = structlog.get_logger(__name__)

MAX_EMAIL_ATTEMPTS = 5


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
    (read,) = shown(db, [notification])  # in the zone and locale the reader has now
    notification.email_attempts += 1
    try:
        send_email(settings.smtp_url, sender=settings.smtp_from, to=email or "", subject=read.title,
                   body=email_body(read, settings.public_url) + action_lines(db, notification),
                   message_id=str(notification.id),
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


def email_body(notification: Shown, public_url: str) -> str:
    """The notification's words, and the address of what it is about in the web app."""
    link = notification.data.get("link")
    return f"{notification.body}\n\nOpen it: {public_url}/{link}" if link else notification.body


def action_lines(db: Session, notification: Notification) -> str:
    """A confirmation's links that add the meeting to Google Calendar or Outlook (the invite is attached too), and a
    confirmation's or a reminder's signed links to move it (a one-to-one meeting) or cancel it without signing in (its
    page shows the free times, or what cancelling costs, and only its button acts: ``workflows.bookings.links``);
    nothing for other notifications."""
    booking = links.booking_for(db, notification.user_id, notification.type, notification.data.get("resource", {}))
    user = db.get(User, notification.user_id)
    if booking is None or user is None or booking.start_time <= utcnow():
        return ""
    lines = ""
    if notification.type != EventType.SESSION_REMINDER:
        title = db.scalar(select(Listing.title).where(Listing.id == booking.listing_id)) or "Mentorship session"
        google, outlook = add_links(title, booking.start_time, booking.end_time,
                                    f"{get_settings().public_url}/#/bookings")
        lines += f"\n\nAdd it to Google Calendar: {google}\nAdd it to Outlook: {outlook}"
    if booking.group_session_id is None:  # a seat in a group session is left, not moved
        lines += f"\n\nMove it to another time (free; the other side accepts it): {links.move_url(user, booking)}"
    return lines + (f"\n\nCancel it (the page shows what it costs before anything happens): "
                    f"{links.cancel_url(user, booking)}")


def email_attachments(db: Session, notification: Notification) -> list[Attachment]:
    """A booking accepted, or moved, or a seat given from a waitlist: its email carries the session's calendar invite
    (a move's, the chain's event at its next SEQUENCE, which calendar apps move); a series accepted, one invite per
    time accepted; a session cancelled, its cancellation (``METHOD:CANCEL``, the same UID at a higher SEQUENCE),
    which takes the event out of the reader's calendar; a message of many sessions, each one's
    (``workflows.notifications.together``)."""
    resource = notification.data.get("resource", {})
    many = together.attachments(db, notification.user_id, notification.type, resource)
    if many is not None:
        return many
    if notification.type == EventType.SESSION_CANCELLED:
        cancel = session_cancellation(db, notification.user_id, uuid.UUID(str(resource.get("id"))))
        return [calendar_attachment(cancel, "cancel.ics", "CANCEL")] if cancel is not None else []
    if notification.type == EventType.BOOKING_SERIES_ACCEPTED:
        booking_ids = [one["booking_id"] for one in resource.get("occurrences", []) if one.get("status") == "accepted"]
    elif notification.type == EventType.WAITLIST_PROMOTED:
        booking_ids = [resource.get("booking_id")]
    elif notification.type in {EventType.BOOKING_ACCEPTED, EventType.BOOKING_RESCHEDULED}:
        booking_ids = [resource.get("id")]
    else:
        return []
    invites = [booking_invite(db, notification.user_id, uuid.UUID(str(one))) for one in booking_ids if one]
    return [invite_attachment(invite, f"invite-{n}.ics" if len(booking_ids) > 1 else "invite.ics")
            for n, invite in enumerate(invites, 1) if invite is not None]


def due_emails(db: Session, *, older_than_seconds: int = 60, limit: int = 200) -> list[uuid.UUID]:
    """Emails still owed a while after their notification: their first message was lost or failed."""
    return list(db.scalars(
        select(Notification.id)
        .where(Notification.email_status == EmailStatus.PENDING,
               Notification.created_at <= func.now() - timedelta(seconds=older_than_seconds))
        .order_by(Notification.created_at).limit(limit)
    ))
