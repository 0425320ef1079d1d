"""The scheduling rules hold exactly under concurrency: accepts racing across a buffer or a day limit, requests
racing a mentee's active-booking limit, and requests racing the time off that closes their time. Threads on
committed data through the API, real PostgreSQL: the mentor's schedule lock and the mentee's turn decide."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, BookingStatus
from tests.api_calls import accepting, requesting
from tests.concurrency import concurrently
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.servers import live_app

T = (datetime.now(UTC) + timedelta(days=5)).replace(hour=9, minute=0, second=0, microsecond=0)
ROUNDS = 6


def draft(seed: Session, listing_id: uuid.UUID, mentor_profile_id: uuid.UUID, start: datetime, *,
          buffer_after: int = 0) -> uuid.UUID:
    booking = Booking(id=uuid.uuid4(), listing_id=listing_id, mentor_profile_id=mentor_profile_id,
                      mentee_user_id=UserFactory().id, start_time=start, end_time=start + timedelta(hours=1),
                      status=BookingStatus.DRAFT, price_cents=5000, currency="USD", buffer_after_minutes=buffer_after)
    seed.add(booking)
    return booking.id


def accepted_of(committed: sessionmaker[Session], mentor_profile_id: uuid.UUID) -> list[Booking]:
    with committed() as db:
        return list(db.scalars(select(Booking).where(Booking.mentor_profile_id == mentor_profile_id,
                                                     Booking.status == BookingStatus.ACCEPTED)
                               .order_by(Booking.start_time)))


def test_two_accepts_inside_a_buffer_of_each_other_accept_exactly_one(
        seed: Session, committed: sessionmaker[Session]) -> None:
    """Each round: two requests five minutes apart against a 10-minute buffer, accepted at once: one wins, the
    other is refused (409) and, settled by the winner, declined. Without the schedule lock both would pass."""
    rounds = []
    for day in range(ROUNDS):
        listing = ListingFactory(buffer_after_minutes=10)
        start = T + timedelta(days=day)
        first = draft(seed, listing.id, listing.mentor_profile_id, start, buffer_after=10)
        second = draft(seed, listing.id, listing.mentor_profile_id, start + timedelta(minutes=65), buffer_after=10)
        rounds.append((listing, first, second))
    seed.commit()
    app = live_app(committed)
    for listing, first, second in rounds:
        mentor = as_caller(listing.mentor_profile.user)
        assert sorted(concurrently([accepting(app, mentor, first), accepting(app, mentor, second)])) == [200, 409]
        taken = accepted_of(committed, listing.mentor_profile_id)
        assert len(taken) == 1, taken


def test_accepts_racing_a_day_limit_stop_exactly_at_it(seed: Session, committed: sessionmaker[Session]) -> None:
    """Each round: a mentor takes at most two sessions a day; four requests that day are accepted at once."""
    rounds = []
    for day in range(ROUNDS):
        listing = ListingFactory()
        listing.mentor_profile.max_sessions_per_day = 2
        start = T + timedelta(days=day)
        rounds.append((listing, [draft(seed, listing.id, listing.mentor_profile_id, start + timedelta(hours=2 * i))
                                 for i in range(4)]))
    seed.commit()
    app = live_app(committed)
    for listing, drafts in rounds:
        mentor = as_caller(listing.mentor_profile.user)
        outcomes = Counter(concurrently([accepting(app, mentor, booking_id) for booking_id in drafts]))
        assert outcomes == {200: 2, 409: 2}, outcomes
        assert len(accepted_of(committed, listing.mentor_profile_id)) == 2


def test_requests_racing_a_mentees_active_limit_stop_exactly_at_it(
        seed: Session, committed: sessionmaker[Session]) -> None:
    """Each round: a mentee may hold two active bookings with a mentor, and sends three requests at once."""
    rounds = []
    for day in range(ROUNDS):
        listing = ListingFactory(max_active_bookings_per_mentor=2)
        rounds.append((listing, as_caller(UserFactory()), T + timedelta(days=day)))
    seed.commit()
    app = live_app(committed)
    for listing, mentee, start in rounds:
        outcomes = Counter(concurrently([requesting(app, mentee, listing.id, start + timedelta(hours=2 * i))
                                         for i in range(3)]))
        assert outcomes == {201: 2, 409: 1}, outcomes
        with committed() as db:
            held = db.scalars(select(Booking.id).where(Booking.listing_id == listing.id,
                                                       Booking.status == BookingStatus.DRAFT)).all()
        assert len(held) == 2


def test_requests_racing_time_off_are_refused_or_declined_never_left_pending(
        seed: Session, committed: sessionmaker[Session]) -> None:
    """Each round: three mentees request times inside a day the mentor marks as time off at that moment. Each
    request is refused (409) or made and then declined by the time off: none stays pending inside it."""
    rounds = []
    for day in range(ROUNDS):
        listing = ListingFactory()
        rounds.append((listing, [as_caller(UserFactory()) for _ in range(3)], T + timedelta(days=day)))
    seed.commit()
    app = live_app(committed)
    outcomes: Counter[int] = Counter()
    for listing, mentees, start in rounds:
        mentor = as_caller(listing.mentor_profile.user)
        profile_id, headers = listing.mentor_profile_id, mentor.headers
        body = {"time_off": [{"start": (start - timedelta(hours=1)).isoformat(),
                              "end": (start + timedelta(hours=8)).isoformat()}]}

        def time_off(body: dict[str, object] = body, profile_id: uuid.UUID = profile_id,
                     headers: dict[str, str] = headers) -> int:
            return app.test_client().put(f"/api/v1/mentor-profiles/{profile_id}/time-off", headers=headers,
                                         json=body).status_code

        outcomes.update(concurrently([time_off, *(requesting(app, mentee, listing.id, start + timedelta(hours=2 * i))
                                                  for i, mentee in enumerate(mentees))]))
    assert outcomes[200] == ROUNDS and set(outcomes) <= {200, 201, 409}, outcomes
    with committed() as db:
        left = Counter(b.status for b in db.scalars(select(Booking).where(
            Booking.listing_id.in_([listing.id for listing, _m, _s in rounds]))))
    assert left[BookingStatus.DRAFT] == 0, left
    assert left[BookingStatus.DECLINED] == outcomes[201], (left, outcomes)
