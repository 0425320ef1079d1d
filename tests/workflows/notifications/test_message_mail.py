"""Messages by email (``workflows/notifications/message_mail.py``), against a real SMTP server: an unread message is
emailed once its delay has passed, with its words as plain text, a link back and a one-click unsubscribe; a second
one in the hour waits for the hour; one read before its delay, to a reader who chose a digest or nothing, or in a
conversation its reader muted, is not emailed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import BookingStatus, ConversationRead, EmailChoice, OutboxEvent, Telling, User
from tests.factories.accounts import actor_of
from tests.factories.bookings import BookingFactory
from tests.mail import Mailbox
from workflows.conversations import conversations, messages
from workflows.events import EventType
from workflows.notifications import message_mail, preferences


@pytest.fixture
def quick(configure: Callable[..., None], mailbox: Mailbox) -> Mailbox:
    configure(MESSAGE_EMAIL_DELAY="1")
    return mailbox


def _pair(db: Session) -> tuple[User, User, str]:
    """A mentor and a mentee who share a booking, and their conversation's id."""
    booking = BookingFactory(status=BookingStatus.ACCEPTED)
    mentee = db.get_one(User, booking.mentee_user_id)
    mentor = booking.listing.mentor_profile.user
    conversation = conversations.open_with(db, actor_of(mentee), mentor.id)
    return mentor, mentee, str(conversation.id)


def _write(db: Session, writer: User, conversation_id: str, words: str) -> None:
    """A message, and its handler's work: its other people owe an email."""
    messages.send(db, actor_of(writer), uuid.UUID(conversation_id), body=words)
    events = db.scalars(select(OutboxEvent).where(OutboxEvent.type == EventType.MESSAGE_CREATED,
                                                  OutboxEvent.payload["conversation_id"].astext == conversation_id)
                        .order_by(OutboxEvent.created_at.desc()).limit(1)).all()
    message_mail.owe(db, events)


def _deliver_due(db: Session) -> int:
    return sum(message_mail.deliver(db, conversation, user) for conversation, user in message_mail.due(db))


def test_an_unread_message_is_emailed_after_its_delay_once_an_hour(db: Session, quick: Mailbox) -> None:
    mentor, mentee, conversation = _pair(db)
    _write(db, mentee, conversation, "Could we look at *my outline*?\nIt is [here](https://example.com/o)")
    assert _deliver_due(db) == 0  # not yet: it waits its delay
    time.sleep(1.2)
    assert _deliver_due(db) == 1
    (sent,) = quick.inbox.to(mentor.email)
    assert sent["Subject"] == f"A new message: {mentee.display_name}"
    text = sent.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert "Could we look at *my outline*?\nIt is [here](https://example.com/o)" in text  # plain text: the source
    assert f"/#/conversations/{conversation}" in text
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent["List-Unsubscribe"].startswith("<http") and "/unsubscribe?token=" in sent["List-Unsubscribe"]
    assert quick.inbox.to(mentee.email) == []  # the writer is not mailed their own words

    _write(db, mentee, conversation, "And the demo, too.")
    time.sleep(1.2)
    assert _deliver_due(db) == 0  # within the hour of the last email: it waits for the hour
    owed = db.scalar(select(ConversationRead).where(ConversationRead.user_id == mentor.id))
    assert owed is not None and owed.emailed_at is not None and owed.email_due_at is not None
    assert owed.email_due_at - owed.emailed_at >= message_mail.AT_MOST_EVERY
    assert len(quick.inbox.to(mentor.email)) == 1


def test_a_message_read_before_its_delay_is_not_emailed(db: Session, quick: Mailbox) -> None:
    mentor, mentee, conversation = _pair(db)
    _write(db, mentee, conversation, "Are you free on Friday?")
    messages.read_up_to(db, actor_of(mentor), uuid.UUID(conversation), None)
    time.sleep(1.2)
    assert _deliver_due(db) == 0
    assert quick.inbox.messages == []
    assert message_mail.due(db) == []  # cleared, not left to be tried again


@pytest.mark.parametrize("choice", [EmailChoice.DAILY, EmailChoice.OFF])
def test_a_reader_who_chose_a_digest_or_nothing_gets_no_message_email(db: Session, quick: Mailbox,
                                                                      choice: EmailChoice) -> None:
    mentor, mentee, conversation = _pair(db)
    preferences.choose(db, mentor.id, {Telling.MESSAGES: choice})
    _write(db, mentee, conversation, "Hello")
    time.sleep(1.2)
    assert _deliver_due(db) == 0
    assert quick.inbox.messages == []


def test_a_message_to_someone_whose_address_is_not_confirmed_is_not_emailed(db: Session, quick: Mailbox) -> None:
    mentor, mentee, conversation = _pair(db)
    mentor.email_verified_at = None
    db.flush()
    _write(db, mentee, conversation, "Hello")
    time.sleep(1.2)
    assert _deliver_due(db) == 0
    assert quick.inbox.messages == []


def test_a_muted_conversation_is_not_emailed_even_when_an_email_was_owed(db: Session, quick: Mailbox) -> None:
    mentor, mentee, conversation = _pair(db)
    _write(db, mentee, conversation, "Are you free on Friday?")
    messages.mute(db, actor_of(mentor), uuid.UUID(conversation), muted=True)
    _write(db, mentee, conversation, "Or Saturday?")
    assert message_mail.due(db) == []  # muting dropped the email owed, and the next message owes none
    # Owed all the same (a mute committed between the handler's read and its write): the send looks again.
    owed = db.scalars(select(ConversationRead).where(ConversationRead.user_id == mentor.id)).one()
    owed.email_due_at = owed.read_at
    db.flush()
    time.sleep(1.2)
    assert _deliver_due(db) == 0
    assert quick.inbox.messages == []
    messages.mute(db, actor_of(mentor), uuid.UUID(conversation), muted=False)
    _write(db, mentee, conversation, "Or Sunday?")
    time.sleep(1.2)
    assert _deliver_due(db) == 1  # heard again: mailed as before
