"""Resuming a live stream (``workflows/live/replay.py``), called directly: the events missed since the last one
seen, or a reset when they cannot all be replayed. A replay longer than ``MAX_REPLAY`` is the end-to-end tests'
(``tests/e2e/test_live_updates.py``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import OutboxEvent
from tests.factories.accounts import actor_of
from tests.factories.bookings import BookingFactory
from workflows.bookings import lifecycle as bookings
from workflows.live.replay import resume

START = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
DAY = timedelta(days=1)


def event_of(db: Session, aggregate_id: uuid.UUID, event_type: str) -> OutboxEvent:
    return db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == aggregate_id,
                                                OutboxEvent.type == event_type)).one()


def test_a_fresh_stream_replays_nothing(db: Session) -> None:
    fresh = resume(db, "", DAY, user_id=uuid.uuid4(), mentor_profile_id=None, slot_mentors=[])
    assert (fresh.events, fresh.reset) == ([], False)


def test_a_resume_from_an_unknown_malformed_or_too_old_event_is_a_reset(db: Session) -> None:
    draft = BookingFactory(start_time=START)
    bookings.decline_booking(db, actor_of(draft.listing.mentor_profile.user), draft.id)
    seen = str(event_of(db, draft.id, "booking.declined").id)
    for last, horizon in ((str(uuid.uuid4()), DAY), ("not-an-id", DAY), (seen, timedelta(0))):
        answer = resume(db, last, horizon, user_id=draft.mentee_user_id, mentor_profile_id=None, slot_mentors=[])
        assert (answer.events, answer.reset, answer.cursor is not None) == ([], True, True), last


def test_a_resume_replays_what_concerns_the_user_or_the_slots_they_watch_and_nothing_else(db: Session) -> None:
    seen_draft = BookingFactory(start_time=START)
    mentee = seen_draft.mentee_user_id
    later_draft = BookingFactory(start_time=START, mentee_user_id=mentee)
    theirs, watched = BookingFactory(start_time=START), BookingFactory(start_time=START)
    bookings.decline_booking(db, actor_of(seen_draft.listing.mentor_profile.user), seen_draft.id)
    seen = event_of(db, seen_draft.id, "booking.declined")
    bookings.decline_booking(db, actor_of(later_draft.listing.mentor_profile.user), later_draft.id)
    for booking in (theirs, watched):
        bookings.accept_booking(db, actor_of(booking.listing.mentor_profile.user), booking.id)
    # Inside one transaction every event has the same time: the missed ones happened a second later.
    db.execute(update(OutboxEvent).where(OutboxEvent.aggregate_id.in_([later_draft.id, theirs.id, watched.id]))
               .values(created_at=func.now() + timedelta(seconds=1)))
    answer = resume(db, str(seen.id), DAY, user_id=mentee, mentor_profile_id=None,
                    slot_mentors=[watched.mentor_profile_id])
    assert answer.reset is False
    assert [(e.aggregate_id, e.type) for e in answer.events] == sorted(
        [(later_draft.id, "booking.declined"), (watched.id, "booking.accepted")],
        key=lambda pair: event_of(db, pair[0], pair[1]).id)
