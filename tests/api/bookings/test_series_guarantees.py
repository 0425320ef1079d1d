"""A series' accept against others at once, over HTTP on the real database: racing a single accept for one of its
times, and another series for overlapping times. Whatever the order, a time is accepted at most once (the mentor's
schedule lock orders the accepts, the exclusion constraints stand behind it), and the loser is told."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, BookingStatus, BundlePurchase, MentorshipSession, OutboxEvent
from tests.concurrency import concurrently
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.servers import live_app
from workflows.sessions import lifecycle as sessions

FIRST = (datetime.now(UTC) + timedelta(days=8)).replace(hour=10, minute=0, second=0, microsecond=0)
ROUNDS = 4


def ask(http: FlaskClient, headers: dict[str, str], listing_id: Any, first: datetime, count: int) -> dict[str, Any]:
    made = http.post("/api/v1/booking-series", json={"listing_id": str(listing_id), "first_start": first.isoformat(),
                                                    "every": 1, "count": count}, headers=headers)
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def accepted_at(committed: sessionmaker[Session], listing_id: Any) -> Counter[datetime]:
    with committed() as db:
        return Counter(db.scalars(select(Booking.start_time).where(Booking.listing_id == listing_id,
                                                                   Booking.status == BookingStatus.ACCEPTED)))


def test_a_series_accept_racing_a_single_accept_for_one_of_its_times_books_that_time_once(
        seed: Session, committed: sessionmaker[Session]) -> None:
    listings = [ListingFactory() for _ in range(ROUNDS)]
    mentees = [(as_caller(UserFactory()), as_caller(UserFactory())) for _ in range(ROUNDS)]
    seed.commit()
    http = live_app(committed).test_client()
    for listing, (regular, single) in zip(listings, mentees, strict=True):
        mentor = as_caller(listing.mentor_profile.user)
        made = ask(http, regular.headers, listing.id, FIRST, 4)
        contested = FIRST + timedelta(weeks=2)
        draft = http.post("/api/v1/bookings", json={"listing_id": str(listing.id),
                                                    "start_time": contested.isoformat()}, headers=single.headers)
        assert draft.status_code == 201, draft.get_json()
        single_id = draft.get_json()["id"]
        statuses = concurrently([
            lambda m=mentor, s=made: http.post(f"/api/v1/booking-series/{s['id']}/accept",
                                               headers=m.headers).status_code,
            lambda m=mentor, d=single_id: http.post(f"/api/v1/bookings/{d}/accept", headers=m.headers).status_code])
        counts = accepted_at(committed, listing.id)
        assert counts[contested] == 1, (statuses, counts)
        assert sum(counts.values()) == 4  # every other time of the series too
        # The series always goes through (its other times are free); the single accept wins the time or is told
        # it was taken (its request was settled by the series' accept).
        assert statuses[0] == 200 and statuses[1] in (200, 409), statuses


def test_two_series_for_overlapping_times_accepted_at_once_never_book_a_time_twice(
        seed: Session, committed: sessionmaker[Session]) -> None:
    listing = ListingFactory()
    mentor = as_caller(listing.mentor_profile.user)
    early, late = as_caller(UserFactory()), as_caller(UserFactory())
    seed.commit()
    http = live_app(committed).test_client()
    first = ask(http, early.headers, listing.id, FIRST, 4)  # weeks 0-3
    second = ask(http, late.headers, listing.id, FIRST + timedelta(weeks=2), 4)  # weeks 2-5
    statuses = concurrently([
        lambda s=series: http.post(f"/api/v1/booking-series/{s['id']}/accept", headers=mentor.headers).status_code
        for series in (first, second)])
    assert sorted(statuses) == [200, 200], statuses
    counts = accepted_at(committed, listing.id)
    assert set(counts.values()) == {1}  # no time twice
    assert sorted(counts) == [FIRST + timedelta(weeks=n) for n in range(6)]  # the overlap went to one of them
    with committed() as db:
        overlapping = db.scalar(select(func.count()).select_from(Booking).where(
            Booking.listing_id == listing.id, Booking.status == BookingStatus.DECLINED))
    assert overlapping == 2


def test_a_time_cancelled_alone_racing_its_series_cancelled_from_before_it_is_cancelled_and_refunded_once(
        seed: Session, committed: sessionmaker[Session]) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    seed.commit()
    http = live_app(committed).test_client()
    offer = http.post(f"/api/v1/listings/{listing.id}/bundles", headers=mentor.headers,
                      json={"sessions_count": 12, "price_cents": 10000, "valid_days": 365})
    assert offer.status_code == 201, offer.get_json()
    purchase = http.post(f"/api/v1/bundles/{offer.get_json()['id']}/purchase", headers=mentee.headers, json={})
    assert purchase.status_code == 201, purchase.get_json()
    for rnd in range(ROUNDS):
        made = http.post("/api/v1/booking-series", headers=mentee.headers, json={
            "listing_id": str(listing.id), "first_start": (FIRST + timedelta(hours=2 * rnd)).isoformat(), "every": 1,
            "count": 3, "bundle_purchase_id": purchase.get_json()["id"]}).get_json()
        accepted = http.post(f"/api/v1/booking-series/{made['id']}/accept", headers=mentor.headers).get_json()
        times = [o for o in accepted["occurrences"] if o["status"] == "accepted"]
        with committed() as db:
            for one in times:
                sessions.create_session_from_booking(db, uuid.UUID(one["booking_id"]))
            db.commit()
            last = db.scalar(select(MentorshipSession.id).where(
                MentorshipSession.booking_id == uuid.UUID(times[2]["booking_id"])))
        def cancel_from(s: dict[str, Any] = made, t: list[dict[str, Any]] = times) -> int:
            return http.post(f"/api/v1/booking-series/{s['id']}/cancel", headers=mentee.headers,
                             json={"from": t[1]["start_time"]}).status_code

        statuses = concurrently([cancel_from, lambda one=last: http.post(
            f"/api/v1/sessions/{one}/cancel", headers=mentee.headers, json={"reason": "Exams"}).status_code])
        assert statuses[0] == 200 and statuses[1] in (200, 400), statuses
        with committed() as db:
            cancelled = db.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.aggregate_id == last, OutboxEvent.type == "session.cancelled"))
            assert cancelled == 1
    with committed() as db:
        left = db.scalar(select(BundlePurchase.remaining_sessions).where(
            BundlePurchase.id == uuid.UUID(purchase.get_json()["id"])))
    assert left == 12 - ROUNDS  # two of each three times given back, the first held: never a credit twice
