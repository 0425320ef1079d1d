"""No accepted overlap for a mentee or a mentor, whatever the concurrency; a team's requests spread over
its members and never leave one with two accepted bookings at once. Threads on committed data, real
PostgreSQL: the exclusion constraints decide."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, BookingStatus, ListingMember
from tests.api_calls import accepting
from tests.concurrency import concurrently
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from tests.servers import live_app
from workflows.bookings.lifecycle import ANOTHER_ACCEPTED, MENTEE_BOOKED
from workflows.sessions.lifecycle import create_session_from_booking

T = (datetime.now(UTC) + timedelta(days=4)).replace(hour=10, minute=0, second=0, microsecond=0)


def draft(seed: Session, listing_id: uuid.UUID, mentor_profile_id: uuid.UUID, mentee_id: uuid.UUID,
          start: datetime) -> uuid.UUID:
    booking = Booking(id=uuid.uuid4(), listing_id=listing_id, mentor_profile_id=mentor_profile_id,
                      mentee_user_id=mentee_id, start_time=start, end_time=start + timedelta(hours=1),
                      status=BookingStatus.DRAFT, price_cents=5000, currency="USD")
    seed.add(booking)
    return booking.id


def request_then_accept(app: Flask, mentee: Caller, mentor: Caller, listing_id: uuid.UUID, start: datetime
                        ) -> Callable[[], int]:
    """Request a booking and, if it was made, have the mentor accept it: the accept's status, else the request's."""
    mentee_headers, mentor_headers = mentee.headers, mentor.headers

    def run() -> int:
        client = app.test_client()
        made = client.post("/api/v1/bookings", headers=mentee_headers,
                           json={"listing_id": str(listing_id), "start_time": start.isoformat()})
        if made.status_code != 201:
            return made.status_code
        return client.post(f"/api/v1/bookings/{made.get_json()['id']}/accept", headers=mentor_headers).status_code

    return run


def overlapping_accepted(committed: sessionmaker[Session], column: str) -> list[tuple[uuid.UUID, int]]:
    """(person, n) for each mentee or mentor holding accepted bookings that overlap one another."""
    with committed() as db:
        a, b = Booking.__table__.alias("a"), Booking.__table__.alias("b")
        rows = db.execute(
            select(a.c[column], func.count()).select_from(a.join(b, (a.c[column] == b.c[column]) & (a.c.id < b.c.id)))
            .where(a.c.status == BookingStatus.ACCEPTED, b.c.status == BookingStatus.ACCEPTED,
                   a.c.start_time < b.c.end_time, b.c.start_time < a.c.end_time)
            .group_by(a.c[column])).all()
    return [(person, count) for person, count in rows]


def test_ten_concurrent_accepts_by_different_mentors_of_one_mentee_accept_one(
        seed: Session, committed: sessionmaker[Session]) -> None:
    mentee = UserFactory()
    mentors, ids = [], []
    for index in range(10):
        listing = ListingFactory()
        mentors.append(as_caller(listing.mentor_profile.user))
        ids.append(draft(seed, listing.id, listing.mentor_profile_id, mentee.id, T + timedelta(minutes=index)))
    seed.commit()
    app = live_app(committed)
    statuses = concurrently([accepting(app, mentor, booking_id)
                             for mentor, booking_id in zip(mentors, ids, strict=True)])
    assert Counter(statuses) == {200: 1, 409: 9}, statuses
    with committed() as db:
        outcome = Counter((b.status, b.cancel_reason) for b in db.scalars(select(Booking).where(
            Booking.mentee_user_id == mentee.id)))
    # The first accept withdrew the mentee's nine other requests: each later accept found its request withdrawn.
    assert outcome == {(BookingStatus.ACCEPTED, None): 1, (BookingStatus.CANCELLED, MENTEE_BOOKED): 9}, outcome


def test_requests_racing_accepts_leave_no_accepted_overlap(seed: Session, committed: sessionmaker[Session]) -> None:
    """Each round: mentor A accepts mentee M's draft while M requests mentor B's listing for the same
    time (and B accepts it), and while mentee Y requests A for that time (and A accepts it)."""
    rounds = []
    for day in range(6):
        start = T + timedelta(days=day)
        a_listing, b_listing = ListingFactory(), ListingFactory()
        mentee, other = UserFactory(), UserFactory()
        booking_id = draft(seed, a_listing.id, a_listing.mentor_profile_id, mentee.id, start)
        rounds.append((start, a_listing, b_listing, as_caller(mentee), as_caller(other), booking_id))
    seed.commit()
    app = live_app(committed)
    outcomes: Counter[int] = Counter()
    for start, a_listing, b_listing, mentee, other, booking_id in rounds:
        a_mentor, b_mentor = as_caller(a_listing.mentor_profile.user), as_caller(b_listing.mentor_profile.user)
        outcomes.update(concurrently([
            accepting(app, a_mentor, booking_id),
            request_then_accept(app, mentee, b_mentor, b_listing.id, start + timedelta(minutes=30)),
            request_then_accept(app, other, a_mentor, a_listing.id, start - timedelta(minutes=30)),
        ]))
    assert set(outcomes) <= {200, 409}, outcomes
    assert outcomes[409] >= len(rounds), outcomes  # every round had a loser on each side, at least one
    assert overlapping_accepted(committed, "mentee_user_id") == []
    assert overlapping_accepted(committed, "mentor_profile_id") == []


def pending_over_accepted(committed: sessionmaker[Session], column: str) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(draft, accepted) pairs of one mentor or mentee whose times overlap: requests that can never be accepted."""
    with committed() as db:
        a, d = Booking.__table__.alias("a"), Booking.__table__.alias("d")
        return [(row.d, row.a) for row in db.execute(
            select(d.c.id.label("d"), a.c.id.label("a")).select_from(a.join(d, a.c[column] == d.c[column]))
            .where(a.c.status == BookingStatus.ACCEPTED, a.c.group_session_id.is_(None),
                   d.c.status == BookingStatus.DRAFT, a.c.start_time < d.c.end_time, d.c.start_time < a.c.end_time))]


def request_only(app: Flask, mentee: Caller, listing_id: uuid.UUID, start: datetime) -> Callable[[], int]:
    headers = mentee.headers
    return lambda: app.test_client().post("/api/v1/bookings", headers=headers, json={
        "listing_id": str(listing_id), "start_time": start.isoformat()}).status_code


def test_requests_racing_an_accept_are_refused_or_settled_never_left_pending(
        seed: Session, committed: sessionmaker[Session]) -> None:
    """Each round: mentor A accepts mentee M's draft while three other mentees request A at overlapping times and
    M requests mentor B at an overlapping time. Each such request is refused (409) or made and then settled by the
    accept (declined, or withdrawn): none stays pending beside the accepted booking."""
    rounds = []
    for day in range(8):
        start = T + timedelta(days=day)
        a_listing, b_listing = ListingFactory(), ListingFactory()
        mentee, others = UserFactory(), [UserFactory() for _ in range(3)]
        booking_id = draft(seed, a_listing.id, a_listing.mentor_profile_id, mentee.id, start)
        rounds.append((start, a_listing, b_listing, as_caller(mentee), [as_caller(o) for o in others], booking_id))
    seed.commit()
    app = live_app(committed)
    outcomes: Counter[int] = Counter()
    for start, a_listing, b_listing, mentee, others, booking_id in rounds:
        a_mentor = as_caller(a_listing.mentor_profile.user)
        outcomes.update(concurrently([
            accepting(app, a_mentor, booking_id),
            *(request_only(app, other, a_listing.id, start + timedelta(minutes=15 * index))
              for index, other in enumerate(others)),
            request_only(app, mentee, b_listing.id, start + timedelta(minutes=20)),
        ]))
    assert set(outcomes) <= {200, 201, 409}, outcomes
    assert outcomes[200] == len(rounds), outcomes
    assert pending_over_accepted(committed, "mentor_profile_id") == []
    assert pending_over_accepted(committed, "mentee_user_id") == []
    with committed() as db:
        settled = Counter((b.status, b.decline_reason or b.cancel_reason) for b in db.scalars(
            select(Booking).where(Booking.start_time >= T, Booking.status != BookingStatus.ACCEPTED,
                                  Booking.listing_id.in_([r[1].id for r in rounds] + [r[2].id for r in rounds]))))
    assert set(settled) <= {(BookingStatus.DECLINED, ANOTHER_ACCEPTED), (BookingStatus.CANCELLED, MENTEE_BOOKED)}
    assert sum(settled.values()) == outcomes[201], (settled, outcomes)


def test_concurrent_requests_for_one_slot_of_a_team_spread_and_never_double_book(
        seed: Session, committed: sessionmaker[Session]) -> None:
    listing = ListingFactory()
    members = [listing.mentor_profile, MentorProfileFactory(), MentorProfileFactory()]
    seed.add_all(ListingMember(listing_id=listing.id, mentor_profile_id=member.id, position=index)
                 for index, member in enumerate(members))
    mentees = [as_caller(UserFactory()) for _ in range(12)]
    seed.commit()
    callers = {str(m.id): as_caller(m.user) for m in members}
    app = live_app(committed)
    made: list[dict[str, str]] = [{} for _ in mentees]

    def request(index: int) -> Callable[[], int]:
        headers = mentees[index].headers

        def run() -> int:
            response = app.test_client().post("/api/v1/bookings", headers=headers,
                                              json={"listing_id": str(listing.id), "start_time": T.isoformat()})
            made[index] = response.get_json()
            return response.status_code

        return run

    statuses = concurrently([request(i) for i in range(len(mentees))])
    assert statuses == [201] * len(mentees), (statuses, made)
    spread = Counter(booking["mentor_profile_id"] for booking in made)
    assert sorted(spread.values()) == [4, 4, 4], spread

    accepts = concurrently([accepting(app, callers[b["mentor_profile_id"]], uuid.UUID(b["id"])) for b in made])
    assert Counter(accepts) == {200: 3, 409: 9}, accepts
    assert pending_over_accepted(committed, "mentor_profile_id") == []
    with committed() as db:
        accepted = Counter(db.scalars(select(Booking.mentor_profile_id).where(
            Booking.listing_id == listing.id, Booking.status == BookingStatus.ACCEPTED)))
    assert accepted == Counter({m.id: 1 for m in members}), accepted


def _create_first_session(db: Session, first: Booking, mentee_id: uuid.UUID) -> None:
    create_session_from_booking(db, first.id)


def _request_another_booking(db: Session, first: Booking, mentee_id: uuid.UUID) -> None:
    draft(db, first.listing_id, first.mentor_profile_id, mentee_id, T + timedelta(days=2))
    db.flush()


@pytest.mark.parametrize("holder", [_create_first_session, _request_another_booking])
def test_an_accept_does_not_wait_for_other_writes_that_reference_its_mentor(
        seed: Session, committed: sessionmaker[Session], holder: Callable[[Session, Booking, uuid.UUID], None]) -> None:
    """The lock that orders changes to a mentor's calendar does not wait for a transaction that only
    references the mentor: a batch creating the mentor's sessions, or a booking request, still open."""
    listing, other_mentee = ListingFactory(), UserFactory()
    first = draft(seed, listing.id, listing.mentor_profile_id, UserFactory().id, T)
    second = draft(seed, listing.id, listing.mentor_profile_id, UserFactory().id, T + timedelta(days=1))
    seed.commit()
    app = live_app(committed)
    mentor = as_caller(listing.mentor_profile.user)
    assert accepting(app, mentor, first)() == 200
    statuses: list[int] = []
    with committed() as open_transaction:
        holder(open_transaction, open_transaction.get_one(Booking, first), other_mentee.id)
        second_accept = threading.Thread(target=lambda: statuses.append(accepting(app, mentor, second)()))
        second_accept.start()
        second_accept.join(timeout=10)
        answered_while_open = not second_accept.is_alive()
        open_transaction.commit()
    second_accept.join(timeout=10)
    assert answered_while_open, "the accept waited for the other transaction to end"
    assert statuses == [200]
