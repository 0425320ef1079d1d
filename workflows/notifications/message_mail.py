"""Messages by email: what someone has not read a while after it was written, at most one email a conversation an
hour, as plain text, to those who chose to be mailed messages at once (a digest carries them for those who chose one:
``workflows.notifications.digests``).

A message written (``message.created``) makes each other person's email of that conversation due (:func:`owe`:
``MESSAGE_EMAIL_DELAY`` after it, and never sooner than an hour after their last one; a due time already set stays;
a muted conversation owes none). The beat hands what is due to the workers (:func:`due`); each sends one
(:func:`deliver`), under the row's lock, if the reader still has messages unread there, and clears it (a mail server
away, it is tried again in a few minutes). A crash after the hand-off and before the commit sends it again once, with
the same Message-ID, which mail systems drop.
"""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Sequence
from datetime import timedelta

import structlog
from sqlalchemy import case, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.config import get_settings
from infra.smtp import send_email
from models import Conversation, ConversationRead, EmailChoice, Message, OutboxEvent, Telling, User
from workflows import wording
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.conversations import conversations
from workflows.conversations.messages import DELETED_ACCOUNT
from workflows.conversations.text import plain
from workflows.events import EventType
from workflows.language import text
from workflows.notifications import preferences
from workflows.notifications.mail import choice_lines

log = structlog.get_logger(__name__)

SEND_TASK = "notifications.send_message_email"
AT_MOST_EVERY = timedelta(hours=1)
NEW_MESSAGES = text("conversation.email.subject", "A new message: {title}", plural="{count} new messages: {title}")
REPLY = text("conversation.email.reply", "Reply: {link}")
SHOWN = 10  # the latest unread messages an email quotes
RETRY_AFTER = timedelta(minutes=5)


def owe(db: Session, events: Sequence[OutboxEvent]) -> int:
    """Each message's other people owe an email of its conversation (one statement; none to one who muted it); how
    many rows."""
    delay = timedelta(seconds=get_settings().message_email_delay_seconds)
    rows = {(uuid.UUID(event.payload["conversation_id"]), uuid.UUID(member))
            for event in events for member in event.payload["member_user_ids"]
            if member != event.payload.get("sender_user_id")}
    if not rows:
        return 0
    due_at = func.clock_timestamp() + delay
    statement = insert(ConversationRead).values([
        {"conversation_id": conversation_id, "user_id": user_id, "seq": 0, "email_due_at": due_at}
        for conversation_id, user_id in sorted(rows)])
    db.execute(statement.on_conflict_do_update(
        index_elements=["conversation_id", "user_id"],
        set_={"email_due_at": case((ConversationRead.muted_at.is_not(None), None), else_=func.coalesce(
            ConversationRead.email_due_at, func.greatest(due_at, ConversationRead.emailed_at + AT_MOST_EVERY)))}))
    return len(rows)


def due(db: Session, *, limit: int = 200) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """The (conversation, reader) emails due now, the longest due first."""
    return [(row[0], row[1]) for row in db.execute(
        select(ConversationRead.conversation_id, ConversationRead.user_id)
        .where(ConversationRead.email_due_at <= func.clock_timestamp())
        .order_by(ConversationRead.email_due_at).limit(limit))]


def _quoted(db: Session, conversation: Conversation, reader: User) -> list[str]:
    """The reader's unread messages (the latest ``SHOWN``, oldest first), each its writer, time and words."""
    read_up_to = db.scalar(select(ConversationRead.seq).where(
        ConversationRead.conversation_id == conversation.id, ConversationRead.user_id == reader.id)) or 0
    rows = db.execute(
        select(Message.body, Message.created_at, User.display_name).outerjoin(User, User.id == Message.sender_user_id)
        .where(Message.conversation_id == conversation.id, Message.seq > read_up_to, Message.deleted_at.is_(None),
               Message.sender_user_id.is_distinct_from(reader.id))
        .order_by(Message.seq.desc()).limit(SHOWN)).all()
    return [f"{name or DELETED_ACCOUNT}, {wording.when(at, reader.timezone, reader.locale)}:\n{plain(body or '')}"
            for body, at, name in reversed(rows)]


def deliver(db: Session, conversation_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Email the reader what they have not read in the conversation, if it is still due and owed; ``True`` when
    sent now."""
    settings = get_settings()
    owed = db.scalar(select(ConversationRead).where(
        tuple_(ConversationRead.conversation_id, ConversationRead.user_id) == (conversation_id, user_id),
        ConversationRead.email_due_at <= func.clock_timestamp()).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True))  # the row as locked, not as this session last saw it
    if owed is None:
        return False
    owed.email_due_at = None
    reader = db.get(User, user_id)
    conversation = db.get(Conversation, conversation_id)
    if not settings.smtp_url or reader is None or conversation is None or reader.email_verified_at is None \
            or reader.disabled_at is not None or reader.deleted_at is not None \
            or owed.muted_at is not None or user_id not in conversations.members(db, conversation) \
            or preferences.email_for(db, user_id, EventType.MESSAGE_CREATED) != EmailChoice.NOW:
        return False  # no mail, an account not confirmed or gone, muted, someone who left, or no email now chosen
    quoted = _quoted(db, conversation, reader)
    if not quoted:
        return False  # read meanwhile
    (listed,) = conversations.listed(db, Actor(user_id), only=conversation.id)
    subject = wording.say(NEW_MESSAGES, reader.locale, count=len(quoted), title=listed.title)
    stop = preferences.unsubscribe_url(user_id, [Telling.MESSAGES])
    body = ("\n\n".join(quoted) + "\n\n"
            + wording.say(REPLY, reader.locale, link=f"{settings.public_url}/#/conversations/{conversation.id}")
            + choice_lines(stop, [Telling.MESSAGES], reader.locale))
    try:
        send_email(settings.smtp_url, sender=settings.smtp_from, to=reader.email, subject=subject, body=body,
                   message_id=f"conversation-{conversation.id}-{user_id}-{conversation.last_seq}",
                   headers=preferences.list_unsubscribe_headers(stop))
    except (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
        owed.email_due_at = utcnow() + RETRY_AFTER  # the mail server away: tried again
        log.warning("conversation.email_failed", conversation_id=str(conversation.id), error=str(exc))
        return False
    except smtplib.SMTPException as exc:  # refused: given up, until the next message
        log.warning("conversation.email_refused", conversation_id=str(conversation.id), error=str(exc))
        return False
    owed.emailed_at = utcnow()
    log.info("conversation.emailed", conversation_id=str(conversation.id), user_id=str(user_id), messages=len(quoted))
    return True
