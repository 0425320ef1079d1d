"""Group sessions (``workflows/sessions/group.py``), called directly: who schedules one and when, and who may take
a seat. Leaving a seat and cancelling are ``test_sessions.py``'s; concurrent joins ``test_capacity_guarantees.py``'s."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from models import Booking, BookingStatus, Listing, ListingKind, MentorshipSession, SessionStatus, User
from tests.database import events_of, refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidTransition, NotFound
from workflows.sessions import group as group_sessions
from workflows.sessions import lifecycle as sessions

START = (datetime.now(UTC) + timedelta(days=4)).replace(minute=0, second=0, microsecond=0)
NOW = START - timedelta(days=1)


def group_listing(**fields: object) -> Listing:
    return ListingFactory(kind=ListingKind.GROUP, capacity=fields.pop("capacity", 3), price_cents=2500, **fields)


def schedule(db: Session, listing: Listing, start: datetime = START, now: datetime = NOW) -> MentorshipSession:
    return group_sessions.schedule_group_session(db, actor_of(listing.mentor_profile.user), listing.id,
                                                 start_time=start, now=now)


def join(db: Session, session: MentorshipSession, mentee: User, now: datetime = NOW) -> Booking:
    return group_sessions.join_group_session(db, actor_of(mentee), session.id, now=now)


def test_the_mentor_schedules_a_group_session_of_the_listings_length_and_seats_with_its_event(db: Session) -> None:
    listing = group_listing(capacity=4, duration_minutes=90)
    session = schedule(db, listing)
    assert (session.kind, session.status, session.listing_id, session.mentor_profile_id) == (
        ListingKind.GROUP, SessionStatus.SCHEDULED, listing.id, listing.mentor_profile_id)
    assert (session.start_time, session.end_time, session.capacity, session.seats_taken) == (
        START, START + timedelta(minutes=90), 4, 0)
    assert events_of(db, session.id) == [("session.scheduled", f"user:{listing.mentor_profile.user_id}")]


def test_only_the_mentor_schedules_and_only_on_an_active_group_listing(db: Session) -> None:
    listing = group_listing()
    stranger = refused(db, Forbidden, lambda: group_sessions.schedule_group_session(
        db, actor_of(UserFactory()), listing.id, start_time=START, now=NOW))
    assert stranger.message == "only the listing's mentor can schedule its group sessions"
    individual = refused(db, BusinessRuleViolation, lambda: schedule(db, ListingFactory()))
    assert individual.message == "only group listings have group sessions"
    inactive = refused(db, BusinessRuleViolation, lambda: schedule(db, group_listing(active=False)))
    assert inactive.message == "this listing is not active"
    unknown = refused(db, NotFound, lambda: group_sessions.schedule_group_session(
        db, actor_of(UserFactory()), uuid.uuid4(), start_time=START, now=NOW))
    assert unknown.message == "listing not found"


def test_a_group_session_starts_after_now(db: Session) -> None:
    listing = group_listing()
    error = refused(db, BusinessRuleViolation, lambda: schedule(db, listing, start=NOW, now=NOW))
    assert error.message == "a group session must start in the future"
    assert schedule(db, listing, start=NOW + timedelta(microseconds=1), now=NOW).status == SessionStatus.SCHEDULED


def test_a_group_session_never_overlaps_the_mentors_accepted_bookings_nor_their_other_sessions(db: Session) -> None:
    listing = group_listing(duration_minutes=60)
    other = ListingFactory(mentor_profile=listing.mentor_profile)
    BookingFactory(listing=other, status=BookingStatus.ACCEPTED, start_time=START)
    booked = refused(db, Conflict, lambda: schedule(db, listing, START + timedelta(minutes=59)))
    assert booked.message == "the mentor already has an accepted booking or a session at that time"
    schedule(db, listing, START + timedelta(hours=2))
    taken = refused(db, Conflict, lambda: schedule(db, listing, START + timedelta(hours=2, minutes=30)))
    assert taken.message == "the mentor already has an accepted booking or a session at that time"
    assert schedule(db, listing, START + timedelta(hours=1)).start_time == START + timedelta(hours=1)  # touching


def test_a_seat_is_an_accepted_booking_at_the_listings_price_counted_on_the_session(db: Session) -> None:
    listing = group_listing()
    session = schedule(db, listing)
    mentee = UserFactory()
    seat = join(db, session, mentee)
    assert (seat.status, seat.group_session_id, seat.mentee_user_id, seat.price_cents, seat.decided_at) == (
        BookingStatus.ACCEPTED, session.id, mentee.id, 2500, NOW)
    assert (seat.start_time, seat.end_time) == (session.start_time, session.end_time)
    assert session.seats_taken == 1
    assert events_of(db, seat.id) == [("booking.accepted", f"user:{mentee.id}")]


def test_a_full_session_takes_no_one_more(db: Session) -> None:
    session = schedule(db, group_listing(capacity=2))
    join(db, session, UserFactory())
    join(db, session, UserFactory())
    error = refused(db, Conflict, lambda: join(db, session, UserFactory()))
    assert error.message == "this group session is full"
    db.refresh(session)
    assert session.seats_taken == 2


def test_a_mentee_holds_one_seat_and_none_at_a_time_they_are_taken(db: Session) -> None:
    session = schedule(db, group_listing())
    mentee = UserFactory()
    join(db, session, mentee)
    twice = refused(db, Conflict, lambda: join(db, session, mentee))
    assert twice.message == "you already hold a seat in this session"
    busy = UserFactory()
    BookingFactory(mentee_user_id=busy.id, status=BookingStatus.ACCEPTED, start_time=START + timedelta(minutes=30))
    taken = refused(db, Conflict, lambda: join(db, session, busy))
    assert taken.message == "you already have an accepted booking or a seat at this time"
    db.refresh(session)
    assert session.seats_taken == 1


def test_seats_are_taken_only_in_a_scheduled_session_before_its_start_and_not_by_its_mentor(db: Session) -> None:
    listing = group_listing()
    session = schedule(db, listing)
    own = refused(db, BusinessRuleViolation, lambda: join(db, session, listing.mentor_profile.user))
    assert own.message == "you cannot join your own group session"
    started = refused(db, BusinessRuleViolation, lambda: join(db, session, UserFactory(), now=START))
    assert started.message == "this group session has already started"
    sessions.cancel_session(db, actor_of(listing.mentor_profile.user), session.id, reason="ill", now=NOW)
    cancelled = refused(db, InvalidTransition, lambda: join(db, session, UserFactory()))
    assert cancelled.message == "cannot join a session that is cancelled"


def test_only_a_group_session_has_seats(db: Session) -> None:
    booking = BookingFactory(status=BookingStatus.ACCEPTED, start_time=START)
    individual = sessions.create_session_from_booking(db, booking.id)
    assert individual is not None
    for session_id in (individual.id, uuid.uuid4()):
        error = refused(db, NotFound, lambda sid=session_id: group_sessions.join_group_session(
            db, actor_of(UserFactory()), sid, now=NOW))
        assert error.message == "group session not found"


def test_the_sessions_open_to_join_are_the_scheduled_ones_yet_to_start_in_start_order(db: Session) -> None:
    listing = group_listing()
    later = schedule(db, listing, START + timedelta(hours=3))
    sooner = schedule(db, listing, START)
    cancelled = schedule(db, listing, START + timedelta(hours=6))
    sessions.cancel_session(db, actor_of(listing.mentor_profile.user), cancelled.id, reason="ill", now=NOW)
    page = group_sessions.upcoming_group_sessions(db, listing.id, limit=10, cursor=None, now=NOW)
    assert [s.id for s in page.items] == [sooner.id, later.id]
    started = group_sessions.upcoming_group_sessions(db, listing.id, limit=10, cursor=None, now=START)
    assert [s.id for s in started.items] == [later.id]
    error = refused(db, NotFound, lambda: group_sessions.upcoming_group_sessions(
        db, uuid.uuid4(), limit=10, cursor=None))
    assert error.message == "listing not found"
