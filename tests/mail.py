"""A real SMTP server for a test (aiosmtpd on a free port), and the links read out of what it received."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from devstack.host import free_port
from infra.config import get_settings


@dataclass
class Inbox:
    """What the server received, in order."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [message for message in self.messages if message["To"] == address]

    def link(self, address: str, route: str, label: str = "") -> str:
        """The token of the newest ``#/<route>?token=`` link mailed to ``address`` (on a line starting ``label``)."""
        for message in reversed(self.to(address)):
            for part in message.walk():  # its text, beside an invite attached
                if part.get_content_type() != "text/plain":
                    continue
                found = re.search(rf"{re.escape(label)}.*#/{route}\?token=([\w.-]+)",
                                  part.get_payload(decode=True).decode())
                if found:
                    return found.group(1)
        raise AssertionError(f"no {route} link mailed to {address}: {[m['Subject'] for m in self.messages]}")


@dataclass(frozen=True)
class Mailbox:
    url: str
    inbox: Inbox


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[Mailbox]:
    """This test process's SMTP server: the long-lived worker (``a_worker``) mails to it from its start."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Mailbox(f"smtp://127.0.0.1:{port}", inbox)
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server: Mailbox) -> Iterator[Mailbox]:
    """This process's SMTP server, emptied for the test, and ``SMTP_URL`` pointing at it for this process (its
    settings are read again) and the workers the test starts."""
    smtp_server.inbox.messages.clear()
    before = os.environ.get("SMTP_URL")
    os.environ["SMTP_URL"] = smtp_server.url
    get_settings.cache_clear()
    try:
        yield smtp_server
    finally:
        if before is None:
            del os.environ["SMTP_URL"]
        else:
            os.environ["SMTP_URL"] = before
        get_settings.cache_clear()
