"""Notifications emailed over SMTP, against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from models import Notification
from tests.factories import UserFactory
from workflows import notifications
from workflows.config import get_settings


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", inbox
    controller.stop()


def test_notification_is_emailed_once(db: Session, smtp_server: tuple[str, Inbox],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    url, inbox = smtp_server
    settings = dataclasses.replace(get_settings(), smtp_url=url)
    monkeypatch.setattr(notifications, "get_settings", lambda: settings)
    user = UserFactory(email="ada@example.com")
    notification_id = notifications.notify_user(db, user.id, type_="booking.accepted", title="Booking accepted",
                                                body="Your session is confirmed.", data={})
    assert notification_id is not None
    assert notifications.deliver_email(db, notification_id) is True
    assert notifications.deliver_email(db, notification_id) is False
    (message,) = inbox.messages
    assert (message["To"], message["Subject"]) == ("ada@example.com", "Booking accepted")
    assert message["Message-ID"] == f"<{notification_id}@mentorship>"
    assert db.get(Notification, notification_id).email_status == "sent"


def test_unreachable_smtp_is_retried_then_given_up(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = dataclasses.replace(get_settings(), smtp_url=f"smtp://127.0.0.1:{_free_port()}")
    monkeypatch.setattr(notifications, "get_settings", lambda: settings)
    user = UserFactory()
    notification_id = notifications.notify_user(db, user.id, type_="x", title="t", body="b", data={})
    assert notification_id is not None
    for _ in range(notifications.MAX_EMAIL_ATTEMPTS):
        assert notifications.deliver_email(db, notification_id) is False
    assert db.get(Notification, notification_id).email_status == "failed"


def test_without_smtp_nothing_is_owed(db: Session) -> None:
    user = UserFactory()
    notification_id = notifications.notify_user(db, user.id, type_="x", title="t", body="b", data={})
    assert notification_id is not None
    assert db.get(Notification, notification_id).email_status == "none"
