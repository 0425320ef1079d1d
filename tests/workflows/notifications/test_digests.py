"""Digests (``workflows/notifications/digests.py``), against a real SMTP server: what a person chose a daily or weekly
digest for is held, then gathered in one email a period with the messages they have not read, in their zone, once
(two workers at once send one); a period with nothing to tell sends nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import BookingStatus, DigestPeriod, EmailChoice, EmailDigest, EmailStatus, Notification, Telling, User
from tests.concurrency import concurrently
from tests.domain_calls import notice
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.mail import Mailbox
from workflows import inbox
from workflows.actors import Actor
from workflows.conversations import conversations, messages
from workflows.notifications import digests, mail, preferences


def _held(db: Session, user: User, title: str, type_: str = "booking.accepted") -> uuid.UUID:
    made = inbox.notify_user(db, user.id, type_=type_, said=notice(title, "Thursday at ten"),
                             data={"resource": {"id": str(uuid.uuid4())}, "link": "#/bookings"})
    assert made is not None
    mail.deliver_email(db, made)
    return made


def _text(message: object) -> str:
    return message.get_payload(decode=True).decode().replace("\r\n", "\n")  # type: ignore[attr-defined]


def test_a_daily_digest_gathers_what_was_held_and_the_unread_messages_once(db: Session, mailbox: Mailbox) -> None:
    booking = BookingFactory(status=BookingStatus.ACCEPTED)
    mentee = db.get_one(User, booking.mentee_user_id)
    mentor = booking.listing.mentor_profile.user
    mentor.timezone = "Asia/Tokyo"
    preferences.choose(db, mentor.id, {Telling.BOOKINGS: EmailChoice.DAILY, Telling.MESSAGES: EmailChoice.DAILY})
    first, second = _held(db, mentor, "Booking confirmed"), _held(db, mentor, "Booking moved")
    read = _held(db, mentor, "Booking read already")
    inbox.mark_read(db, actor_of(mentor), read)
    conversation = conversations.open_with(db, actor_of(mentee), mentor.id)
    for words in ("Hello", "Are you free on Friday?"):
        messages.send(db, actor_of(mentee), conversation.id, body=words)
    # A second mentee's conversation, muted: it stays out of the digest.
    other = BookingFactory(status=BookingStatus.ACCEPTED, listing=booking.listing,
                           start_time=booking.start_time + timedelta(days=1),
                           end_time=booking.end_time + timedelta(days=1))
    muted = conversations.open_with(db, actor_of(mentor), other.mentee_user_id)
    messages.send(db, Actor(other.mentee_user_id), muted.id, body="Muted words")
    messages.mute(db, actor_of(mentor), muted.id, muted=True)
    assert mailbox.inbox.messages == []  # all of it held
    assert {db.get_one(Notification, one).email_status for one in (first, second)} == {EmailStatus.DIGEST}

    assert (mentor.id, DigestPeriod.DAILY) in digests.due(db)
    assert digests.send(db, mentor.id, DigestPeriod.DAILY) is True
    (sent,) = mailbox.inbox.to(mentor.email)
    assert sent["Subject"] == "Your daily digest: 4 updates"  # two notifications, two messages
    text = _text(sent)
    assert f"- {mentee.display_name}: 2 new — http" in text and f"/#/conversations/{conversation.id}" in text
    assert "- Booking confirmed: Thursday at ten" in text and "- Booking moved: Thursday at ten" in text
    assert "Booking read already" not in text
    assert db.get_one(User, other.mentee_user_id).display_name not in text  # muted
    assert "Stop emails about bookings and sessions and messages: http" in text
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {db.get_one(Notification, one).email_status for one in (first, second)} == {EmailStatus.SENT}

    assert digests.send(db, mentor.id, DigestPeriod.DAILY) is False  # once a period
    assert (mentor.id, DigestPeriod.DAILY) not in digests.due(db)
    (row,) = db.scalars(select(EmailDigest).where(EmailDigest.user_id == mentor.id)).all()
    assert (row.items, row.subject) == (4, sent["Subject"])
    # The day is the reader's own: Tokyo's date from 08:00 there.
    assert row.starts_on == db.scalar(select(digests._starts_on(DigestPeriod.DAILY)).where(User.id == mentor.id))
    # The unsubscribe link of a digest stops both kinds it carried.
    token = sent["List-Unsubscribe"].strip("<>").split("token=", 1)[1]
    preferences.unsubscribe(db, token)
    assert preferences.chosen(db, mentor.id)[Telling.MESSAGES] == EmailChoice.OFF
    assert preferences.chosen(db, mentor.id)[Telling.BOOKINGS] == EmailChoice.OFF
    assert preferences.chosen(db, mentor.id)[Telling.REMINDERS] == EmailChoice.NOW


def test_a_weekly_digest_and_a_period_with_nothing_to_tell(db: Session, mailbox: Mailbox) -> None:
    weekly, quiet = UserFactory(), UserFactory(timezone="Mars/Olympus_Mons")  # a zone PostgreSQL does not know
    preferences.choose(db, weekly.id, {Telling.PROGRAMMES: EmailChoice.WEEKLY})
    preferences.choose(db, quiet.id, {Telling.PROGRAMMES: EmailChoice.DAILY})
    _held(db, weekly, "Pairing proposed", "pairing.proposed")
    assert digests.send(db, weekly.id, DigestPeriod.WEEKLY) is True
    assert mailbox.inbox.to(weekly.email)[0]["Subject"] == "Your weekly digest: 1 update"
    assert digests.send(db, quiet.id, DigestPeriod.DAILY) is False  # nothing: no email, and its period is done
    assert mailbox.inbox.to(quiet.email) == []
    assert (quiet.id, DigestPeriod.DAILY) not in digests.due(db)  # read as UTC's day, not a failure for everyone


def test_two_workers_at_once_send_one_digest(committed: sessionmaker[Session], mailbox: Mailbox) -> None:
    with committed() as seed:
        person = UserFactory.build()
        seed.add(person)
        seed.flush()
        preferences.choose(seed, person.id, {Telling.BOOKINGS: EmailChoice.DAILY})
        _held(seed, person, "Booking confirmed")
        seed.commit()

    def send() -> int:
        with committed() as db:
            sent = digests.send(db, person.id, DigestPeriod.DAILY)
            db.commit()
            return int(sent)

    assert sorted(concurrently([send, send, send])) == [0, 0, 1]
    assert len(mailbox.inbox.to(person.email)) == 1
