"""A move by agreement has exactly one outcome under concurrency: two accepts of one proposal (each choosing a
different time) move the booking once; an accept racing the session's cancellation leaves either the move or the
cancellation, never both, never a live session for a moved booking. Threads on committed data through the API."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, BookingStatus, MentorshipSession, ProposalStatus, RescheduleProposal, SessionStatus
from tests.concurrency import concurrently
from tests.factories.accounts import Caller, UserFactory, actor_of, as_caller
from tests.factories.mentors import ListingFactory
from tests.servers import live_app
from workflows.bookings import lifecycle as bookings
from workflows.bookings import requests, reschedules
from workflows.sessions import lifecycle as sessions

T = (datetime.now(UTC) + timedelta(days=6)).replace(hour=9, minute=0, second=0, microsecond=0)
ROUNDS = 6


def moved_booking(seed: Session, day: int, *, with_session: bool) -> tuple[Caller, Caller, uuid.UUID, uuid.UUID]:
    """An accepted booking (with its session if asked) and the mentee's open proposal of two new times."""
    listing, mentee = ListingFactory(), UserFactory()
    start = T + timedelta(days=day)
    booking = requests.request_booking(seed, actor_of(mentee), listing_id=listing.id, start_time=start)
    bookings.accept_booking(seed, actor_of(listing.mentor_profile.user), booking.id)
    if with_session:
        sessions.create_session_from_booking(seed, booking.id)
    proposal = reschedules.propose(seed, actor_of(mentee), booking.id, [start + timedelta(hours=2),
                                                                         start + timedelta(hours=4)])
    return as_caller(listing.mentor_profile.user), as_caller(mentee), booking.id, proposal.id


def post(app: Flask, caller: Caller, path: str, body: dict[str, str]) -> Callable[[], int]:
    headers = caller.headers
    return lambda: app.test_client().post(path, headers=headers, json=body).status_code


def test_two_accepts_of_one_proposal_move_the_booking_once(seed: Session, committed: sessionmaker[Session]) -> None:
    rounds = [moved_booking(seed, day, with_session=False) for day in range(ROUNDS)]
    seed.commit()
    app = live_app(committed)
    for mentor, _mentee, booking_id, proposal_id in rounds:
        with committed() as db:
            times = db.get_one(RescheduleProposal, proposal_id).start_times
        outcomes = sorted(concurrently([
            post(app, mentor, f"/api/v1/reschedule-proposals/{proposal_id}/accept", {"start_time": t.isoformat()})
            for t in times]))
        assert outcomes == [200, 400], outcomes  # the second finds the proposal accepted
        with committed() as db:
            followers = db.scalars(select(Booking).where(Booking.rescheduled_from_booking_id == booking_id)).all()
            assert len(followers) == 1 and followers[0].status == BookingStatus.ACCEPTED
            assert db.get_one(Booking, booking_id).status == BookingStatus.RESCHEDULED


def test_an_accept_racing_the_sessions_cancellation_leaves_one_outcome(
        seed: Session, committed: sessionmaker[Session]) -> None:
    rounds = [moved_booking(seed, day, with_session=True) for day in range(ROUNDS)]
    seed.commit()
    app = live_app(committed)
    seen: Counter[str] = Counter()
    for mentor, mentee, booking_id, proposal_id in rounds:
        with committed() as db:
            start = db.get_one(RescheduleProposal, proposal_id).start_times[0].isoformat()
            session_id = db.scalars(select(MentorshipSession.id).where(MentorshipSession.booking_id == booking_id)
                                    ).one()
        accept_status, cancel_status = concurrently([
            post(app, mentor, f"/api/v1/reschedule-proposals/{proposal_id}/accept", {"start_time": start}),
            post(app, mentee, f"/api/v1/sessions/{session_id}/cancel", {"reason": "Plans changed"})])
        with committed() as db:
            old = db.get_one(Booking, booking_id)
            session = db.get_one(MentorshipSession, session_id)
            followers = db.scalars(select(Booking).where(Booking.rescheduled_from_booking_id == booking_id)).all()
            proposal = db.get_one(RescheduleProposal, proposal_id)
        if accept_status == 200:
            assert cancel_status in {400, 409}, cancel_status
            assert (old.status, session.cancel_reason, len(followers), proposal.status) == (
                BookingStatus.RESCHEDULED, "rescheduled", 1, ProposalStatus.ACCEPTED)
            seen["moved"] += 1
        else:
            assert (accept_status, cancel_status) in {(400, 200), (409, 200)}, (accept_status, cancel_status)
            assert (old.status, session.cancel_reason, followers, proposal.status) == (
                BookingStatus.CANCELLED, "Plans changed", [], ProposalStatus.EXPIRED)  # closed with its booking
            seen["cancelled"] += 1
        assert session.status == SessionStatus.CANCELLED
    assert sum(seen.values()) == ROUNDS, seen
