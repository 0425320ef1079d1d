"""How each person is told (``workflows/notifications/preferences.py``), against a real SMTP server: a notification
is emailed at once, held for a digest, or not emailed, by its reader's choice for its kind; account security always
goes; each email carries RFC 8058's one-click unsubscribe of its kind, whose link changes nothing until it is used."""

from __future__ import annotations

import uuid

import jwt
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import EmailChoice, EmailStatus, Notification, NotificationPreference, Telling, User
from tests.domain_calls import notice
from tests.factories.accounts import UserFactory
from tests.mail import Mailbox
from workflows import inbox
from workflows.errors import BusinessRuleViolation, InvalidInput
from workflows.notifications import mail, preferences


@pytest.mark.parametrize(("type_", "kind"), [
    ("booking.accepted", Telling.BOOKINGS), ("session.cancelled", Telling.BOOKINGS), ("team.invited", Telling.BOOKINGS),
    ("session.reminder", Telling.REMINDERS), ("message.created", Telling.MESSAGES),
    ("pairing.proposed", Telling.PROGRAMMES), ("enrolment.joined", Telling.PROGRAMMES),
    ("account.password_changed", Telling.SECURITY), ("webhook.endpoint_disabled", Telling.SECURITY),
])
def test_each_notification_has_a_kind(type_: str, kind: Telling) -> None:
    assert preferences.kind_of(type_) == kind


def _notify(db: Session, user: User, type_: str = "booking.accepted") -> uuid.UUID:
    made = inbox.notify_user(db, user.id, type_=type_, said=notice("Booking confirmed", "See you then"),
                             data={"resource": {"id": str(uuid.uuid4())}})
    assert made is not None
    return made


@pytest.mark.parametrize(("choice", "status", "mailed"), [
    (EmailChoice.NOW, EmailStatus.SENT, 1), (EmailChoice.DAILY, EmailStatus.DIGEST, 0),
    (EmailChoice.WEEKLY, EmailStatus.DIGEST, 0), (EmailChoice.OFF, EmailStatus.NONE, 0)])
def test_a_notification_is_emailed_held_for_a_digest_or_not_by_its_readers_choice(
        db: Session, mailbox: Mailbox, choice: EmailChoice, status: EmailStatus, mailed: int) -> None:
    user = UserFactory()
    preferences.choose(db, user.id, {Telling.BOOKINGS: choice})
    made = _notify(db, user)
    mail.deliver_email(db, made)
    assert db.get_one(Notification, made).email_status == status
    assert len(mailbox.inbox.to(user.email)) == mailed
    assert db.get_one(Notification, made).read_at is None  # in the app, always


def test_account_security_is_always_emailed_and_cannot_be_turned_off(db: Session, mailbox: Mailbox) -> None:
    user = UserFactory()
    preferences.choose(db, user.id, {kind: EmailChoice.OFF for kind in Telling if kind != Telling.SECURITY})
    with pytest.raises(BusinessRuleViolation):
        preferences.choose(db, user.id, {Telling.MESSAGES: EmailChoice.NOW, Telling.SECURITY: EmailChoice.OFF})
    assert preferences.chosen(db, user.id)[Telling.MESSAGES] == EmailChoice.OFF  # nothing changed
    assert preferences.chosen(db, user.id)[Telling.SECURITY] == EmailChoice.NOW
    made = _notify(db, user, "account.password_changed")
    assert mail.deliver_email(db, made) is True
    (sent,) = mailbox.inbox.to(user.email)
    assert sent["List-Unsubscribe"] is None  # nothing to stop
    assert "Choose how you are told" in sent.get_payload(decode=True).decode()


def test_an_emails_one_click_link_stops_its_kind_only_when_used(db: Session, mailbox: Mailbox) -> None:
    user = UserFactory()
    assert mail.deliver_email(db, _notify(db, user, "session.reminder")) is True
    (sent,) = mailbox.inbox.to(user.email)
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = sent["List-Unsubscribe"].strip("<>")
    assert url.startswith("http") and "\n" not in url and " " not in url  # one address, whole
    token = url.split("token=", 1)[1]
    assert f"Stop emails about reminders before a session: {url}" in \
        sent.get_payload(decode=True).decode().replace("\r\n", "\n")

    read = preferences.read_link(db, token)
    assert (read.kinds, read.off) == ((Telling.REMINDERS,), False)
    assert db.scalar(select(func.count()).select_from(NotificationPreference)
                     .where(NotificationPreference.user_id == user.id)) == 0  # reading it changed nothing
    assert preferences.unsubscribe(db, token).off is True
    assert preferences.unsubscribe(db, token).off is True  # again: nothing more
    assert preferences.chosen(db, user.id) == {**dict.fromkeys(Telling, EmailChoice.NOW),
                                               Telling.REMINDERS: EmailChoice.OFF}
    assert mail.deliver_email(db, _notify(db, user, "session.reminder")) is False
    assert len(mailbox.inbox.to(user.email)) == 1


def test_a_forged_expired_or_security_link_is_refused(db: Session) -> None:
    user = UserFactory()
    good = preferences.unsubscribe_token(user.id, [Telling.MESSAGES])
    claims = jwt.decode(good, options={"verify_signature": False})
    forged = jwt.encode(claims, "not the service's key, but one as long as it", algorithm="HS256")
    expired = jwt.encode({"aud": preferences.AUDIENCE, "sub": str(user.id), "kinds": ["messages"], "exp": 1},
                         preferences._key(), algorithm="HS256")
    security = preferences.unsubscribe_token(user.id, [Telling.SECURITY])
    stranger = preferences.unsubscribe_token(uuid.uuid4(), [Telling.MESSAGES])
    for token in (forged, expired, security, stranger, "", "x.y.z", good[:-3]):
        with pytest.raises(InvalidInput):
            preferences.unsubscribe(db, token)
    assert preferences.chosen(db, user.id)[Telling.MESSAGES] == EmailChoice.NOW
