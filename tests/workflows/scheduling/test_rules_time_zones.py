"""Days, weeks, date overrides and time off are the mentor's, in their timezone, across daylight-saving changes;
the mentee reads the times in theirs. A DST week in Europe (clocks forward on Sunday 28 March 2027) and one in
America (back on Sunday 7 November 2027), and a mentor and mentee 13 hours apart."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from models import AvailabilityWindow, Booking, BookingStatus, Listing
from tests import domain_calls
from tests.database import refused
from tests.factories.accounts import actor_of
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from workflows import wording
from workflows.bookings import lifecycle as bookings
from workflows.errors import Conflict
from workflows.mentors import time_off as mentor_schedule
from workflows.scheduling import slots

NOW = datetime(2027, 1, 4, 12, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def listing_in(db: Session, timezone: str, *, hours: tuple[int, int] | None = (9, 12)) -> Listing:
    profile = MentorProfileFactory(timezone=timezone)
    if hours is not None:
        profile.availability.extend(AvailabilityWindow(id=uuid.uuid4(), weekday=day, start_minute=hours[0] * 60,
                                                       end_minute=hours[1] * 60) for day in range(7))
    db.flush()
    return ListingFactory(mentor_profile=profile)


def starts(db: Session, listing: Listing, start: datetime, end: datetime) -> list[datetime]:
    return [slot.start_time for slot in slots.free_slots(db, listing.id, start=start, end=end, now=NOW)]


def request(db: Session, listing: Listing, start: datetime) -> Booking:
    """A request by a new mentee, on this module's clock."""
    return domain_calls.request(db, None, listing, start, now=NOW)


def rule_refusing(db: Session, listing: Listing, start: datetime) -> object:
    return refused(db, Conflict, lambda: request(db, listing, start)).details.get("rule")


def test_a_european_dst_week_keeps_the_mentors_wall_clock_for_windows_overrides_and_time_off(db: Session) -> None:
    listing = listing_in(db, "Europe/Paris")
    mentor = actor_of(listing.mentor_profile.user)
    # Sunday 28 March: an override of 01:00-05:00, around the hour that does not exist (02:00-03:00).
    mentor_schedule.set_date_overrides(db, mentor, listing.mentor_profile_id, [
        mentor_schedule.OverrideSpec(date(2027, 3, 28), ((60, 300),))], now=NOW)
    # Monday 29 March, 09:00-11:00 Paris wall clock (now UTC+2): 07:00-09:00 UTC.
    mentor_schedule.set_time_off(db, mentor, listing.mentor_profile_id, [
        mentor_schedule.TimeOffSpec(datetime(2027, 3, 29, 9), datetime(2027, 3, 29, 11))],  # noqa: DTZ001 - wall clock
        now=NOW)
    saturday, sunday, monday = (utc(2027, 3, day) for day in (27, 28, 29))
    assert starts(db, listing, saturday, sunday) == [utc(2027, 3, 27, h) for h in (8, 9, 10)]  # UTC+1
    # 01:00 local (00:00 UTC); 02:00 does not exist, and 01:30-02:30 would cross it; 03:00 and 04:00 (UTC+2).
    assert starts(db, listing, sunday - timedelta(hours=1), monday - timedelta(hours=2)) == [
        utc(2027, 3, 28, 0), utc(2027, 3, 28, 1), utc(2027, 3, 28, 2)]
    assert starts(db, listing, monday, monday + timedelta(days=1)) == [utc(2027, 3, 29, 9)]  # 11:00 local only
    assert rule_refusing(db, listing, utc(2027, 3, 29, 7)) == "unavailable"  # the mentor's time off is theirs
    assert rule_refusing(db, listing, utc(2027, 3, 28, 7)) == "hours"  # 09:00 local, outside the override


def test_an_american_dst_week_counts_the_mentors_local_days_and_weeks(db: Session) -> None:
    listing = listing_in(db, "America/New_York", hours=None)
    listing.mentor_profile.max_sessions_per_day = 1
    listing.mentor_profile.max_sessions_per_week = 2
    mentor = actor_of(listing.mentor_profile.user)
    # Saturday 6 November 20:00 in New York (UTC-4) is Sunday 00:00 UTC: the mentor's Saturday is then full.
    bookings.accept_booking(db, mentor, request(db, listing, utc(2027, 11, 7, 0)).id)
    assert rule_refusing(db, listing, utc(2027, 11, 7, 2)) == "max_sessions_per_day"  # 22:00 Saturday local
    # Sunday 7 November is 25 hours long locally (04:00 UTC to 05:00 UTC the next day): its last hour still
    # belongs to that week, the second session of it, which fills the week.
    bookings.accept_booking(db, mentor, request(db, listing, utc(2027, 11, 8, 4)).id)  # 23:00 Sunday local
    assert rule_refusing(db, listing, utc(2027, 11, 3, 15)) == "max_sessions_per_week"  # Wednesday, that week
    # Monday 8 November 00:00 local (05:00 UTC) opens the next week.
    assert starts(db, listing, utc(2027, 11, 7, 4), utc(2027, 11, 8, 6)) == [utc(2027, 11, 8, 5)]
    assert request(db, listing, utc(2027, 11, 8, 5)).status == BookingStatus.DRAFT


def test_a_mentor_and_a_mentee_thirteen_hours_apart(db: Session) -> None:
    """Auckland (UTC+13 in January) and London (UTC+0): the mentor's Monday 09:00 is the mentee's Sunday 20:00."""
    listing = listing_in(db, "Pacific/Auckland", hours=(9, 10))
    listing.mentor_profile.max_sessions_per_day = 1
    found = starts(db, listing, utc(2027, 1, 10), utc(2027, 1, 12))
    assert found == [utc(2027, 1, 10, 20), utc(2027, 1, 11, 20)]  # Monday and Tuesday 09:00 in Auckland
    assert wording.when(found[0], "Europe/London", "en-GB").startswith("Sun 10 Jan, 20:00")
    assert wording.when(found[0], "Pacific/Auckland", "en-GB").startswith("Mon 11 Jan, 09:00")
    # The mentee's Sunday evening request fills the mentor's Monday, not the mentee's Sunday.
    bookings.accept_booking(db, actor_of(listing.mentor_profile.user), request(db, listing, found[0]).id)
    assert starts(db, listing, utc(2027, 1, 10), utc(2027, 1, 12)) == [utc(2027, 1, 11, 20)]
