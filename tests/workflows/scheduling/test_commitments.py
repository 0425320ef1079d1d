"""What mentors and mentees are committed to (``workflows/scheduling/commitments.py``; a mentor's, as the scheduling
check reads it: ``workflows/scheduling/rules.py``), called directly: which bookings and sessions take a time, and that
one ending as another starts takes nothing from it. The open intervals of blocked starts behind free slots are
``test_slots.py``'s."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import BookingStatus, Listing, SessionStatus
from tests.factories.accounts import UserFactory
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import group_session
from workflows.errors import Conflict
from workflows.scheduling import checks
from workflows.scheduling.commitments import mentee_is_busy

START = datetime(2031, 4, 7, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


def busy_mentors(db: Session, mentor_profile_ids: list[uuid.UUID], start: datetime, end: datetime) -> set[uuid.UUID]:
    """Those of the mentors the scheduling check finds committed over [start, end) (rule ``busy``)."""
    busy = set()
    for mentor in mentor_profile_ids:
        listing_id = db.scalars(select(Listing.id).where(Listing.mentor_profile_id == mentor)).first()
        assert listing_id is not None
        try:
            checks.check(db, checks.Commitment(mentor, listing_id, start, end, 0, 0), hours=False)
        except Conflict as refusal:
            if refusal.details["rule"] != "busy":
                raise
            busy.add(mentor)
    return busy


def test_a_mentor_is_taken_by_accepted_individual_bookings_and_live_sessions_only(db: Session) -> None:
    taken = {status: ListingFactory() for status in BookingStatus}
    for status, listing in taken.items():
        BookingFactory(listing=listing, status=status, start_time=START)
    # Group sessions: an individual one's time is its accepted booking's too.
    by_session = {status: group_session(db, START, seats=0)[0] for status in SessionStatus}
    for status, session in by_session.items():
        session.status, session.started_at, session.completed_at = status, START, START + HOUR
    db.flush()
    listings = [*taken.values()]
    mentors = [listing.mentor_profile_id for listing in listings] + [s.mentor_profile_id for s in by_session.values()]
    assert busy_mentors(db, mentors, START, START + HOUR) == {
        taken[BookingStatus.ACCEPTED].mentor_profile_id, by_session[SessionStatus.SCHEDULED].mentor_profile_id,
        by_session[SessionStatus.IN_PROGRESS].mentor_profile_id}


def test_a_commitment_takes_its_own_time_and_not_the_moment_it_ends(db: Session) -> None:
    listing = ListingFactory()
    BookingFactory(listing=listing, status=BookingStatus.ACCEPTED, start_time=START)
    mentor = [listing.mentor_profile_id]
    assert busy_mentors(db, mentor, START + HOUR - timedelta(microseconds=1), START + 2 * HOUR) == set(mentor)
    assert busy_mentors(db, mentor, START + HOUR, START + 2 * HOUR) == set()
    assert busy_mentors(db, mentor, START - HOUR, START) == set()
    assert busy_mentors(db, [], START, START + HOUR) == set()


def test_a_group_session_takes_its_mentor_and_a_seat_its_mentee(db: Session) -> None:
    session, (seated,) = group_session(db, START, seats=1)
    assert busy_mentors(db, [session.mentor_profile_id], START, START + HOUR) == {session.mentor_profile_id}
    assert mentee_is_busy(db, seated, START + timedelta(minutes=30), START + 2 * HOUR)
    assert not mentee_is_busy(db, seated, START + HOUR, START + 2 * HOUR)


def test_a_mentee_is_taken_by_accepted_bookings_only(db: Session) -> None:
    mentee = UserFactory()
    for day, status in enumerate(BookingStatus):
        BookingFactory(mentee_user_id=mentee.id, status=status, start_time=START + timedelta(days=day))
    taken = [day for day in range(len(BookingStatus)) if mentee_is_busy(db, mentee.id, START + timedelta(days=day),
                                                       START + timedelta(days=day) + HOUR)]
    assert taken == [list(BookingStatus).index(BookingStatus.ACCEPTED)]
