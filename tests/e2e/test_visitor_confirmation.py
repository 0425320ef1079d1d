"""A visitor's booking from a public link, through the API with real workers and a real SMTP server: they sign up, book
a listing booked instantly before opening the confirmation link, and hear nothing of the booking until they confirm
their address from the mail; then "Booking confirmed" comes, once, with its invite (the service's mailbox as organiser,
only them as attendee) and calendar links that carry the Join link and open the session."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from celery import Celery
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from models import BookingStatus, EmailStatus, Notification, User
from tests.factories.accounts import PASSWORD
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.mail import Inbox, Mailbox
from tests.servers import live_app
from tests.workers_fixtures import StartWorker
from workflows import inbox
from workflows.events import EventType
from workflows.notifications import texts
from workflows.roles import Role
from workflows.sessions.lifecycle import create_session_from_booking

WAIT_S = 30


def mailed(inbox: Inbox, address: str, subject: str, count: int = 1) -> list[Message]:
    """The messages of this subject the workers mailed to ``address``, once there are ``count``."""
    deadline = time.monotonic() + WAIT_S
    while True:
        found = [m for m in inbox.to(address) if m["Subject"] == subject]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def text_of(message: Message) -> str:
    (body,) = [part for part in message.walk() if part.get_content_type() == "text/plain"]
    return str(body.get_payload(decode=True).decode())


def settled(committed: sessionmaker[Session], user_id: object, done: Callable[[set[EmailStatus]], bool]) -> None:
    """Waits until the statuses of the person's emails satisfy ``done``."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        with committed() as db:
            if done(set(db.scalars(select(Notification.email_status).where(Notification.user_id == user_id)))):
                return
        time.sleep(0.2)
    raise AssertionError("the notifications worker never got to the person's emails")


def test_a_visitor_who_books_at_once_hears_of_it_once_their_address_is_confirmed(
        mailbox: Mailbox, seed: Session, committed: sessionmaker[Session], start_worker: StartWorker) -> None:
    listing = ListingFactory(instant_booking=True, title="COBOL clinic",
                             mentor_profile__user__display_name="Grace Hopper")
    listing.mentor_profile.public = True
    seed.commit()
    start_worker()
    client: FlaskClient = live_app(committed).test_client()

    page = client.get(f"/book/{listing.slug}")
    assert page.status_code == 200
    first = re.search(r'href="/#/listings/([\w-]+)\?start=([^"]+)"', page.get_data(as_text=True))
    assert first is not None, "the booking page offers no time"
    listing_id, start = first.group(1), unquote(first.group(2))
    assert client.post("/api/v1/auth/register", json={
        "email": "ada@example.com", "password": PASSWORD, "display_name": "Ada Lovelace"}).status_code == 201
    token = client.post("/api/v1/auth/token", json={"email": "ada@example.com", "password": PASSWORD}).get_json()
    ada = {"Authorization": f"Bearer {token['access_token']}"}
    booked = client.post("/api/v1/bookings", headers=ada, json={"listing_id": listing_id, "start_time": start})
    assert (booked.status_code, booked.get_json()["status"]) == (201, "accepted"), booked.get_json()
    with committed() as db:
        visitor = db.scalars(select(User.id).where(User.email == "ada@example.com")).one()
    # The worker came to the confirmation's email, and sent nothing: the address is not confirmed yet.
    settled(committed, visitor, lambda statuses: bool(statuses) and EmailStatus.PENDING not in statuses)
    assert [m["Subject"] for m in mailbox.inbox.to("ada@example.com")] == ["Confirm your email address"]

    confirm = mailbox.inbox.link("ada@example.com", "verify-email")
    assert client.post("/api/v1/auth/verify-email", json={"token": confirm}).status_code == 200
    (confirmation,) = mailed(mailbox.inbox, "ada@example.com", "Booking confirmed")  # once
    session_id = client.get(f"/api/v1/bookings/{booked.get_json()['id']}", headers=ada).get_json()["session_id"]
    join = client.get(f"/api/v1/sessions/{session_id}", headers=ada).get_json()["meeting_url"]
    assert session_id and join

    (invite,) = [part for part in confirmation.walk() if part.get_content_type() == "text/calendar"]
    (event,) = Calendar.from_ical(invite.get_payload(decode=True)).walk("VEVENT")
    assert str(event["UID"]) == f"{booked.get_json()['id']}@mentorship"
    organizer, attendee = event["ORGANIZER"], event["ATTENDEE"]
    assert (str(organizer), str(organizer.params["CN"])) == (
        f"mailto:{parseaddr(get_settings().smtp_from)[1]}", "Grace Hopper")
    assert (str(attendee), attendee.params["RSVP"]) == ("mailto:ada@example.com", "FALSE")
    assert listing.mentor_profile.user.email not in invite.get_payload(decode=True).decode()
    body = text_of(confirmation)
    google = re.search(r"Add it to Google Calendar: (\S+)", body)
    assert google is not None
    details = parse_qs(urlsplit(google.group(1)).query)["details"][0]
    assert join in details and f"/#/sessions/{session_id}" in details, details

    # Confirmed again (a new address, from its link): nothing is sent twice.
    moved = client.patch("/api/v1/me", headers=ada, json={"email": "ada@lovelace.example",
                                                          "current_password": PASSWORD})
    assert moved.status_code == 200, moved.get_json()
    assert mailed(mailbox.inbox, "ada@lovelace.example", "Confirm your email address")
    again = client.post("/api/v1/auth/verify-email",
                        json={"token": mailbox.inbox.link("ada@lovelace.example", "verify-email")})
    assert again.status_code == 200
    settled(committed, visitor, lambda statuses: EmailStatus.PENDING not in statuses)
    assert [m["Subject"] for m in mailbox.inbox.messages].count("Booking confirmed") == 1


def test_a_confirmation_waits_for_its_session_to_carry_its_join_link(
        mailbox: Mailbox, seed: Session, committed: sessionmaker[Session], start_worker: StartWorker,
        celery_app: Celery) -> None:
    """The sessions worker makes the session from the same event as the confirmation: the email waits for it."""
    booking = BookingFactory(status=BookingStatus.ACCEPTED, start_time=datetime.now(UTC) + timedelta(days=2))
    # The worker reads the notification's key as the service declares it (a test's own text is not the worker's).
    notice = inbox.notify_user(seed, booking.mentee_user_id, type_=EventType.BOOKING_ACCEPTED,
                               said=texts.INSTANT[EventType.BOOKING_ACCEPTED][Role.MENTEE],
                               words={"listing": "a session", "other": "Grace", "when": "Tuesday"},
                               data={"resource": {"id": str(booking.id)}})
    seed.commit()
    mentee = seed.get_one(User, booking.mentee_user_id).email
    start_worker(queues="notifications")
    celery_app.send_task(inbox.SEND_EMAIL_TASK, args=[str(notice)])
    time.sleep(3)
    assert mailbox.inbox.to(mentee) == []  # waiting for the session
    session = create_session_from_booking(seed, booking.id)
    assert session is not None
    seed.commit()
    (confirmation,) = mailed(mailbox.inbox, mentee, "Booking confirmed")
    assert f"%2F%23%2Fsessions%2F{session.id}" in text_of(confirmation)  # the session's page, in the calendar links
