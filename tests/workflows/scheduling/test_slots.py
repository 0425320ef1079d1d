"""Free slots on the cases a wrong merge of calendars would get wrong: clock changes, windows at midnight,
commitments that touch, teams whose members are each free only part of the time; and, for random calendars,
the same answer as the definition checked candidate by candidate."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from models import (
    AvailabilityWindow,
    Booking,
    BookingStatus,
    Listing,
    ListingKind,
    ListingMember,
    MentorProfile,
    SessionStatus,
)
from tests.database import counting
from tests.factories.accounts import UserFactory
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from tests.factories.sessions import GroupSessionFactory, SessionFactory
from workflows.scheduling import slots
from workflows.scheduling.hours import MINUTES_PER_DAY, fits_windows

# Long before every range below: only ``start`` limits the slots.
LONG_AGO = datetime(2030, 1, 1, tzinfo=UTC)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def mentor(db: Session, timezone: str = "UTC", windows: tuple[tuple[int, int, int], ...] = ()) -> MentorProfile:
    """A mentor with weekly windows given as (weekday, first minute, last minute) in ``timezone``."""
    profile = MentorProfileFactory(timezone=timezone)
    profile.availability.extend(AvailabilityWindow(id=uuid.uuid4(), weekday=weekday, start_minute=first,
                                                   end_minute=last) for weekday, first, last in windows)
    db.flush()
    return profile


def listing(db: Session, members: list[MentorProfile], minutes: int = 60) -> Listing:
    """An individual listing of ``minutes`` taught by ``members`` (the first owns it; one alone has no team)."""
    made = ListingFactory(mentor_profile=members[0], duration_minutes=minutes)
    if len(members) > 1:
        db.add_all(ListingMember(listing_id=made.id, mentor_profile_id=member.id, position=index)
                   for index, member in enumerate(members))
    db.flush()
    return made


def booked(db: Session, profile: MentorProfile, start: datetime, end: datetime,
           status: BookingStatus = BookingStatus.ACCEPTED, *, with_session: bool = False) -> None:
    """A booking of the mentor's, by a mentee of its own; with its live session if asked."""
    booking = Booking(id=uuid.uuid4(), listing_id=ListingFactory(mentor_profile=profile).id,
                      mentor_profile_id=profile.id, mentee_user_id=UserFactory().id, start_time=start, end_time=end,
                      status=status, price_cents=1, currency="USD")
    db.add(booking)
    db.flush()
    if with_session:
        SessionFactory(booking=booking)


def group_session(db: Session, profile: MentorProfile, start: datetime, end: datetime,
                  status: SessionStatus = SessionStatus.SCHEDULED) -> None:
    group = ListingFactory(mentor_profile=profile, kind=ListingKind.GROUP.value, capacity=5)
    GroupSessionFactory(listing=group, start_time=start, end_time=end, status=status,
                        started_at=start if status == SessionStatus.IN_PROGRESS else None)


def starts(db: Session, made: Listing, start: datetime, end: datetime, now: datetime = LONG_AGO) -> list[datetime]:
    found = slots.free_slots(db, made.id, start=start, end=end, now=now)
    assert all(slot.end_time - slot.start_time == timedelta(minutes=made.duration_minutes) for slot in found)
    return [slot.start_time for slot in found]


def hourly(first: str, count: int) -> list[datetime]:
    return [z(first) + timedelta(hours=hour) for hour in range(count)]


SUNDAY = 6
MONDAY, TUESDAY = 0, 1


def test_the_day_clocks_go_forward_has_no_start_in_the_skipped_hour_nor_one_outgrowing_its_window(
        db: Session) -> None:
    # Paris, Sunday 30 March 2031: 02:00 local becomes 03:00 (01:00 UTC).
    anytime = listing(db, [mentor(db, "Europe/Paris")])
    assert starts(db, anytime, z("2031-03-29T23:00"), z("2031-03-30T22:00")) == (
        hourly("2031-03-29T23:00", 2) + hourly("2031-03-30T01:00", 21))  # 00:00, 01:00, then 03:00 to 23:00
    # 00:00-02:30: the 01:00 start would end at 03:00 local, past the window. 03:00-05:00: both starts.
    windowed = listing(db, [mentor(db, "Europe/Paris", ((SUNDAY, 0, 150), (SUNDAY, 180, 300)))])
    assert starts(db, windowed, z("2031-03-29T00:00"), z("2031-03-31T00:00")) == [
        z("2031-03-29T23:00"), z("2031-03-30T01:00"), z("2031-03-30T02:00")]
    # Half hours in 01:00-03:30: 01:30 local ends at 03:00 local, 30 minutes later; 02:00 and 02:30 never come.
    half_hours = listing(db, [mentor(db, "Europe/Paris", ((SUNDAY, 60, 210),))], minutes=30)
    assert starts(db, half_hours, z("2031-03-29T00:00"), z("2031-03-31T00:00")) == [
        z("2031-03-30T00:00"), z("2031-03-30T00:30"), z("2031-03-30T01:00")]


def test_the_day_clocks_go_back_offers_each_local_start_once(db: Session) -> None:
    # Paris, Sunday 26 October 2031: 03:00 local becomes 02:00 again (01:00 UTC); 02:00 is its first time.
    anytime = listing(db, [mentor(db, "Europe/Paris")])
    assert starts(db, anytime, z("2031-10-25T22:00"), z("2031-10-26T23:00")) == (
        hourly("2031-10-25T22:00", 3) + hourly("2031-10-26T02:00", 21))  # no start at 01:00 UTC
    profile = mentor(db, "Europe/Paris", ((SUNDAY, 60, 240),))
    windowed = listing(db, [profile])
    assert starts(db, windowed, z("2031-10-25T00:00"), z("2031-10-27T00:00")) == [
        z("2031-10-25T23:00"), z("2031-10-26T00:00"), z("2031-10-26T02:00")]
    booked(db, profile, z("2031-10-26T00:00"), z("2031-10-26T01:00"))
    assert starts(db, windowed, z("2031-10-25T00:00"), z("2031-10-27T00:00")) == [
        z("2031-10-25T23:00"), z("2031-10-26T02:00")]


def test_windows_meet_at_midnight_without_joining_and_local_days_straddle_utc_ones(db: Session) -> None:
    # New York in January (UTC-5): Monday 22:00-24:00 and Tuesday 00:00-01:00.
    new_york = mentor(db, "America/New_York", ((MONDAY, 22 * 60, MINUTES_PER_DAY), (TUESDAY, 0, 60)))
    hour, hour_and_a_half = listing(db, [new_york]), listing(db, [new_york], minutes=90)
    week = (z("2031-01-12T00:00"), z("2031-01-19T00:00"))
    # The 23:00 start ends at local midnight, the end of its window.
    assert starts(db, hour, *week) == hourly("2031-01-14T03:00", 3)
    # Ninety minutes never span two windows, even touching ones: 23:00-00:30 is not offered.
    assert starts(db, hour_and_a_half, *week) == [z("2031-01-14T03:00")]
    # Tokyo (UTC+9): Monday 00:00-02:00 local is Sunday 15:00-17:00 UTC; the range starts inside it.
    tokyo = listing(db, [mentor(db, "Asia/Tokyo", ((MONDAY, 0, 120),))])
    assert starts(db, tokyo, z("2031-01-12T15:30"), z("2031-01-13T00:00")) == [z("2031-01-12T16:00")]


def test_a_start_touching_a_commitment_is_free_and_only_live_ones_count(db: Session) -> None:
    profile = mentor(db)
    booked(db, profile, z("2031-02-03T10:00"), z("2031-02-03T11:00"), with_session=True)
    booked(db, profile, z("2031-02-03T12:00"), z("2031-02-03T13:00"))
    group_session(db, profile, z("2031-02-03T15:00"), z("2031-02-03T16:00"))
    booked(db, profile, z("2031-02-03T17:00"), z("2031-02-03T18:00"), BookingStatus.CANCELLED)
    group_session(db, profile, z("2031-02-03T19:00"), z("2031-02-03T20:00"), SessionStatus.CANCELLED)
    day = (z("2031-02-03T09:00"), z("2031-02-03T21:00"))
    assert starts(db, listing(db, [profile]), *day) == [
        z(f"2031-02-03T{hour:02}:00") for hour in (9, 11, 13, 14, 16, 17, 18, 19, 20)]
    # Every 90 minutes from midnight: 13:30 ends as the group session begins.
    assert starts(db, listing(db, [profile], minutes=90), *day) == [
        z("2031-02-03T13:30"), z("2031-02-03T16:30"), z("2031-02-03T18:00"), z("2031-02-03T19:30")]


@pytest.mark.parametrize("second_timezone", ["UTC", "Europe/London"])
def test_a_team_start_needs_one_member_free_for_all_of_it(db: Session, second_timezone: str) -> None:
    # Same windows; in the same timezone or another with the same clock in February.
    window = ((MONDAY, 9 * 60 + 30, 11 * 60 + 30),)
    first, second = mentor(db, "UTC", window), mentor(db, second_timezone, window)
    booked(db, first, z("2031-02-03T09:00"), z("2031-02-03T10:00"))
    booked(db, second, z("2031-02-03T10:00"), z("2031-02-03T11:00"))
    # 09:30-10:30: the first member is free from 10:00, the second until 10:00, neither for all of it.
    assert starts(db, listing(db, [first, second]), z("2031-02-03T00:00"), z("2031-02-04T00:00")) == [
        z("2031-02-03T10:30")]


def test_a_team_is_free_whenever_one_member_is_even_if_none_is_free_all_day(db: Session) -> None:
    members = [mentor(db), mentor(db)]
    day = (z("2031-02-03T00:00"), z("2031-02-04T00:00"))
    for hour in range(24):
        start = z("2031-02-03T00:00") + timedelta(hours=hour)
        booked(db, members[hour % 2], start, start + timedelta(hours=1), with_session=hour % 3 == 0)
        if hour == 0:  # the second member, with no commitment yet, is free all day
            assert starts(db, listing(db, members), *day) == hourly("2031-02-03T00:00", 24)
    assert starts(db, listing(db, [members[0]]), *day) == hourly("2031-02-03T01:00", 24)[::2]
    assert starts(db, listing(db, members), *day) == hourly("2031-02-03T00:00", 24)
    # Both busy from 05:00 to 07:00: each takes a booking in the other's hour.
    booked(db, members[0], z("2031-02-03T05:00"), z("2031-02-03T06:00"))
    booked(db, members[1], z("2031-02-03T06:00"), z("2031-02-03T07:00"))
    assert starts(db, listing(db, members), *day) == [
        moment for moment in hourly("2031-02-03T00:00", 24) if moment.hour not in (5, 6)]


def test_a_team_across_timezones_offers_each_members_own_starts(db: Session) -> None:
    utc, kolkata = mentor(db, "UTC"), mentor(db, "Asia/Kolkata")  # UTC+05:30: starts on the half hour
    booked(db, kolkata, z("2031-02-03T00:30"), z("2031-02-03T02:30"))
    assert starts(db, listing(db, [utc, kolkata]), z("2031-02-03T00:00"), z("2031-02-03T04:00")) == [
        z("2031-02-03T00:00"), z("2031-02-03T01:00"), z("2031-02-03T02:00"), z("2031-02-03T02:30"),
        z("2031-02-03T03:00"), z("2031-02-03T03:30")]


def test_a_teams_calendars_are_read_in_one_statement_whatever_its_size(db: Session, connection: Connection) -> None:
    def statements(size: int) -> int:
        members = [mentor(db, timezone) for timezone in ["UTC", "Asia/Tokyo"] * (size // 2)]
        for member in members:
            booked(db, member, z("2031-02-03T10:00"), z("2031-02-03T11:00"), with_session=True)
        made = listing(db, members)
        db.expire_all()
        with counting(connection) as counted:
            assert starts(db, made, z("2031-02-03T00:00"), z("2031-02-04T00:00"))
            return counted()

    assert statements(2) == statements(12)


# -- the same answer as the definition, for random calendars ------------------------------------------------------

TIMEZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham",
             "America/Santiago")
# Days with a clock change in one of those zones in 2031 (Lord Howe moves by 30 minutes; Santiago at midnight).
CHANGES = ("2031-03-09", "2031-03-30", "2031-04-05", "2031-04-06", "2031-09-07", "2031-09-27", "2031-10-04",
           "2031-10-26", "2031-11-02")


def defined_starts(profiles: list[MentorProfile], commitments: dict[uuid.UUID, list[tuple[datetime, datetime]]],
                   minutes: int, start: datetime, end: datetime) -> list[datetime]:
    """Every candidate of every member checked on its own: local walls stepping by the duration from each
    window's opening (or midnight), left out when skipped by the clock, outside [start, end), outside a
    window, or overlapping one of the member's commitments."""
    duration, found = timedelta(minutes=minutes), set()
    for profile in profiles:
        zone, windows = ZoneInfo(profile.timezone), profile.availability
        openings = [(w.weekday, w.start_minute, w.end_minute) for w in windows] or [
            (weekday, 0, MINUTES_PER_DAY) for weekday in range(7)]
        date = (start - timedelta(days=2)).astimezone(zone).date()
        last = (end + timedelta(days=2)).astimezone(zone).date()
        while date <= last:
            for weekday, first, closing in openings:
                for minute in range(first, closing - minutes + 1, minutes) if date.weekday() == weekday else ():
                    wall = datetime.combine(date, time()) + timedelta(minutes=minute)
                    moment = wall.replace(tzinfo=zone).astimezone(UTC)
                    if (moment.astimezone(zone).replace(tzinfo=None) == wall and start <= moment < end
                            and (not windows or fits_windows(windows, profile.timezone, moment, moment + duration))
                            and not any(a < moment + duration and moment < b for a, b in commitments[profile.id])):
                        found.add(moment)
            date += timedelta(days=1)
    return sorted(found)


def spans(rng: random.Random, start: datetime, end: datetime, count: int) -> list[tuple[datetime, datetime]]:
    """Up to ``count`` disjoint spans of 15 minutes to 3 hours in [start, end), on 5-minute marks; some touch."""
    made, moment = [], start
    for _ in range(count):
        moment += timedelta(minutes=rng.choice((0, 0, 5, 40, 120, 300)))
        length = timedelta(minutes=rng.randrange(15, 181, 5))
        if moment + length > end:
            break
        made.append((moment, moment + length))
        moment += length
    return made


def random_windows(rng: random.Random) -> tuple[tuple[int, int, int], ...]:
    """None (any time) or, on some weekdays, two windows on 5-minute marks."""
    if rng.random() < 0.3:
        return ()
    cuts = sorted(rng.sample(range(0, MINUTES_PER_DAY + 1, 5), 6))
    return tuple((weekday, cuts[i], cuts[i + rng.randint(1, 2)])
                 for weekday in rng.sample(range(7), rng.randint(1, 7)) for i in (0, 3))


@pytest.mark.parametrize("seed", range(40))
def test_random_calendars_give_the_defined_starts(db: Session, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - scenarios, not secrets
    start = z(f"{rng.choice(CHANGES)}T00:00") + timedelta(minutes=rng.randrange(-3 * 1440, 0, 5))
    end = start + timedelta(days=4, minutes=rng.randrange(0, 1440, 5))
    around = (start - timedelta(hours=4), end + timedelta(hours=4))
    profiles: list[MentorProfile] = []
    commitments: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {}
    for _ in range(rng.randint(1, 4)):
        # Members often share a timezone and windows, and are then walked as one group.
        if profiles and rng.random() < 0.5:
            profile = mentor(db, profiles[-1].timezone, tuple(
                (w.weekday, w.start_minute, w.end_minute) for w in profiles[-1].availability))
        else:
            profile = mentor(db, rng.choice(TIMEZONES), random_windows(rng))
        busy = commitments[profile.id] = []
        groups = spans(rng, *around, rng.randint(0, 6))
        for a, b in groups:  # may overlap the bookings: two tables, no constraint between them
            status = rng.choice((SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS, SessionStatus.CANCELLED))
            group_session(db, profile, a, b, status)
            if status != SessionStatus.CANCELLED:
                busy.append((a, b))
        for a, b in spans(rng, *around, rng.randint(0, 20)):
            status = rng.choice((BookingStatus.ACCEPTED, BookingStatus.ACCEPTED, BookingStatus.DECLINED))
            # An accepted booking's live session has its times; it may not overlap a group session.
            session = (status == BookingStatus.ACCEPTED and rng.random() < 0.5
                       and not any(c < b and a < d for c, d in groups))
            booked(db, profile, a, b, status, with_session=session)
            if status == BookingStatus.ACCEPTED:
                busy.append((a, b))
        profiles.append(profile)
    minutes = rng.choice((15, 30, 45, 60, 90, 120))
    made = listing(db, profiles, minutes)
    now = start + timedelta(minutes=rng.randrange(-600, 2 * 1440, 7))
    defined = defined_starts(profiles, commitments, minutes, max(start, now), end)
    assert starts(db, made, start, end, now) == defined
    assert slots.has_free_slot(db, made, start=start, end=end, now=now) is bool(defined)
