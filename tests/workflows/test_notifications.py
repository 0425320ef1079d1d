"""In-app notifications (``workflows/notifications/messages.py``), called directly: who each event tells, once; who may
read one; and which emails are owed. A group's mentees never learning each other is ``test_events.py``'s."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from devstack.host import free_port
from models import Booking, EmailStatus, MentorProfile, Notification, OutboxEvent, User
from tests.database import refused
from tests.factories import BookingFactory, ListingFactory, UserFactory, actor_of, make_session
from workflows import inbox
from workflows.bookings import lifecycle as bookings
from workflows.bookings import requests
from workflows.errors import NotFound
from workflows.notifications import mail, messages
from workflows.sessions import lifecycle as sessions

START = datetime(2031, 6, 2, 9, 30, tzinfo=UTC)


def notified(db: Session, *events: OutboxEvent) -> dict[uuid.UUID, list[tuple[str, str, str]]]:
    """Run the handler on the events; each user's (type, title, body) of them, sorted."""
    messages.handle_events(db, events)
    told: dict[uuid.UUID, list[tuple[str, str, str]]] = {}
    for n in db.scalars(select(Notification).where(Notification.event_id.in_([e.id for e in events]))):
        told.setdefault(n.user_id, []).append((n.type, n.title, n.body))
    return {user: sorted(rows) for user, rows in told.items()}


def event(db: Session, aggregate_id: uuid.UUID, event_type: str) -> OutboxEvent:
    return db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == aggregate_id,
                                                OutboxEvent.type == event_type)).one()


def mentor_user(db: Session, booking: Booking) -> uuid.UUID:
    return db.get_one(MentorProfile, booking.mentor_profile_id).user_id


def test_a_request_tells_its_mentor_and_a_decision_its_mentee_by_name_in_their_own_time_and_words(
        db: Session) -> None:
    mentor = UserFactory(display_name="Grace Hopper", timezone="Asia/Tokyo", locale="ja-JP")
    listing = ListingFactory(title="Code review", mentor_profile__user=mentor, slot_step_minutes=30)
    mentee = UserFactory(display_name="Ada Lovelace", timezone="Europe/Berlin", locale="de-DE")
    requested = requests.request_booking(db, actor_of(mentee), listing_id=listing.id, start_time=START,
                                         now=START - timedelta(days=2))
    declined = BookingFactory(listing=listing, mentee_user_id=mentee.id, start_time=START + timedelta(days=1))
    bookings.decline_booking(db, actor_of(mentor), declined.id, reason="Travelling that week")
    told = notified(db, event(db, requested.id, "booking.requested"), event(db, declined.id, "booking.declined"))
    # 2031-06-02 09:30 UTC: 18:30 in Tokyo, written in Japanese; the next day 11:30 in Berlin, in German.
    assert told == {
        mentor.id: [("booking.requested", "New booking request",
                     "Ada Lovelace asked for \u201cCode review\u201d on 6\u67082\u65e5(\u6708), 18:30.")],
        mentee.id: [("booking.declined", "Booking declined", (
            "Grace Hopper declined your request for \u201cCode review\u201d on Di., 3. Juni, 11:30: "
            "\u201cTravelling that week\u201d."))],
    }
    links = {n.user_id: n.data["link"] for n in db.scalars(select(Notification).where(
        Notification.user_id.in_([mentor.id, mentee.id])))}
    assert links == {mentor.id: "#/requests", mentee.id: f"#/listings/{listing.id}"}


def test_an_expired_request_and_a_cancelled_session_tell_both_parties(db: Session) -> None:
    draft = BookingFactory(start_time=datetime(2021, 1, 4, 9, tzinfo=UTC))  # long ago: only this draft is due
    assert bookings.expire_stale_drafts(db, now=draft.start_time) == 1
    mentor, mentee, session = make_session(db, START)
    sessions.cancel_session(db, actor_of(mentor.user), session.id, reason="ill", now=START - timedelta(days=2))
    told = notified(db, event(db, draft.id, "booking.expired"), event(db, session.id, "session.cancelled"))
    assert {user: [t for t, _, _ in rows] for user, rows in told.items()} == {
        mentor_user(db, draft): ["booking.expired"], draft.mentee_user_id: ["booking.expired"],
        mentor.user.id: ["session.cancelled"], mentee.user.id: ["session.cancelled"]}


def test_events_without_a_message_tell_no_one_and_a_second_run_tells_no_one_twice(db: Session) -> None:
    mentor, _mentee, session = make_session(db, START)
    sessions.start_session(db, actor_of(mentor.user), session.id, now=START)
    scheduled, started = event(db, session.id, "session.scheduled"), event(db, session.id, "session.started")
    assert notified(db, scheduled, started) == {}
    accepted = BookingFactory(start_time=START + timedelta(days=1))
    bookings.accept_booking(db, actor_of(accepted.listing.mentor_profile.user), accepted.id)
    once = notified(db, event(db, accepted.id, "booking.accepted"))
    assert notified(db, event(db, accepted.id, "booking.accepted")) == once
    assert [t for t, _, _ in once[accepted.mentee_user_id]] == ["booking.accepted"]


def test_one_notification_per_event_person_and_kind(db: Session) -> None:
    user = UserFactory()
    _mentor, _mentee, session = make_session(db, START)
    event_id = event(db, session.id, "session.scheduled").id
    first = inbox.notify_user(db, user.id, type_="team.invited", title="t", body="b", data={},
                                      event_id=event_id)
    again = inbox.notify_user(db, user.id, type_="team.invited", title="t", body="b", data={},
                                      event_id=event_id)
    other_kind = inbox.notify_user(db, user.id, type_="team.left", title="t", body="b", data={},
                                           event_id=event_id)
    assert first is not None and again is None and other_kind not in {None, first}


def test_only_its_user_marks_a_notification_read_and_the_first_time_stays(db: Session) -> None:
    user = UserFactory()
    made = inbox.notify_user(db, user.id, type_="team.left", title="t", body="b", data={})
    assert made is not None
    stranger = refused(db, NotFound, lambda: inbox.mark_read(db, actor_of(UserFactory()), made))
    assert stranger.message == "notification not found"
    read_at = inbox.mark_read(db, actor_of(user), made).read_at
    assert read_at is not None
    assert inbox.mark_read(db, actor_of(user), made).read_at == read_at
    unread = inbox.list_notifications(db, actor_of(user), unread=True, limit=10, cursor=None)
    assert unread.items == []


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
