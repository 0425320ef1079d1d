"""Confirmations held for an unconfirmed address go when a programme's invitation, mailed to it, confirms it: the
invitation's link is the third way an address is confirmed (beside its own link and a reset)."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import BookingStatus, EmailStatus, Notification
from tests.domain_calls import notice as said_as
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.bookings import BookingFactory
from tests.factories.programmes import BASE, running_programme
from tests.mail import Mailbox
from workflows import inbox
from workflows.events import EventType
from workflows.notifications import mail
from workflows.programmes import invitation_mail
from workflows.sessions.lifecycle import create_session_from_booking


def test_joining_from_an_invitation_mailed_to_the_address_sends_its_held_confirmations(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    member = UserFactory(email="ada@example.com", email_verified_at=None)
    booking = BookingFactory(mentee_user_id=member.id, status=BookingStatus.ACCEPTED)
    assert create_session_from_booking(db, booking.id) is not None
    notice = inbox.notify_user(db, member.id, type_=EventType.BOOKING_ACCEPTED, said=said_as("Booking confirmed", "b"),
                               data={"resource": {"id": str(booking.id)}})
    assert notice is not None and mail.deliver_email(db, notice) is False
    assert db.get_one(Notification, notice).email_status == EmailStatus.UNCONFIRMED
    coordinator, programme = running_programme(client)
    assert client.post(f"{BASE}/{programme['id']}/invitations", headers=coordinator.headers, json={
        "invitees": [{"email": "ada@example.com", "role": "mentee"}]}).status_code == 200
    assert invitation_mail.deliver_invitations(db, uuid.UUID(programme["id"])) == (1, 0)
    token = mailbox.inbox.link("ada@example.com", "programme-invitation")
    joined = client.post("/api/v1/programme-invitations/accept", headers=as_caller(member).headers,
                         json={"token": token})
    assert joined.status_code == 200, joined.get_json()
    assert db.get_one(Notification, notice).email_status == EmailStatus.PENDING
    assert mail.deliver_email(db, notice) is True
    assert [m["Subject"] for m in mailbox.inbox.to("ada@example.com")][-1] == "Booking confirmed"
