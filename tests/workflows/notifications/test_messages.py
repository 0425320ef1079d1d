"""In-app notifications (``workflows/notifications/messages.py``), called directly: who each event tells, once; who may
read one; and which emails are owed. A group's mentees never learning each other is ``test_events.py``'s."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Booking, MentorProfile, Notification, OutboxEvent
from tests.database import notifications_read
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import make_session
from workflows.bookings import lifecycle as bookings
from workflows.bookings import requests
from workflows.notifications import messages
from workflows.sessions import lifecycle as sessions

START = datetime(2031, 6, 2, 9, 30, tzinfo=UTC)


def notified(db: Session, *events: OutboxEvent) -> dict[uuid.UUID, list[tuple[str, str, str]]]:
    """Run the handler on the events; each user's (type, title, body) of them, sorted."""
    messages.handle_events(db, events)
    told: dict[uuid.UUID, list[tuple[str, str, str]]] = {}
    for n in notifications_read(db, Notification.event_id.in_([e.id for e in events])):
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
    # 2031-06-02 09:30 UTC: 18:30 in Tokyo, written in Japanese; the next day 11:30 in Berlin, in German; each
    # with its zone's name (changed on purpose: a reader's own zone used to go unnamed). The words are Japanese and
    # German too since those languages ship (changed on purpose: they used to be English), each in its own quotation
    # marks; what people wrote (the title, the reason) stays as they wrote it.
    assert told == {
        mentor.id: [("booking.requested", "\u65b0\u3057\u3044\u4e88\u7d04\u30ea\u30af\u30a8\u30b9\u30c8",
                     ("Ada Lovelace\u304b\u30896\u67082\u65e5(\u6708), 18:30 (Asia/Tokyo)\u306e\u300cCode review"
                      "\u300d\u306e\u4e88\u7d04\u30ea\u30af\u30a8\u30b9\u30c8\u304c\u5c4a\u304d\u307e\u3057\u305f"
                      "\u3002"))],
        mentee.id: [("booking.declined", "Buchung abgelehnt", (
            "Grace Hopper hat Ihre Anfrage f\u00fcr \u201eCode review\u201c am Di., 3. Juni, 11:30 (Europe/Berlin) "
            "abgelehnt: \u201eTravelling that week\u201c."))],
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


