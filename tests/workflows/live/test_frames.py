"""Who sees an event live and how (``workflows/live/frames.py``), called directly on events the workflows record: each
participant's channel, the mentor's slots channel for the events that move a mentor's free time, and what a
stream shows a participant and a watcher of the mentor's listing. A group's mentees never learning each other is
``test_events.py``'s."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.channels import mentor_channel, slots_channel, user_channel
from infra.config import get_settings
from models import Booking, OutboxEvent
from outbox.recording import live_events
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from workflows.bookings import lifecycle as bookings
from workflows.bookings import requests, series, series_requests
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


def test_a_transaction_sends_each_channel_one_message_with_its_events_in_the_order_they_were_written(
        db: Session, redis_client: redis.Redis) -> None:
    """A series of 6 times accepted: 7 events (6 ``booking.accepted``, the series'), each to the mentee and the mentor,
    and the times' to the mentor's slots; 3 messages, not 19."""
    listing, mentee = ListingFactory(), UserFactory()
    made = series_requests.request(db, actor_of(mentee), series_requests.Shape(
        listing_id=listing.id, first_start=START, every_weeks=1, count=6))
    live_events(db).clear()  # the request's own event
    series.accept(db, actor_of(listing.mentor_profile.user), made.id)
    written = list(live_events(db))
    assert [e.type for e in written] == ["booking.accepted"] * 6 + ["booking_series.accepted"]
    prefix, mentor = get_settings().redis_key_prefix, listing.mentor_profile_id
    channels = [user_channel(prefix, mentee.id), mentor_channel(prefix, mentor), slots_channel(prefix, mentor)]
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    try:
        pubsub.subscribe(*channels)
        live.publish_committed(written)
        received: dict[str, list[list[dict[str, object]]]] = {}
        deadline = time.monotonic() + 2  # a subscription's confirmation reads as None: read until quiet
        while time.monotonic() < deadline:
            if (message := pubsub.get_message(timeout=0.2)) is not None:
                received.setdefault(message["channel"].decode(), []).append(json.loads(message["data"]))
    finally:
        pubsub.close()
    ids = [str(e.id) for e in written]
    assert {channel: [[e["id"] for e in batch] for batch in batches] for channel, batches in received.items()} == {
        channels[0]: [ids], channels[1]: [ids], channels[2]: [ids[:6]]}
    first = received[channels[0]][0][0]
    assert (first["type"], first["data"]) == ("booking.accepted", written[0].payload)


def test_a_stream_subscribes_to_its_user_its_mentor_profile_and_the_slots_it_watches() -> None:
    user, profile, watched = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert live.subscriptions(PREFIX, user, profile, [watched]) == [
        user_channel(PREFIX, user), mentor_channel(PREFIX, profile), slots_channel(PREFIX, watched)]
    assert live.subscriptions(PREFIX, user, None, []) == [user_channel(PREFIX, user)]
