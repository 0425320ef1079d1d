"""Email of notifications (``workflows/notifications/mail.py``), called directly against a real SMTP server or none:
an unconfirmed address is owed nothing; a server that never takes the message is tried five times, then given up."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from devstack.host import free_port
from infra.config import get_settings
from models import AccountToken, BookingStatus, EmailStatus, Notification, User
from tests.domain_calls import notice
from tests.factories.accounts import PASSWORD, UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.sessions import make_session
from tests.mail import Mailbox
from workflows import inbox
from workflows.accounts import emails as account_emails
from workflows.events import EventType
from workflows.notifications import mail
from workflows.sessions import lifecycle as sessions
from workflows.sessions.lifecycle import meeting_url


@pytest.fixture
def smtp_down(configure: Callable[..., None]) -> None:
    """Email is configured, and its server refuses every connection."""
    configure(SMTP_URL=f"smtp://127.0.0.1:{free_port()}")


@pytest.mark.usefixtures("smtp_down")
def test_an_unconfirmed_address_is_owed_no_email(db: Session) -> None:
    user = UserFactory(email_verified_at=None)
    made = inbox.notify_user(db, user.id, type_="team.left", said=notice("t", "b"), data={})
    assert made is not None
    assert db.get_one(Notification, made).email_status == EmailStatus.PENDING
    assert mail.deliver_email(db, made) is False
    assert db.get_one(Notification, made).email_status == EmailStatus.NONE


@pytest.mark.usefixtures("smtp_down")
def test_an_email_the_server_never_takes_is_tried_five_times_then_given_up(db: Session) -> None:
    user = UserFactory()
    made = inbox.notify_user(db, user.id, type_="team.left", said=notice("t", "b"), data={})
    assert made is not None
    row = db.get_one(Notification, made)
    for attempt in range(1, mail.MAX_EMAIL_ATTEMPTS + 1):
        assert row.email_status == EmailStatus.PENDING
        assert mail.deliver_email(db, made) is False
        assert row.email_attempts == attempt
    assert row.email_status == EmailStatus.FAILED
    assert mail.deliver_email(db, made) is False  # no longer owed
    assert row.email_attempts == mail.MAX_EMAIL_ATTEMPTS
    assert db.get_one(User, user.id).email_verified_at is not None


def booking_notice(db: Session, user_id: uuid.UUID, booking_id: uuid.UUID, title: str) -> uuid.UUID:
    made = inbox.notify_user(db, user_id, type_=EventType.BOOKING_ACCEPTED, said=notice(title, "b"),
                             data={"resource": {"id": str(booking_id)}})
    assert made is not None
    return made


def send_owed(db: Session, user_id: uuid.UUID) -> None:
    """What the worker does after a commit: each email owed sent."""
    for notification_id in db.scalars(select(Notification.id).where(Notification.user_id == user_id,
                                                                    Notification.email_status == EmailStatus.PENDING)):
        mail.deliver_email(db, notification_id)


def confirm(db: Session, mailbox: Mailbox, user: User) -> None:
    """The person opens the confirmation link mailed to their address."""
    row = account_emails.request_verification(db, user)
    assert account_emails.deliver(db, row.id)
    account_emails.verify_email(db, mailbox.inbox.link(user.email, "verify-email"))


def test_confirming_an_address_sends_the_confirmations_of_upcoming_bookings_held_until_then_once(
        db: Session, mailbox: Mailbox) -> None:
    mentee = UserFactory(email_verified_at=None)
    soon = datetime.now(UTC) + timedelta(days=2)
    upcoming, passing, cancelled = (BookingFactory(mentee_user_id=mentee.id, status=BookingStatus.ACCEPTED,
                                                   start_time=soon + timedelta(hours=n)) for n in range(3))
    for booking in (upcoming, passing, cancelled):
        assert sessions.create_session_from_booking(db, booking.id) is not None
    notices = {title: booking_notice(db, mentee.id, booking.id, title) for title, booking in (
        ("Upcoming confirmed", upcoming), ("Passing confirmed", passing), ("Cancelled confirmed", cancelled))}
    other = inbox.notify_user(db, mentee.id, type_="team.left", said=notice("Team left", "b"), data={})
    send_owed(db, mentee.id)
    assert mailbox.inbox.to(mentee.email) == []  # the address is not confirmed: nothing goes yet
    # Meanwhile one time passes and another is cancelled.
    passing.start_time, passing.end_time = soon - timedelta(days=3), soon - timedelta(days=3) + timedelta(hours=1)
    cancelled.status = BookingStatus.CANCELLED
    db.flush()

    confirm(db, mailbox, mentee)
    send_owed(db, mentee.id)
    sent = [m for m in mailbox.inbox.to(mentee.email) if m["Subject"] != "Confirm your email address"]
    assert [m["Subject"] for m in sent] == ["Upcoming confirmed"]
    (invite,) = [part for part in sent[0].walk() if part.get_content_type() == "text/calendar"]
    (event,) = Calendar.from_ical(invite.get_payload(decode=True)).walk("VEVENT")
    assert str(event["UID"]) == f"{upcoming.id}@mentorship"
    assert {db.get_one(Notification, notices[title]).email_status for title in notices} == {
        EmailStatus.SENT, EmailStatus.NONE}
    assert db.get_one(Notification, other).email_status == EmailStatus.NONE  # not a booking's: nothing to send later

    # Confirmed again (a new address, confirmed from its link): nothing is sent twice.
    account_emails.change_email(db, actor_of(mentee), email="ada.new@example.com", current_password=PASSWORD)
    row = db.scalars(select(AccountToken).where(AccountToken.email == "ada.new@example.com")).one()
    assert account_emails.deliver(db, row.id)
    account_emails.verify_email(db, mailbox.inbox.link("ada.new@example.com", "verify-email"))
    send_owed(db, mentee.id)
    assert [m["Subject"] for m in mailbox.inbox.to("ada.new@example.com")] == ["Confirm your email address"]


def test_a_confirmations_calendar_links_carry_the_join_link_and_open_the_session(db: Session) -> None:
    _, mentee, session = make_session(db, datetime.now(UTC) + timedelta(days=2))
    notice = Notification(user_id=mentee.user.id, type=EventType.BOOKING_ACCEPTED, title="t", body="b",
                          data={"resource": {"id": str(session.booking_id)}})
    join = meeting_url(session, None, get_settings().meeting_url_template)
    assert join
    page = f"{get_settings().public_url}/#/sessions/{session.id}"
    lines = mail.action_lines(db, notice)
    google, outlook = (re.search(rf"{label}: (\S+)", lines).group(1)  # type: ignore[union-attr]
                       for label in ("Google Calendar", "Outlook"))
    for link, text in ((google, "details"), (outlook, "body")):
        query = parse_qs(urlsplit(link).query)
        assert join in query[text][0] and page in query[text][0], query
        assert query["location"] == [join]
    assert "#/bookings" not in lines


def test_an_address_confirmed_by_a_password_reset_gets_its_held_confirmation_too(
        db: Session, mailbox: Mailbox) -> None:
    mentee = UserFactory(email_verified_at=None)
    booking = BookingFactory(mentee_user_id=mentee.id, status=BookingStatus.ACCEPTED)
    assert sessions.create_session_from_booking(db, booking.id) is not None
    notice = booking_notice(db, mentee.id, booking.id, "Booking confirmed")
    send_owed(db, mentee.id)
    assert db.get_one(Notification, notice).email_status == EmailStatus.UNCONFIRMED
    account_emails.request_password_reset(db, mentee.email)
    row = db.scalars(select(AccountToken).where(AccountToken.user_id == mentee.id,
                                                AccountToken.email_status == EmailStatus.PENDING)).one()
    assert account_emails.deliver(db, row.id)
    account_emails.reset_password(db, mailbox.inbox.link(mentee.email, "reset-password"),
                                  "a new passphrase nobody guesses")
    send_owed(db, mentee.id)
    assert [m["Subject"] for m in mailbox.inbox.to(mentee.email)].count("Booking confirmed") == 1
