"""Digests on real worker processes against a real (slow) SMTP server: the worker is killed with SIGKILL while it hands
a cohort's daily digests to the mail server; a new worker and the beat's next look finish them. Each person gets their
day's digest, one (the one in the mail server's hands at the kill may come twice, with the same Message-ID, which mail
systems drop), and each digest's row and held notifications are written once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from devstack.host import free_port
from infra.celery_config import create_celery
from infra.config import get_settings
from models import EmailChoice, EmailDigest, EmailStatus, Notification, NotificationPreference, Telling
from tests.concurrency import wait_until
from tests.factories.accounts import UserFactory
from tests.workers_fixtures import StartWorker

COHORT = 12
SMTP_SECONDS = 0.4  # each message takes the mail server this long: the kill lands mid-way


@dataclass
class SlowInbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        await asyncio.sleep(SMTP_SECONDS)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def slow_smtp() -> Iterator[tuple[str, SlowInbox]]:
    inbox = SlowInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


def test_a_workers_death_mid_way_through_the_digests_leaves_each_person_one(
        seed: Session, committed: sessionmaker[Session], start_worker: StartWorker,
        slow_smtp: tuple[str, SlowInbox]) -> None:
    url, inbox = slow_smtp
    people = [UserFactory() for _ in range(COHORT)]
    for person in people:
        seed.add(NotificationPreference(user_id=person.id, kind=Telling.BOOKINGS, email=EmailChoice.DAILY))
        seed.add(Notification(id=uuid.uuid4(), user_id=person.id, type="booking.accepted", title="Booking confirmed",
                              body="Thursday at ten", data={}, email_status=EmailStatus.DIGEST))
    seed.commit()
    env = {"SMTP_URL": url}
    sender = create_celery(get_settings())
    first = start_worker(queues="notifications", concurrency=1, env=env)
    sender.send_task("notifications.send_due_digests")
    wait_until(lambda: len(inbox.messages) >= 3, 60, "the first digests handed to the mail server")
    first.kill()
    handed = len(inbox.messages)
    assert handed < COHORT, "the kill came after every digest: the test proves nothing"

    start_worker(queues="notifications", concurrency=2, env=env)
    sender.send_task("notifications.send_due_digests")  # the beat's next look

    def digests_written() -> int:
        with committed() as db:
            return db.scalar(select(func.count()).select_from(EmailDigest)) or 0

    wait_until(lambda: digests_written() == COHORT, 90, "every person's digest written")
    wait_until(lambda: len({m["To"] for m in inbox.messages}) == COHORT, 30, "every person's digest received")
    ids = Counter((m["To"], m["Message-ID"]) for m in inbox.messages)
    per_person = Counter(to for to, _ in ids)
    assert set(per_person.values()) == {1}, per_person  # one digest (one Message-ID) each
    assert len(inbox.messages) <= COHORT + 1  # at most the one in the mail server's hands at the kill, again
    with committed() as db:
        assert set(db.scalars(select(Notification.email_status))) == {EmailStatus.SENT}
        assert set(db.scalars(select(EmailDigest.items))) == {1}
