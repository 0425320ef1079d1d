"""Sessions: made as the worker makes them (``make_session``), or written as rows with their bookings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import factory
from sqlalchemy.orm import Session

from models import BookingStatus, ListingKind, MentorProfile, MentorshipSession, SessionStatus
from tests.factories import Base
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from workflows.sessions import lifecycle as session_flow


class SessionFactory(Base):
    """A scheduled individual session of an accepted booking (``booking``), with the booking's listing, people
    and times: rows only, no workflow runs and no event."""

    class Meta:
        model = MentorshipSession
        exclude = ("booking",)

    booking = factory.SubFactory(BookingFactory, status=BookingStatus.ACCEPTED)
    id = factory.LazyFunction(uuid.uuid4)
    kind = ListingKind.INDIVIDUAL
    booking_id = factory.SelfAttribute("booking.id")
    listing_id = factory.SelfAttribute("booking.listing_id")
    mentor_profile_id = factory.SelfAttribute("booking.mentor_profile_id")
    mentee_user_id = factory.SelfAttribute("booking.mentee_user_id")
    start_time = factory.SelfAttribute("booking.start_time")
    end_time = factory.SelfAttribute("booking.end_time")
    status = SessionStatus.SCHEDULED


class GroupSessionFactory(Base):
    """A scheduled group session of a new group listing (``listing``), two days ahead, as many places as the
    listing has and none taken."""

    class Meta:
        model = MentorshipSession
        exclude = ("listing",)

    listing = factory.SubFactory(ListingFactory, kind=ListingKind.GROUP.value, capacity=5)
    id = factory.LazyFunction(uuid.uuid4)
    kind = ListingKind.GROUP
    listing_id = factory.SelfAttribute("listing.id")
    mentor_profile_id = factory.SelfAttribute("listing.mentor_profile_id")
    start_time = factory.LazyFunction(lambda: datetime.now(UTC) + timedelta(days=2))
    end_time = factory.LazyAttribute(lambda o: o.start_time + timedelta(hours=1))
    status = SessionStatus.SCHEDULED
    capacity = factory.SelfAttribute("listing.capacity")
    seats_taken = 0


def make_session(db: Session, start: datetime) -> tuple[Caller, Caller, MentorshipSession]:
    """An accepted booking and its session, created by the workflow the worker runs."""
    listing = ListingFactory(price_cents=8000)
    mentee = UserFactory()
    booking = BookingFactory(listing=listing, mentee_user_id=mentee.id, start_time=start,
                             status=BookingStatus.ACCEPTED, price_cents=8000)
    session = session_flow.create_session_from_booking(db, booking.id)
    assert session is not None
    return as_caller(listing.mentor_profile.user), as_caller(mentee), session


def individual_session(db: Session, start: datetime, *, mentee_timezone: str | None = None,
                       mentor_timezone: str = "Europe/Paris") -> MentorshipSession:
    """A scheduled individual session of an accepted booking, written as rows (no workflow runs, no event)."""
    booking = BookingFactory(status=BookingStatus.ACCEPTED, start_time=start, end_time=start + timedelta(hours=1),
                             mentee_user_id=UserFactory(timezone=mentee_timezone).id)
    db.get_one(MentorProfile, booking.mentor_profile_id).timezone = mentor_timezone
    session: MentorshipSession = SessionFactory(booking=booking)
    return session


def group_session(db: Session, start: datetime, seats: int) -> tuple[MentorshipSession, list[uuid.UUID]]:
    """A scheduled group session of five places, ``seats`` of them held; the session and its mentees' ids."""
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=5, title="Design clinic")
    session: MentorshipSession = GroupSessionFactory(listing=listing, start_time=start, seats_taken=seats)
    mentees = [UserFactory().id for _ in range(seats)]
    for mentee in mentees:
        BookingFactory(listing=listing, mentee_user_id=mentee, status=BookingStatus.ACCEPTED,
                       start_time=start, end_time=start + timedelta(hours=1), group_session_id=session.id)
    return session, mentees
