"""Domain events: one payload shape per event type, one audience rule, and per-viewer views.

Every consumer of "who does this event concern" (live channels and frames, live replay's SQL,
notifications, reviews, webhook fan-out) must name the same people, and a mentee of a group
session must never receive the ids of the other mentees.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ListingKind, Notification, OutboxEvent, ReviewEligibility, User, WebhookEndpoint, WebhookMessage
from outbox import REGISTRY
from tests.factories.accounts import UserFactory
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from workflows import events, payloads
from workflows.actors import Actor
from workflows.bookings import requests
from workflows.events import EventType
from workflows.live import frames as live
from workflows.notifications import messages
from workflows.roles import Role
from workflows.sessions import group as group_sessions
from workflows.sessions import lifecycle as sessions
from workflows.sessions import reviews
from workflows.webhooks import endpoints, fanout, sending

PREFIX = "test:"


def mentor_of(listing: Any) -> Actor:
    return Actor(user_id=listing.mentor_profile.user.id, mentor_profile_id=listing.mentor_profile_id)


def completed_group_session(db: Session, seats: int = 3) -> tuple[Actor, list[User], OutboxEvent]:
    """A group session that ``seats`` mentees joined and the mentor ran: its ``session.completed`` event."""
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=5)
    mentor = mentor_of(listing)
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    session = group_sessions.schedule_group_session(db, mentor, listing.id, start_time=start)
    mentees = [UserFactory() for _ in range(seats)]
    for mentee in mentees:
        group_sessions.join_group_session(db, Actor(mentee.id), session.id)
    sessions.start_session(db, mentor, session.id)
    sessions.complete_session(db, mentor, session.id)
    event = db.scalars(select(OutboxEvent).where(OutboxEvent.type == "session.completed",
                                                 OutboxEvent.aggregate_id == session.id)).one()
    return mentor, mentees, event


def endpoint_of(db: Session, user: User) -> WebhookEndpoint:
    return endpoints.create_endpoint(db, Actor(user.id), url="https://hooks.example.com/in")


def others(mentees: list[User], mentee: User) -> list[str]:
    return [str(other.id) for other in mentees if other.id != mentee.id]


# --- one shape per event type, built in one place ----------------------------------------------------


def test_every_recorded_event_type_is_declared_once_with_its_payload_and_handlers() -> None:
    recorded = set(EventType) - {EventType.WEBHOOK_TEST}
    assert recorded <= set(REGISTRY.event_types())  # and a test's own (tests/e2e/test_adding_a_handler.py)
    for event_type in recorded:
        spec = REGISTRY.spec_of(event_type)
        assert event_type.value.startswith(f"{spec.aggregate}.")
        # Whom it concerns: a mentor (and mentees), a programme's coordinators, or a conversation's people.
        assert "id" in spec.payload.__required_keys__, event_type
        assert spec.payload.__required_keys__ & {"mentor_profile_id", "coordinator_user_ids", "member_user_ids"}, \
            event_type
        assert "webhooks.fan_out" in REGISTRY.handlers_for(event_type)
    handled = set().union(*(spec.event_types for spec in REGISTRY.handler_specs()))
    assert recorded <= handled
    with pytest.raises(ValueError, match="unknown event type"):
        REGISTRY.spec_of(EventType.WEBHOOK_TEST)


def test_workflows_store_each_payload_shape_whole(db: Session) -> None:
    mentor, mentees, completed = completed_group_session(db, seats=2)
    assert set(completed.payload) == payloads.GroupSessionPayload.__required_keys__
    draft = BookingFactory()
    requested = requests.request_booking(db, Actor(draft.mentee_user_id), listing_id=draft.listing_id,
                                         start_time=(draft.start_time + timedelta(days=1)).replace(minute=0, second=0,
                                                                                                  microsecond=0))
    stored = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == requested.id)).one()
    assert stored.payload == payloads.booking_payload(requested)
    assert set(stored.payload) == payloads.BookingPayload.__required_keys__
    reviews.handle_event(db, completed)
    review = reviews.create_review(db, Actor(mentees[0].id), completed.aggregate_id, rating=5, comment="clear")
    reviewed = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == review.id)).one()
    assert reviewed.payload == {"id": str(review.id), "session_id": str(completed.aggregate_id),
                                "mentor_profile_id": str(mentor.mentor_profile_id),
                                "mentee_user_id": str(mentees[0].id), "rating": 5, "comment": "clear"}


def test_a_mentee_leaving_a_group_session_records_the_seat_and_whether_it_was_late(db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=3)
    session = group_sessions.schedule_group_session(db, mentor_of(listing), listing.id,
                                              start_time=datetime.now(UTC) + timedelta(days=3))
    mentee = UserFactory()
    seat = group_sessions.join_group_session(db, Actor(mentee.id), session.id)
    sessions.cancel_session(db, Actor(mentee.id), session.id, reason="busy")
    left = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == seat.id,
                                                OutboxEvent.type == "booking.cancelled")).one()
    assert set(left.payload) == payloads.SeatReleasedPayload.__required_keys__
    assert left.payload["late"] is False and left.payload["group_session_id"] == str(session.id)


# --- one audience rule --------------------------------------------------------------------------------


def test_participants_are_the_mentor_and_the_groups_participants_or_the_one_mentee() -> None:
    mentor, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    one = events.participants({"mentor_profile_id": str(mentor), "mentee_user_id": str(first)})
    group = events.participants({"mentor_profile_id": str(mentor), "mentee_user_id": None,
                                 "mentee_user_ids": [str(first), str(second)]})
    assert one == events.Participants(mentor, (first,))
    assert group == events.Participants(mentor, (first, second))
    assert group.role_of(second, None) == Role.MENTEE
    assert group.role_of(uuid.uuid4(), mentor) == Role.MENTOR
    assert group.role_of(uuid.uuid4(), uuid.uuid4()) is None


def test_live_replay_selects_exactly_the_events_the_audience_rule_names(db: Session) -> None:
    mentor, mentees, completed = completed_group_session(db, seats=2)
    single = BookingFactory(mentee_user_id=mentees[0].id)
    elsewhere = BookingFactory()
    recorded = [completed, *(events.record(db, EventType.BOOKING_REQUESTED, payloads.booking_payload(booking),
                                           actor="test") for booking in (single, elsewhere))]
    db.flush()
    ids = [event.id for event in recorded]
    viewers = [(mentee.id, None) for mentee in mentees] + [
        (mentor.user_id, mentor.mentor_profile_id), (elsewhere.mentee_user_id, None), (uuid.uuid4(), None),
    ]
    for user_id, profile_id in viewers:
        by_sql = set(db.scalars(select(OutboxEvent.id).where(OutboxEvent.id.in_(ids),
                                                             events.concerns_clause(user_id, profile_id))))
        by_rule = {event.id for event in recorded
                   if events.from_outbox(event).role_of(user_id, profile_id) is not None}
        assert by_sql == by_rule, user_id
    assert {e.id for e in recorded if events.from_outbox(e).role_of(mentees[0].id, None)} == {completed.id, ids[1]}


def test_every_handler_reaches_exactly_the_participants_of_a_group_session(db: Session) -> None:
    mentor, mentees, completed = completed_group_session(db)
    stranger = UserFactory()
    endpoints = {user.id: endpoint_of(db, user) for user in [*mentees, stranger]}
    mentor_endpoint = endpoint_of(db, db.get(User, mentor.user_id))
    mentee_ids = {mentee.id for mentee in mentees}

    channels = live.channels_for(PREFIX, events.from_outbox(completed))
    assert set(channels) == {f"{PREFIX}live:user:{m}" for m in mentee_ids} | {
        f"{PREFIX}live:mentor:{mentor.mentor_profile_id}"}

    reviews.handle_event(db, completed)
    unlocked = set(db.scalars(select(ReviewEligibility.mentee_user_id)
                              .where(ReviewEligibility.session_id == completed.aggregate_id)))
    assert unlocked == mentee_ids

    messages.handle_event(db, completed)
    told = set(db.scalars(select(Notification.user_id).where(Notification.event_id == completed.id)))
    assert told == mentee_ids | {mentor.user_id}

    fanout.fan_out(db, completed)
    reached = set(db.scalars(select(WebhookMessage.endpoint_id).where(WebhookMessage.event_id == completed.id)))
    assert reached == {endpoints[m].id for m in mentee_ids} | {mentor_endpoint.id}


# --- a group's mentees never see each other's ids ---------------------------------------------------------


def test_a_group_mentees_live_frame_never_names_the_other_mentees(db: Session) -> None:
    mentor, mentees, completed = completed_group_session(db)
    event = events.from_outbox(completed)
    for mentee in mentees:
        (frame,) = live.frames(event, mentee.id, None, {})
        assert not [other for other in others(mentees, mentee) if other in frame], frame
        data = json.loads(frame.split("data: ", 1)[1])
        assert data["id"] == str(completed.aggregate_id) and data["status"] == "completed"
    (mentors,) = live.frames(event, mentor.user_id, mentor.mentor_profile_id, {})
    assert all(str(mentee.id) in mentors for mentee in mentees)


def test_a_group_mentees_webhook_body_never_names_the_other_mentees(db: Session) -> None:
    mentor, mentees, completed = completed_group_session(db)
    by_owner = {user.id: endpoint_of(db, user) for user in mentees}
    admin = endpoint_of(db, UserFactory(is_admin=True))
    mentor_endpoint = endpoint_of(db, db.get(User, mentor.user_id))
    fanout.fan_out(db, completed)
    payloads = {message.endpoint_id: message.payload for message in
                db.scalars(select(WebhookMessage).where(WebhookMessage.event_id == completed.id))}
    for mentee in mentees:
        body = sending.envelope(completed.type, completed.created_at, payloads[by_owner[mentee.id].id])
        assert not [other for other in others(mentees, mentee) if other in body], body
        assert json.loads(body)["data"]["id"] == str(completed.aggregate_id)
    assert payloads[mentor_endpoint.id] == payloads[admin.id] == completed.payload


def test_a_group_mentees_notification_never_names_the_other_mentees(db: Session) -> None:
    mentor, mentees, completed = completed_group_session(db)
    messages.handle_event(db, completed)
    for mentee in mentees:
        (data,) = db.scalars(select(Notification.data).where(Notification.event_id == completed.id,
                                                             Notification.user_id == mentee.id))
        text = json.dumps(data)
        assert not [other for other in others(mentees, mentee) if other in text], text
        assert data["resource"]["id"] == str(completed.aggregate_id)
    (mentors,) = db.scalars(select(Notification.data).where(Notification.event_id == completed.id,
                                                            Notification.user_id == mentor.user_id))
    assert mentors["resource"] == completed.payload


def test_an_individual_events_views_are_its_payload_unchanged(db: Session) -> None:
    booking = BookingFactory()
    recorded = events.record(db, EventType.BOOKING_REQUESTED, payloads.booking_payload(booking), actor="test")
    db.flush()
    event = events.from_outbox(recorded)
    assert event.view_for(Role.MENTEE) == event.view_for(Role.MENTOR) == recorded.payload
    mentee_endpoint = endpoint_of(db, db.get(User, booking.mentee_user_id))
    fanout.fan_out(db, recorded)
    sent = db.scalars(select(WebhookMessage.payload).where(WebhookMessage.endpoint_id == mentee_endpoint.id)).one()
    assert sent == recorded.payload
