"""Digests: for those who chose one for a kind of news, one email a day (or a week) that gathers what they have not
read of it: the notifications held for it (``EmailStatus.DIGEST``) and, when they chose a digest for messages, the
conversations with messages they have not read since the period before.

A day's digest goes from 08:00 in the reader's zone (UTC if they chose none), a week's from Monday 08:00; its period
is named by its first day (``starts_on``), computed by the database from the reader's zone. The beat looks every
few minutes (:func:`due`) and each digest is written in its own transaction (:func:`send`): its row
(``email_digests``, one per person, period and first day) is inserted first, so a second worker waits for the first
and then finds it done; the email is handed to the mail server before the commit, with a Message-ID of its own, so a
worker killed between the two sends it again once, which mail systems drop. A period with nothing to tell writes
its row and sends nothing.
"""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import structlog
from sqlalchemy import Date, case, cast, column, exists, func, literal, select, table, union_all, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from infra.config import get_settings
from infra.smtp import send_email
from models import (
    DigestPeriod,
    EmailChoice,
    EmailDigest,
    EmailStatus,
    Notification,
    NotificationPreference,
    Telling,
    User,
)
from workflows import wording
from workflows.actors import Actor
from workflows.conversations import conversations
from workflows.inbox import shown
from workflows.language import text
from workflows.notifications import preferences
from workflows.notifications.mail import choice_lines
from workflows.wording import zone_of

log = structlog.get_logger(__name__)

SEND_TASK = "notifications.send_digest"
SENT_FROM_HOUR = 8
SUBJECTS = {
    DigestPeriod.DAILY: text("digest.subject.daily", "Your daily digest: {count} update",
                             plural="Your daily digest: {count} updates"),
    DigestPeriod.WEEKLY: text("digest.subject.weekly", "Your weekly digest: {count} update",
                              plural="Your weekly digest: {count} updates"),
}
UNREAD_MESSAGES = text("digest.unread_messages", "Messages you have not read:")
CONVERSATION_LINE = text("digest.conversation", "{title}: {count} new \u2014 {link}",
                         plural="{title}: {count} new \u2014 {link}")
WHAT_HAPPENED = text("digest.what_happened", "What happened:")
AND_MORE = text("digest.and_more", "\u2026 and {count} more: {link}", plural="\u2026 and {count} more: {link}")
MAX_ITEMS = 50  # a digest lists this many notifications at most (the rest: "and N more")
_ZONES = table("pg_timezone_names", column("name"))
LENGTH = {DigestPeriod.DAILY: timedelta(days=1), DigestPeriod.WEEKLY: timedelta(days=7)}


def _starts_on(period: DigestPeriod) -> ColumnElement[date]:
    """SQL: the first day of the reader's current period, in their zone (a day from 08:00; a week from Monday 08:00)."""
    # A zone PostgreSQL does not know (its time zone data older than Python's) reads as UTC, rather than failing
    # every reader's digest.
    known = select(_ZONES.c.name).scalar_subquery()
    zone = case((User.timezone.in_(known), User.timezone), else_=literal("UTC"))
    local = func.timezone(zone, func.now()) - timedelta(hours=SENT_FROM_HOUR)
    first = local if period == DigestPeriod.DAILY else func.date_trunc("week", local)
    return cast(first, Date)


def due(db: Session, *, limit: int = 200) -> list[tuple[uuid.UUID, DigestPeriod]]:
    """The people whose digest of the current period is owed: they chose one for some kind, and none was written
    for this period yet."""
    found = []
    for period in DigestPeriod:
        starts_on = _starts_on(period)
        found.append(select(User.id, literal(period.value)).where(
            exists().where(NotificationPreference.user_id == User.id,
                           NotificationPreference.email == EmailChoice(period.value)),
            User.deleted_at.is_(None),
            ~exists().where(EmailDigest.user_id == User.id, EmailDigest.period == period,
                            EmailDigest.starts_on == starts_on)).limit(limit))
    return [(row[0], DigestPeriod(row[1])) for row in db.execute(union_all(*found))]


@dataclass(frozen=True)
class Gathered:
    notifications: list[Notification]
    conversations: list[tuple[str, int, uuid.UUID]]  # title, unread, id


def _gather(db: Session, reader: User, period: DigestPeriod, since: datetime) -> Gathered:
    """What the digest tells: the notifications held for a digest of a kind on this period (the reader's choice now;
    one held for a kind now mailed at once goes in the day's), unread; and, if messages are on this period, the
    conversations (of the latest ``conversations.MAX_LISTED``) with messages the reader has not read, written to
    since ``since``."""
    choices = preferences.chosen(db, reader.id)
    kinds = {kind for kind, choice in choices.items() if choice == EmailChoice(period.value)
             or (period == DigestPeriod.DAILY and choice == EmailChoice.NOW)}
    held = [one for one in db.scalars(select(Notification).where(
        Notification.user_id == reader.id, Notification.email_status == EmailStatus.DIGEST,
        Notification.read_at.is_(None)).order_by(Notification.created_at)) if preferences.kind_of(one.type) in kinds]
    talked: list[tuple[str, int, uuid.UUID]] = []
    if choices[Telling.MESSAGES] == EmailChoice(period.value):
        talked = [(one.title, one.unread, one.id) for one in conversations.listed(db, Actor(reader.id))
                  if one.unread and not one.muted and one.last_message_at is not None
                  and one.last_message_at >= since]
    return Gathered(held, talked)


def _body(db: Session, gathered: Gathered, public_url: str, locale: str | None) -> str:
    lines: list[str] = []
    if gathered.conversations:
        lines.append(wording.say(UNREAD_MESSAGES, locale))
        lines += ["- " + wording.say(CONVERSATION_LINE, locale, title=title, count=unread,
                                     link=f"{public_url}/#/conversations/{one}")
                  for title, unread, one in gathered.conversations]
    if gathered.notifications:
        if lines:
            lines.append("")
        lines.append(wording.say(WHAT_HAPPENED, locale))
        for one in shown(db, gathered.notifications[:MAX_ITEMS]):
            link = one.data.get("link")
            lines.append(f"- {one.title}: {one.body}" + (f"\n  {public_url}/{link}" if link else ""))
        if len(gathered.notifications) > MAX_ITEMS:
            lines.append(wording.say(AND_MORE, locale, count=len(gathered.notifications) - MAX_ITEMS,
                                     link=f"{public_url}/#/notifications"))
    return "\n".join(lines)


def send(db: Session, user_id: uuid.UUID, period: DigestPeriod) -> bool:
    """Write the person's digest of the current period, once: ``True`` when one was emailed now."""
    settings = get_settings()
    reader = db.get(User, user_id)
    if reader is None or not settings.smtp_url:
        return False
    starts_on = db.execute(select(_starts_on(period)).where(User.id == user_id)).scalar_one()
    written = db.execute(insert(EmailDigest).values(
        user_id=user_id, period=period, starts_on=starts_on, items=0, subject="")
        .on_conflict_do_nothing().returning(EmailDigest.user_id)).scalar_one_or_none()
    if written is None:
        return False  # another worker wrote it
    zone = zone_of(reader.timezone) or UTC
    since = datetime.combine(starts_on, time(SENT_FROM_HOUR), tzinfo=zone) - LENGTH[period]
    gathered = _gather(db, reader, period, since)
    items = len(gathered.notifications) + sum(unread for _, unread, _ in gathered.conversations)
    if reader.email_verified_at is None or reader.disabled_at is not None:
        for one in gathered.notifications:  # an address nobody confirmed gets none of them
            one.email_status = EmailStatus.NONE
        return False
    if not items:
        return False
    subject = wording.say(SUBJECTS[period], reader.locale, count=items)
    kinds = [kind for kind, choice in preferences.chosen(db, user_id).items() if choice == EmailChoice(period.value)]
    stop = preferences.unsubscribe_url(user_id, kinds)
    body = _body(db, gathered, settings.public_url, reader.locale) + choice_lines(stop, kinds, reader.locale)
    try:
        send_email(settings.smtp_url, sender=settings.smtp_from, to=reader.email, subject=subject, body=body,
                   message_id=f"digest-{user_id}-{period.value}-{starts_on.isoformat()}",
                   headers=preferences.list_unsubscribe_headers(stop))
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("digest.email_failed", user_id=str(user_id), error=str(exc))
        raise  # nothing written: the next look sends it
    db.execute(update(EmailDigest).where(EmailDigest.user_id == user_id, EmailDigest.period == period,
                                         EmailDigest.starts_on == starts_on).values(items=items, subject=subject))
    for one in gathered.notifications:
        one.email_status = EmailStatus.SENT
    log.info("digest.emailed", user_id=str(user_id), period=period.value, items=items)
    return True

