"""Email of notifications: each owed one sent once to a confirmed address, with the calendar invite of what
it announces, retried a few times, then given up.

A booking's confirmation due while its address is not confirmed (a visitor who books at once, before opening the
confirmation link) is held, and sent once the address is confirmed if the meeting is still to come. A confirmation
waits a moment for its meeting's session, which another worker makes, so that it carries the Join link and the
session's page."""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from infra.config import get_settings
from infra.smtp import Attachment, send_email
from models import (
    Booking,
    BookingStatus,
    EmailChoice,
    EmailStatus,
    Listing,
    MentorshipSession,
    Notification,
    Telling,
    User,
)
from outbox import enqueue_after_commit
from workflows import wording
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
from workflows.inbox import EMAIL_TO, SEND_EMAIL_TASK, Shown, shown
from workflows.language import text
from workflows.notifications import preferences, together
from workflows.sessions.lifecycle import meeting_url

log = structlog.get_logger(__name__)

MANY_PROPOSED = text("email.many_proposed", "You are paired with {count} mentee",
                     plural="You are paired with {count} mentees")
INVITATION = text("email.calendar.invitation", "Invitation: {summary}, {when}")
CANCELLED = text("email.calendar.cancelled", "Cancelled: {summary}, {when}")
CALENDAR_BODY = text("email.calendar.body", (
    "{title}.\n\nThis message updates your calendar. The message \u201c{about}\u201d tells you more."))
STOP_EMAILS = text("email.stop", "Stop emails about {kinds}: {link}")
CHOOSE = text("email.choose", "Choose how you are told: {link}")
OPEN_IT = text("email.open_it", "Open it: {link}")
JOIN = text("email.join", "Join: {link}")
ADD_TO_GOOGLE = text("email.add_to_google", "Add it to Google Calendar: {link}")
ADD_TO_OUTLOOK = text("email.add_to_outlook", "Add it to Outlook: {link}")
MOVE_IT = text("email.move_it", "Move it to another time (free; the other side accepts it): {link}")
CANCEL_IT = text("email.cancel_it", "Cancel it (the page shows what it costs before anything happens): {link}")
A_SESSION = text("email.a_session", "Mentorship session")
MAX_EMAIL_ATTEMPTS = 5
# How long a booking's confirmation waits for its session (made by the sessions worker from the same event).
SESSION_WAIT = timedelta(seconds=30)


class EmailWaits(Exception):
    """The email waits for what another worker is still doing: it is sent again in ``countdown`` seconds, untouched
    meanwhile."""

    countdown = 1


class SessionNotMade(EmailWaits):
    """A confirmation's meeting has no session yet."""


class PublicationUnderWay(EmailWaits):
    """A pairing's proposal waits for the rest of its publication (``workflows.notifications.together``)."""

    countdown = 5


def invited_bookings(event_type: str, resource: Mapping[str, Any]) -> list[uuid.UUID]:
    """The bookings whose calendar invite a notification's email carries: a booking accepted or moved, a seat given
    from a waitlist, each time accepted of a series; none for any other notification."""
    if event_type == EventType.BOOKING_SERIES_ACCEPTED:
        found = [one.get("booking_id") for one in resource.get("occurrences", [])
                 if one.get("status") == BookingStatus.ACCEPTED]
    elif event_type == EventType.WAITLIST_PROMOTED:
        found = [resource.get("booking_id")]
    elif event_type in {EventType.BOOKING_ACCEPTED, EventType.BOOKING_RESCHEDULED}:
        found = [resource.get("id")]
    else:
        return []
    return [uuid.UUID(str(one)) for one in found if one]


def _upcoming(booking_ids: Sequence[uuid.UUID]) -> Any:
    """Whether any of these bookings is accepted and still to come."""
    return exists().where(Booking.id.in_(booking_ids), Booking.status == BookingStatus.ACCEPTED,
                          Booking.start_time > func.now())


def _session_owed(db: Session, notification: Notification, booking_ids: Sequence[uuid.UUID]) -> bool:
    """Whether the email should wait for a session the sessions worker has not made yet (not past ``SESSION_WAIT``)."""
    if not booking_ids or notification.created_at <= utcnow() - SESSION_WAIT:
        return False
    return bool(db.scalar(select(_upcoming(booking_ids).where(
        Booking.group_session_id.is_(None),
        ~exists().where(MentorshipSession.booking_id == Booking.id)))))


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
    # Read under a share lock: a confirmation of the address (which updates the row) comes before or after this,
    # never between the check and the status it leads to.
    email, verified, locale = db.execute(select(User.email, User.email_verified_at.is_not(None), User.locale)
                                         .where(User.id == notification.user_id).with_for_update(read=True)).one()
    invited = invited_bookings(notification.type, notification.data.get("resource", {}))
    if not verified:  # an address nobody confirmed gets no mail but its confirmation and reset links
        held = bool(invited) and bool(db.scalar(select(_upcoming(invited))))
        notification.email_status = EmailStatus.UNCONFIRMED if held else EmailStatus.NONE
        log.info("notification.email_unverified", notification_id=str(notification.id), held=held)
        return False
    choice = preferences.email_for(db, notification.user_id, notification.type)
    if choice != EmailChoice.NOW:  # its reader chose a digest for its kind, or no email
        notification.email_status = EmailStatus.NONE if choice == EmailChoice.OFF else EmailStatus.DIGEST
        log.info("notification.email_by_choice", notification_id=str(notification.id), choice=choice.value)
        return False
    if _session_owed(db, notification, invited):
        raise SessionNotMade(str(notification.id))
    if together.publication_under_way(db, notification):
        raise PublicationUnderWay(str(notification.id))
    # A notice to the address the account had before (an email change): sent there, not to the new one.
    email = notification.data.get(EMAIL_TO) or email
    carried = [notification, *together.proposed_with(db, notification)]
    read = shown(db, carried)  # in the zone and locale the reader has now
    subject = read[0].title if len(read) == 1 else wording.say(MANY_PROPOSED, locale, count=len(read))  # a mentor's
    attachments = email_attachments(db, notification)
    # Calendar apps act on one calendar object a message (its first part): a message of many sessions lists them,
    # and each one's invitation or cancellation follows in a message of its own, which calendar apps act on.
    apart = [one for one in attachments if one.subtype == "calendar"] if len(attachments) > 1 else []
    notification.email_attempts += 1
    stop = preferences.unsubscribe_url(notification.user_id, [preferences.kind_of(notification.type)])
    headers = preferences.list_unsubscribe_headers(stop)
    try:
        send_email(settings.smtp_url, sender=settings.smtp_from, to=email or "", subject=subject,
                   body="\n\n".join(email_body(one, settings.public_url, locale) for one in read)
                   + action_lines(db, notification)
                   + choice_lines(stop, [preferences.kind_of(notification.type)], locale),
                   message_id=str(notification.id), attachments=[one for one in attachments if one not in apart],
                   headers=headers)
        for n, calendar in enumerate(apart, 1):
            words = calendar_words(calendar, db.get_one(User, notification.user_id), subject)
            send_email(settings.smtp_url, sender=settings.smtp_from, to=email or "", subject=words[0], body=words[1],
                       message_id=f"{notification.id}-{n}", attachments=[calendar], headers=headers)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("notification.email_failed", notification_id=str(notification.id), error=str(exc),
                    attempts=notification.email_attempts)
        if notification.email_attempts >= MAX_EMAIL_ATTEMPTS:
            notification.email_status = EmailStatus.FAILED
        return False
    for one in carried:
        one.email_status = EmailStatus.SENT
    log.info("notification.emailed", notification_id=str(notification.id), carried=len(carried) - 1)
    return True


def calendar_words(calendar: Attachment, reader: User, about: str) -> tuple[str, str]:
    """The subject and text of a message that carries one calendar object of a message about many sessions: what it
    does, to which meeting, at what time in the reader's zone and locale."""
    from icalendar import Calendar  # noqa: PLC0415 - icalendar (3 MB) loads where a calendar is read or written

    (event,) = Calendar.from_ical(calendar.content).walk("VEVENT")
    cancelled = dict(calendar.params).get("method") == "CANCEL"
    when = wording.when(event.decoded("DTSTART"), reader.timezone, reader.locale)
    title = wording.say(CANCELLED if cancelled else INVITATION, reader.locale, summary=str(event.get("SUMMARY")),
                        when=when)
    return title, wording.say(CALENDAR_BODY, reader.locale, title=title, about=about)


def choice_lines(stop: str | None, kinds: Sequence[Telling], locale: str | None) -> str:
    """The end of an email, in its reader's language: the link that stops its kinds of email (none for account
    security), and where the reader chooses how they are told."""
    lines = "\n\n--\n" + wording.say(STOP_EMAILS, locale, kinds=preferences.named(kinds, locale), link=stop) \
        if stop else "\n\n--"
    return lines + "\n" + wording.say(CHOOSE, locale, link=f"{get_settings().public_url}/#/settings")


def email_body(notification: Shown, public_url: str, locale: str | None) -> str:
    """The notification's words, and the address of what it is about in the web app."""
    link = notification.data.get("link")
    if not link:
        return notification.body
    return f"{notification.body}\n\n" + wording.say(OPEN_IT, locale, link=f"{public_url}/{link}")


def action_lines(db: Session, notification: Notification) -> str:
    """A confirmation's links that add the meeting to Google Calendar or Outlook (the invite is attached too), and a
    confirmation's or a reminder's signed links to move it (a one-to-one meeting) or cancel it without signing in (its
    page shows the free times, or what cancelling costs, and only its button acts: ``workflows.bookings.links``);
    nothing for other notifications."""
    booking = links.booking_for(db, notification.user_id, notification.type, notification.data.get("resource", {}))
    user = db.get(User, notification.user_id)
    if booking is None or user is None or booking.start_time <= utcnow():
        return ""
    lines, locale = "", user.locale
    if notification.type != EventType.SESSION_REMINDER:
        title, location = db.execute(select(Listing.title, Listing.location)
                                     .where(Listing.id == booking.listing_id)).one()
        join, page = _meeting(db, booking, location)
        details = wording.say(JOIN, locale, link=join) + "\n" if join else ""
        google, outlook = add_links(title or wording.say(A_SESSION, locale), booking.start_time, booking.end_time,
                                    details + wording.say(OPEN_IT, locale, link=page), location=join)
        lines += (f"\n\n{wording.say(ADD_TO_GOOGLE, locale, link=google)}"
                  f"\n{wording.say(ADD_TO_OUTLOOK, locale, link=outlook)}")
    if booking.group_session_id is None:  # a seat in a group session is left, not moved
        lines += "\n\n" + wording.say(MOVE_IT, locale, link=links.move_url(user, booking))
    return lines + "\n\n" + wording.say(CANCEL_IT, locale, link=links.cancel_url(user, booking))


def _meeting(db: Session, booking: Booking, location: str | None) -> tuple[str | None, str]:
    """Where a booking's meeting is joined (its session's meeting link, when it has one) and its page in the web app:
    its session's (the list of bookings only while no session exists)."""
    session = db.get(MentorshipSession, booking.group_session_id) if booking.group_session_id else db.scalar(
        select(MentorshipSession).where(MentorshipSession.booking_id == booking.id))
    public_url = get_settings().public_url
    if session is None:
        return (location if location and location.startswith("https://") else None), f"{public_url}/#/bookings"
    return meeting_url(session, location, get_settings().meeting_url_template), f"{public_url}/#/sessions/{session.id}"


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
    booking_ids = invited_bookings(notification.type, resource)
    invites = [booking_invite(db, notification.user_id, one) for one in booking_ids]
    return [invite_attachment(invite, f"invite-{n}.ics" if len(booking_ids) > 1 else "invite.ics")
            for n, invite in enumerate(invites, 1) if invite is not None]


def send_held(db: Session, user_id: uuid.UUID) -> int:
    """The person's address was just confirmed: the confirmations held for it go now, once, those of meetings still
    to come (a booking accepted, moved, a seat given, a series); the rest held is dropped. How many go."""
    db.flush()  # the confirmation is written (and its row locked) before the held emails are read
    held = db.scalars(select(Notification).where(Notification.user_id == user_id,
                                                 Notification.email_status == EmailStatus.UNCONFIRMED)).all()
    owed = 0
    for notification in held:
        invited = invited_bookings(notification.type, notification.data.get("resource", {}))
        if get_settings().smtp_url and invited and db.scalar(select(_upcoming(invited))):
            notification.email_status = EmailStatus.PENDING
            enqueue_after_commit(db, SEND_EMAIL_TASK, str(notification.id))
            owed += 1
        else:
            notification.email_status = EmailStatus.NONE
    if held:
        log.info("notification.held_emails_released", user_id=str(user_id), sent=owed, dropped=len(held) - owed)
    return owed


def due_emails(db: Session, *, older_than_seconds: int = 60, limit: int = 200) -> list[uuid.UUID]:
    """Emails still owed a while after their notification: their first message was lost or failed."""
    return list(db.scalars(
        select(Notification.id)
        .where(Notification.email_status == EmailStatus.PENDING,
               Notification.created_at <= func.now() - timedelta(seconds=older_than_seconds))
        .order_by(Notification.created_at).limit(limit)
    ))
