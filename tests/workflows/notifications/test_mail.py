"""Email of notifications (``workflows/notifications/mail.py``), called directly against a real SMTP server or none:
an unconfirmed address is owed nothing; a server that never takes the message is tried five times, then given up."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from devstack.host import free_port
from models import EmailStatus, Notification, User
from tests.factories.accounts import UserFactory
from workflows import inbox
from workflows.notifications import mail


@pytest.fixture
def smtp_down(configure: Callable[..., None]) -> None:
    """Email is configured, and its server refuses every connection."""
    configure(SMTP_URL=f"smtp://127.0.0.1:{free_port()}")


@pytest.mark.usefixtures("smtp_down")
def test_an_unconfirmed_address_is_owed_no_email(db: Session) -> None:
    user = UserFactory(email_verified_at=None)
    made = inbox.notify_user(db, user.id, type_="team.left", title="t", body="b", data={})
    assert made is not None
    assert db.get_one(Notification, made).email_status == EmailStatus.PENDING
    assert mail.deliver_email(db, made) is False
    assert db.get_one(Notification, made).email_status == EmailStatus.NONE


@pytest.mark.usefixtures("smtp_down")
def test_an_email_the_server_never_takes_is_tried_five_times_then_given_up(db: Session) -> None:
    user = UserFactory()
    made = inbox.notify_user(db, user.id, type_="team.left", title="t", body="b", data={})
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
