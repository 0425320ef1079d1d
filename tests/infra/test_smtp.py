"""Notifications emailed over SMTP, against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from sqlalchemy.orm import Session

from devstack.host import free_port
from infra.config import get_settings
from models import BookingStatus, Notification
from tests.domain_calls import notice
from tests.factories.accounts import UserFactory
from tests.factories.bookings import BookingFactory
from workflows import inbox, payloads
from workflows.notifications import mail, preferences
from workflows.sessions import lifecycle as sessions


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Inbox]]:
    received = Inbox()
    port = free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", received
    controller.stop()


def test_notification_is_emailed_once(db: Session, smtp_server: tuple[str, Inbox],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    url, received = smtp_server
    settings = dataclasses.replace(get_settings(), smtp_url=url, public_url="https://mentors.example.org")
    for module in (inbox, mail, preferences):
        monkeypatch.setattr(module, "get_settings", lambda: settings)
    user = UserFactory(email="ada@example.com")
    notification_id = inbox.notify_user(db, user.id, type_="booking.accepted", said=notice("Booking accepted",
                                                "Your session is confirmed."), data={"link": "#/bookings"})
    assert notification_id is not None
    assert mail.deliver_email(db, notification_id) is True
    assert mail.deliver_email(db, notification_id) is False
    (message,) = received.messages
    assert (message["To"], message["Subject"]) == ("ada@example.com", "Booking accepted")
    assert message["Message-ID"] == f"<{notification_id}@mentorship>"
    # The words, the address of what they are about in the web app, and (since each person chooses how they are
    # told) the link that stops this kind of email and where to choose.
    stop = message["List-Unsubscribe"].strip("<>")
    assert stop.startswith("https://mentors.example.org/unsubscribe?token=")
    assert message.get_payload(decode=True).decode().replace("\r\n", "\n").strip() == (
        "Your session is confirmed.\n\nOpen it: https://mentors.example.org/#/bookings\n\n--\n"
        f"Stop emails about bookings and sessions: {stop}\n"
        "Choose how you are told: https://mentors.example.org/#/settings")
    assert db.get(Notification, notification_id).email_status == "sent"


def test_unreachable_smtp_is_retried_then_given_up(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = dataclasses.replace(get_settings(), smtp_url=f"smtp://127.0.0.1:{free_port()}")
    for module in (inbox, mail):
        monkeypatch.setattr(module, "get_settings", lambda: settings)
    user = UserFactory()
    notification_id = inbox.notify_user(db, user.id, type_="x", said=notice("t", "b"), data={})
    assert notification_id is not None
    for _ in range(mail.MAX_EMAIL_ATTEMPTS):
        assert mail.deliver_email(db, notification_id) is False
    assert db.get(Notification, notification_id).email_status == "failed"


def test_without_smtp_nothing_is_owed(db: Session) -> None:
    user = UserFactory()
    notification_id = inbox.notify_user(db, user.id, type_="x", said=notice("t", "b"), data={})
    assert notification_id is not None
    assert db.get(Notification, notification_id).email_status == "none"


def _invite(message: Message) -> Any:
    """The invite as calendar services send theirs: the iMIP part an alternative of the text, in the message's first
    part (where Outlook looks for it), and the same object as a file beside it."""
    first = message.get_payload()[0]
    assert message.get_content_type() == "multipart/mixed" and first.get_content_type() == "multipart/alternative"
    parts = [part for part in first.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [part.get_content_type() for part in message.walk()]
    assert parts[0].get_param("method") == "REQUEST"
    files = [part for part in message.walk() if part.get_filename() == "invite.ics"]
    assert [part.get_content_type() for part in files] == ["application/ics"]
    assert files[0].get_payload(decode=True) == parts[0].get_payload(decode=True)
    return Calendar.from_ical(parts[0].get_payload(decode=True))


@pytest.mark.parametrize("session_created", [True, False])
def test_a_booking_acceptance_email_carries_a_calendar_invite(
    db: Session, smtp_server: tuple[str, Inbox], monkeypatch: pytest.MonkeyPatch, session_created: bool,
) -> None:
    """With the session already created, or not yet (its handler runs beside this one: the email waits for it a
    moment, then goes without its meeting link): the same UID."""
    url, received = smtp_server
    settings = dataclasses.replace(get_settings(), smtp_url=url)
    for module in (inbox, mail):
        monkeypatch.setattr(module, "get_settings", lambda: settings)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    booking = BookingFactory(status=BookingStatus.ACCEPTED, start_time=start, end_time=start + timedelta(hours=1))
    if session_created:
        session = sessions.create_session_from_booking(db, booking.id)
        assert session is not None
    notification_id = inbox.notify_user(
        db, booking.mentee_user_id, type_="booking.accepted", said=notice("Booking accepted", "Confirmed."),
        data={"event_type": "booking.accepted", "resource": payloads.booking_payload(booking)})
    assert notification_id is not None
    if not session_created:
        with pytest.raises(mail.SessionNotMade):
            mail.deliver_email(db, notification_id)
        assert received.messages == []
        waited = db.get_one(Notification, notification_id)
        waited.created_at -= mail.SESSION_WAIT
        db.flush()
    assert mail.deliver_email(db, notification_id) is True

    (message,) = received.messages
    assert message.get_content_type() == "multipart/mixed"
    calendar = _invite(message)
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{booking.id}@mentorship"
    assert (event["DTSTART"].dt, event["DTEND"].dt) == (start, start + timedelta(hours=1))
    assert str(event["SUMMARY"]).startswith("Code review with ")
    assert ("LOCATION" in event) is session_created  # the meeting link needs the session's id


def test_other_notification_emails_carry_no_attachment(db: Session, smtp_server: tuple[str, Inbox],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    url, received = smtp_server
    settings = dataclasses.replace(get_settings(), smtp_url=url)
    for module in (inbox, mail):
        monkeypatch.setattr(module, "get_settings", lambda: settings)
    notification_id = inbox.notify_user(db, UserFactory().id, type_="booking.declined", said=notice("Declined",
                                                "Declined."), data={})
    assert notification_id is not None
    mail.deliver_email(db, notification_id)
    (message,) = received.messages
    assert not message.is_multipart()
