"""Who sees an event live and how (``workflows/live/frames.py``), called directly on events the workflows record: each
participant's channel, the mentor's slots channel for the events that move a mentor's free time, and what a
stream shows a participant and a watcher of the mentor's listing. A group's mentees never learning each other is
``test_events.py``'s."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.channels import mentor_channel, slots_channel, user_channel
from models import Booking, OutboxEvent
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from workflows.bookings import lifecycle as bookings
from workflows.bookings import requests
from workflows.events import DomainEvent, from_outbox
from workflows.live import frames as live

START = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
PREFIX = "test:"


def recorded(db: Session, booking: Booking, event_type: str) -> DomainEvent:
    return from_outbox(db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == booking.id,
                                                            OutboxEvent.type == event_type)).one())


def data_of(frame: str) -> dict[str, object]:
    (line,) = [line for line in frame.splitlines() if line.startswith("data: ")]
    return dict(json.loads(line.removeprefix("data: ")))


def test_an_event_goes_to_its_mentee_and_mentor_and_to_the_mentors_slots_when_it_moves_their_time(
        db: Session) -> None:
    listing, mentee = ListingFactory(), UserFactory()
    requested = requests.request_booking(db, actor_of(mentee), listing_id=listing.id, start_time=START)
    bookings.accept_booking(db, actor_of(listing.mentor_profile.user), requested.id)
    mentor = listing.mentor_profile_id
    people = [user_channel(PREFIX, mentee.id), mentor_channel(PREFIX, mentor)]
    assert live.channels_for(PREFIX, recorded(db, requested, "booking.requested")) == people
    assert live.channels_for(PREFIX, recorded(db, requested, "booking.accepted")) == [
        *people, slots_channel(PREFIX, mentor)]


def test_a_participant_sees_the_event_as_their_part_lets_them_and_a_watcher_only_that_slots_changed(
        db: Session) -> None:
    draft = BookingFactory(start_time=START)
    mentor = draft.listing.mentor_profile
    bookings.accept_booking(db, actor_of(mentor.user), draft.id)
    event = recorded(db, draft, "booking.accepted")
    (to_mentee,) = live.frames(event, draft.mentee_user_id, None, {})
    assert to_mentee.startswith(f"id: {event.id}\nevent: booking.accepted\n")
    assert data_of(to_mentee)["id"] == str(draft.id)
    watched = {draft.listing_id: frozenset({mentor.id}), uuid.uuid4(): frozenset({uuid.uuid4()})}
    (to_watcher,) = live.frames(event, UserFactory().id, None, watched)
    assert data_of(to_watcher) == {"listing_id": str(draft.listing_id), "start_time": START.isoformat(),
                                   "end_time": (START + timedelta(hours=1)).isoformat(), "slots_changed": True}
    assert live.frames(event, UserFactory().id, None, {uuid.uuid4(): frozenset({uuid.uuid4()})}) == []


def test_a_stream_subscribes_to_its_user_its_mentor_profile_and_the_slots_it_watches() -> None:
    user, profile, watched = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert live.subscriptions(PREFIX, user, profile, [watched]) == [
        user_channel(PREFIX, user), mentor_channel(PREFIX, profile), slots_channel(PREFIX, watched)]
    assert live.subscriptions(PREFIX, user, None, []) == [user_channel(PREFIX, user)]
