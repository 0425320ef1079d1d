"""A mentor's past year written as rows (sessions that ended each way, a group session, reviews), for the tests of
their numbers (``GET /mentor-profiles/{id}/stats``) through the API and in the browser."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from models import (
    BookingStatus,
    ListingKind,
    MentorProfile,
    MentorshipSession,
    NoShow,
    Review,
    SessionStatus,
)
from tests.factories import session
from tests.factories.accounts import UserFactory
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import GroupSessionFactory, SessionFactory
from workflows.sessions.reviews import refresh_rating


def month_start(zone: str, back: int, now: datetime | None = None) -> datetime:
    """The first instant of the month ``back`` months before this one, in ``zone``."""
    local = (now or datetime.now(UTC)).astimezone(ZoneInfo(zone))
    year, month = divmod(local.year * 12 + local.month - 1 - back, 12)
    return datetime(year, month + 1, 1, tzinfo=ZoneInfo(zone))


def month_name(zone: str, back: int) -> str:
    return f"{month_start(zone, back):%Y-%m}"


def ended(profile: MentorProfile, start: datetime, status: SessionStatus, mentee: uuid.UUID,
          cancelled_by: str | None = None) -> MentorshipSession:
    """A one-to-one session of the mentor's that ended as ``status``."""
    listing = ListingFactory(mentor_profile=profile)
    booking = BookingFactory(listing=listing, mentee_user_id=mentee, status=BookingStatus.ACCEPTED, start_time=start)
    done = {"completed_at": start + timedelta(hours=1)} if status == SessionStatus.COMPLETED else {}
    if status == SessionStatus.CANCELLED:
        done = {"cancelled_at": start - timedelta(days=1), "cancelled_by": cancelled_by}
    made: MentorshipSession = SessionFactory(booking=booking, status=status, **done)
    return made


def past_year(profile: MentorProfile) -> dict[str, uuid.UUID]:
    """The mentor's year, in their profile's timezone (``m-1`` is last month):

    - m-1: Ada twice and Dan once completed (Dan's at 03:00 on the 1st, the month before in UTC east of it), one
      cancelled by the mentee, one moved by agreement (cancelled by the system: not counted);
    - m-3: Bea completed, a group session completed with Ada in it and Eve absent from it, one mentee absent, one
      mentor absent, one missed;
    - m-13: Cy completed (older than the 12 months shown);
    - reviews of 5, 5 and 4 stars, and a hidden one of 1 star.

    So: m-1 3 completed 1 cancelled; m-3 2 completed 2 no-shows 1 missed; mentees Ada, Bea, Dan; Ada came back."""
    zone = profile.timezone
    people = {name: UserFactory(display_name=name).id for name in ("Ada", "Bea", "Cy", "Dan", "Eve")}
    last, third = month_start(zone, 1) + timedelta(days=9, hours=10), month_start(zone, 3) + timedelta(days=9, hours=10)
    reviewed = [
        ended(profile, last, SessionStatus.COMPLETED, people["Ada"]),
        ended(profile, last + timedelta(days=2), SessionStatus.COMPLETED, people["Ada"]),
        ended(profile, month_start(zone, 1) + timedelta(hours=3), SessionStatus.COMPLETED, people["Dan"]),
        ended(profile, third, SessionStatus.COMPLETED, people["Bea"]),
    ]
    ended(profile, last + timedelta(days=4), SessionStatus.CANCELLED, people["Bea"], cancelled_by="mentee")
    ended(profile, last + timedelta(days=5), SessionStatus.CANCELLED, people["Bea"], cancelled_by="system")
    ended(profile, third + timedelta(days=1), SessionStatus.MENTEE_NO_SHOW, people["Eve"])
    ended(profile, third + timedelta(days=2), SessionStatus.MENTOR_NO_SHOW, people["Eve"])
    ended(profile, third + timedelta(days=3), SessionStatus.MISSED, people["Eve"])
    ended(profile, month_start(zone, 13) + timedelta(days=9), SessionStatus.COMPLETED, people["Cy"])
    group_listing = ListingFactory(mentor_profile=profile, kind=ListingKind.GROUP.value, capacity=5)
    clinic = third + timedelta(days=4)
    group = GroupSessionFactory(listing=group_listing, start_time=clinic, seats_taken=2,
                                status=SessionStatus.COMPLETED, completed_at=clinic + timedelta(hours=1))
    for name, absent in (("Ada", None), ("Eve", NoShow.MENTEE)):
        BookingFactory(listing=group_listing, mentee_user_id=people[name], status=BookingStatus.ACCEPTED,
                       start_time=clinic, group_session_id=group.id, no_show=absent)
    db = session()
    for done, stars in zip(reviewed, (5, 5, 4, 1), strict=True):
        db.add(Review(id=uuid.uuid4(), session_id=done.id, mentor_profile_id=profile.id,
                      mentee_user_id=done.mentee_user_id, rating=stars, comment="",
                      hidden_at=datetime.now(UTC) if stars == 1 else None))
    db.flush()
    refresh_rating(db, profile)
    db.flush()
    return people
