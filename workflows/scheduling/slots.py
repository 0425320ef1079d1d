"""Free start times of a listing: the mentor's hours, minus what their rules and commitments block (a team's: the
union of its members').

A start is free when the listing's whole duration fits the mentor's hours of that local date (its date override's,
or its weekday's windows), in the mentor's timezone, and nothing blocks it: a commitment or its buffers, time off,
a day or week at one of the mentor's or the listing's limits (``workflows.scheduling.rules``); and it is at least the
listing's notice from now and within its horizon. Candidates come in runs, evenly spaced by the listing's slot
step (its duration by default) from each opening. Members with the same candidates form a group whose runs are
walked once, against the intervals in which every member of the group is blocked: sorted open intervals of
starts, which the database merges for each mentor (their commitments with buffers, their time off and full
days) and intersects for the group (``commitments.blocked_starts``). A run skips a blocked interval in one step,
so the work grows with the hours and the blocked intervals, not with their product.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from infra.sql import statuses
from models import BookingStatus, Listing, ListingKind, SessionStatus
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation
from workflows.lookups import listing_or_404
from workflows.scheduling.commitments import OpenInterval, blocked_starts
from workflows.scheduling.hours import MINUTES_PER_DAY, fits_hours
from workflows.scheduling.rules import ListingRules, MentorCalendar, calendars, local_day
from workflows.scheduling.teams import profiles, teacher_ids

MAX_RANGE = timedelta(days=62)
# How far ahead the first free time is looked for, when the listing has no nearer horizon.
FIRST_FREE_WITHIN = timedelta(days=366)


@dataclass(frozen=True)
class Slot:
    start_time: datetime
    end_time: datetime


@dataclass(frozen=True)
class _Run:
    """Candidate starts ``first + k * step`` for ``k`` in ``range(count)``."""

    first: datetime
    count: int


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime | None:
    """The instant of ``minute`` past local midnight of ``day``; ``None`` inside a DST gap."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    moment = wall.replace(tzinfo=zone)
    # Wall times skipped by a spring-forward change do not round-trip: there is no such slot.
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return moment.astimezone(UTC)


def _steps(since: datetime, until: datetime, step: timedelta) -> int:
    """The number of steps from ``since`` needed to reach ``until`` or beyond (0 when already there)."""
    if until <= since:
        return 0
    return -((since - until) // step)


def _runs(calendar: MentorCalendar, minutes: int, step_minutes: int, *, start: datetime, end: datetime
          ) -> Iterator[_Run]:
    """The mentor's candidate starts in [start, end), as runs.

    Candidates step by ``step_minutes`` from each opening of the mentor's hours of a local date (from local
    midnight when they take any time), in the mentor's timezone, so 09:00 means 09:00 local on both sides of a
    daylight-saving change; the last one ends by the opening's close. Where the UTC offset is the same at a
    run's first start and at its last end, it is the same throughout (no zone of the time zone database
    changes its offset twice within two days, from 2000 on), so every candidate of the opening is there,
    evenly spaced; on the day of a change, each candidate is checked alone, and those in a skipped hour, or no
    longer fitting once the clock moved, are left out.
    """
    zone = calendar.zone
    duration, step = timedelta(minutes=minutes), timedelta(minutes=step_minutes)
    day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date()
    while day <= last_day:
        hours = calendar.hours(day)
        for first_minute, last_minute in ((0, MINUTES_PER_DAY),) if hours is None else hours:
            if last_minute - first_minute < minutes:
                continue
            count = (last_minute - first_minute - minutes) // step_minutes + 1
            first = _local(day, first_minute, zone)
            closing = _local(day, first_minute + (count - 1) * step_minutes + minutes, zone)
            if first is not None and closing is not None and closing - first == (count - 1) * step + duration:
                skip = _steps(first, start, step)
                count = min(count, _steps(first, end, step))
                if skip < count:
                    yield _Run(first + skip * step, count - skip)
                continue
            for index in range(count):
                slot_start = _local(day, first_minute + index * step_minutes, zone)
                if slot_start is None or not start <= slot_start < end:
                    continue
                if not fits_hours(hours, zone, slot_start, slot_start + duration):
                    continue
                yield _Run(slot_start, 1)
        day += timedelta(days=1)


_Runs = tuple[_Run, ...]


def _joined(runs: Iterator[_Run], step: timedelta) -> _Runs:
    """The runs in start order, each joined to the next when that one carries on its progression: mentors
    whose candidates are the same instants (other timezones, the same clock) get the same runs."""
    joined: list[_Run] = []
    for run in sorted(runs, key=lambda r: r.first):
        if joined and joined[-1].first + joined[-1].count * step == run.first:
            joined[-1] = _Run(joined[-1].first, joined[-1].count + run.count)
        else:
            joined.append(run)
    return tuple(joined)


def _free(runs: Sequence[_Run], blocked: Sequence[OpenInterval], step: timedelta) -> Iterator[datetime]:
    """The candidates of ``runs`` outside every open interval of ``blocked`` (sorted, disjoint): each found by a
    binary search, and a run jumps past an interval that blocks it to its first candidate after the interval."""
    lowers = [lower for lower, _ in blocked]
    for run in runs:
        index = 0
        while index < run.count:
            candidate = run.first + index * step
            inside = bisect_left(lowers, candidate) - 1
            if inside >= 0 and candidate < blocked[inside][1]:
                index = max(index + 1, _steps(run.first, blocked[inside][1], step))
                continue
            yield candidate
            index += 1


def _check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise BusinessRuleViolation("`to` must be after `from`")
    if end - start > MAX_RANGE:
        raise BusinessRuleViolation("the range may span at most 62 days")


_Shape = tuple[str, object, tuple[tuple[date, object], ...]]


_FOREVER = datetime.max.replace(tzinfo=UTC)
_INSTANT = timedelta(microseconds=1)
# Accepted individual bookings and group sessions not cancelled, per mentor and local date, in all and of the
# listing: what the day and week limits count (``workflows.scheduling.rules``).
_DAY_COUNTS = statuses("""
    SELECT c.mentor_profile_id, CAST(c.start_time AT TIME ZONE m.timezone AS date), count(*),
           count(*) FILTER (WHERE c.listing_id = :listing)
    FROM (SELECT mentor_profile_id, start_time, listing_id FROM bookings WHERE mentor_profile_id = ANY(:ids)
          AND status = :accepted AND group_session_id IS NULL
          AND tstzrange(start_time, end_time, '[)') && tstzrange(:start, :end, '[)')
          UNION ALL
          SELECT mentor_profile_id, start_time, listing_id FROM sessions WHERE mentor_profile_id = ANY(:ids)
          AND kind = :group_kind AND status <> :cancelled
          AND tstzrange(start_time, end_time, '[)') && tstzrange(:start, :end, '[)')) c
    JOIN mentor_profiles m ON m.id = c.mentor_profile_id
    WHERE c.start_time >= :start AND c.start_time < :end
    GROUP BY 1, 2
""", accepted=BookingStatus.ACCEPTED, group_kind=ListingKind.GROUP, cancelled=SessionStatus.CANCELLED)


def _full_periods(db: Session, limited: Sequence[MentorCalendar], rules: ListingRules, start: datetime,
                  end: datetime) -> dict[uuid.UUID, list[OpenInterval]]:
    """For each mentor with a limit (theirs or the listing's), the local days and weeks already at it, as the
    intervals of starts they block."""
    found: dict[uuid.UUID, list[OpenInterval]] = {c.id: [] for c in limited}
    if not limited:
        return found
    days: dict[uuid.UUID, dict[date, tuple[int, int]]] = defaultdict(dict)
    for mentor, day, in_all, in_listing in db.execute(_DAY_COUNTS, {
            "ids": list(found), "listing": rules.listing_id, "start": start - timedelta(days=8),
            "end": end + timedelta(days=8)}):
        days[mentor][day] = (in_all, in_listing)
    for calendar in limited:
        weeks: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        for day, (in_all, in_listing) in days[calendar.id].items():
            if _at(in_all, calendar.per_day) or _at(in_listing, rules.per_day):
                first, last = local_day(day, calendar.zone)
                found[calendar.id].append((first - _INSTANT, last))
            week = weeks[day - timedelta(days=day.weekday())]
            week[0] += in_all
            week[1] += in_listing
        for monday, (in_all, in_listing) in weeks.items():
            if _at(in_all, calendar.per_week) or _at(in_listing, rules.per_week):
                first = local_day(monday, calendar.zone)[0]
                found[calendar.id].append((first - _INSTANT, local_day(monday + timedelta(days=7), calendar.zone)[0]))
    return found


def _at(count: int, limit: int | None) -> bool:
    return limit is not None and count >= limit


def _free_starts(db: Session, listing: Listing, start: datetime, end: datetime,
                 now: datetime | None, *, mentor_profile_id: uuid.UUID | None = None) -> Iterator[datetime]:
    """The listing's free starts in [start, end), group after group (a start free in two groups comes twice); of one
    of its mentors only, with ``mentor_profile_id``."""
    rules = ListingRules.of(listing)
    now = now or utcnow()
    earliest = max(start, now + rules.notice)
    horizon = rules.horizon(now)
    latest = min(end, horizon) if horizon is not None else end
    if earliest >= latest:
        return
    minutes, step_minutes = listing.duration_minutes, int(rules.step.total_seconds() // 60)
    teachers = [mentor_profile_id] if mentor_profile_id is not None else teacher_ids(db, listing)
    mentors = calendars(db, profiles(db, teachers), earliest - rules.duration, latest)
    groups: dict[_Shape, list[MentorCalendar]] = {}
    for calendar in mentors.values():
        shape = (calendar.timezone, tuple(sorted(calendar.weekly.items())) if calendar.weekly is not None else None,
                 tuple(sorted(calendar.overrides.items())))
        groups.setdefault(shape, []).append(calendar)
    limited = [c for c in mentors.values() if c.limited or rules.per_day is not None or rules.per_week is not None]
    extra = _full_periods(db, limited, rules, earliest, latest)
    for calendar in mentors.values():
        extra.setdefault(calendar.id, []).extend((off - rules.duration, until or _FOREVER)
                                                 for off, until in calendar.time_off)
    members = list(groups.values())
    blocked = blocked_starts(db, [[c.id for c in group] for group in members], earliest, latest, rules.duration,
                             before=rules.before, after=rules.after, extra=extra)
    for group, intervals in zip(members, blocked, strict=True):
        runs = _joined(_runs(group[0], minutes, step_minutes, start=earliest, end=latest), rules.step)
        yield from _free(runs, intervals, rules.step)


def _listing(db: Session, listing_id: uuid.UUID) -> Listing:
    return listing_or_404(db, listing_id)


def free_slots(db: Session, listing_id: uuid.UUID, *, start: datetime, end: datetime,
               now: datetime | None = None, mentor_profile_id: uuid.UUID | None = None) -> list[Slot]:
    """Start times in [start, end) at which the whole listing fits a window and nothing else, of its
    mentor or, for a team listing, of at least one of its members (the union of their free slots); of one of them
    only, with ``mentor_profile_id`` (a booking's mentor, for its move)."""
    _check_range(start, end)
    listing = _listing(db, listing_id)
    duration = timedelta(minutes=listing.duration_minutes)
    return [Slot(moment, moment + duration)
            for moment in sorted(set(_free_starts(db, listing, start, end, now, mentor_profile_id=mentor_profile_id)))]


def first_free_slot(db: Session, listing_id: uuid.UUID, *, after: datetime,
                    now: datetime | None = None) -> Slot | None:
    """The earliest free start at or after ``after``, up to the listing's horizon (a year from now at most), looked
    for one range of :data:`MAX_RANGE` at a time; ``None`` past that (a ``from`` years ahead looks for nothing)."""
    listing = _listing(db, listing_id)
    now = now or utcnow()
    duration = timedelta(minutes=listing.duration_minutes)
    start = max(after, now)
    horizon = ListingRules.of(listing).horizon(now)
    until = min(now + FIRST_FREE_WITHIN, horizon) if horizon is not None else now + FIRST_FREE_WITHIN
    while start < until:
        end = min(start + MAX_RANGE, until)
        found = min(_free_starts(db, listing, start, end, now), default=None)
        if found is not None:
            return Slot(found, found + duration)
        start = end
    return None


def has_free_slot(db: Session, listing: Listing, *, start: datetime, end: datetime,
                  now: datetime | None = None) -> bool:
    """Whether :func:`free_slots` would find one: stops at the first free start."""
    _check_range(start, end)
    return next(_free_starts(db, listing, start, end, now), None) is not None


def _step(listing: Listing, length: timedelta | None) -> timedelta:
    """A listing's slot step when its sessions take ``length``: its own step, else that length (as the listing has
    once its length is set to it)."""
    if listing.slot_step_minutes:
        return timedelta(minutes=listing.slot_step_minutes)
    return length or timedelta(minutes=listing.duration_minutes)


def free_starts_each(db: Session, listings: Sequence[Listing], *, start: datetime, end: datetime,
                     now: datetime | None = None, minutes: int | None = None) -> dict[uuid.UUID, list[datetime]]:
    """Of each one-mentor listing, its free starts in [start, end) as :func:`free_slots` offers them (its own step
    from each opening, its own rules), of a session of ``minutes`` (its own length unless given: a listing's step
    is then its slot step, else that length): a cohort's free time at once, each mentor its own group. Listings
    with the same terms share their queries (four or five, however many mentors)."""
    now = now or utcnow()
    found: dict[uuid.UUID, list[datetime]] = {listing.id: [] for listing in listings}
    alike: dict[tuple[object, ...], list[Listing]] = defaultdict(list)
    length = timedelta(minutes=minutes) if minutes is not None else None
    for listing in listings:
        rules = ListingRules.of(listing)
        own = listing.id if rules.per_day is not None or rules.per_week is not None else None
        key = (length or rules.duration, _step(listing, length), rules.before, rules.after, rules.notice,
               rules.days_ahead, own)
        alike[key].append(listing)
    for group in alike.values():
        first = ListingRules.of(group[0])
        rules = replace(first, step=_step(group[0], length), duration=length or first.duration)
        earliest = max(start, now + rules.notice)
        horizon = rules.horizon(now)
        latest = min(end, horizon) if horizon is not None else end
        if earliest >= latest:
            continue
        mentor_of = {listing.mentor_profile_id: listing.id for listing in group}
        mentors = calendars(db, profiles(db, list(mentor_of)), earliest - rules.duration, latest)
        limited = [c for c in mentors.values() if c.limited or rules.per_day is not None or rules.per_week is not None]
        extra = _full_periods(db, limited, rules, earliest, latest)
        for calendar in mentors.values():
            extra.setdefault(calendar.id, []).extend((off - rules.duration, until or _FOREVER)
                                                     for off, until in calendar.time_off)
        ordered = list(mentors.values())
        blocked = blocked_starts(db, [[c.id] for c in ordered], earliest, latest, rules.duration,
                                 before=rules.before, after=rules.after, extra=extra)
        minutes, step_minutes = int(rules.duration.total_seconds() // 60), int(rules.step.total_seconds() // 60)
        for calendar, intervals in zip(ordered, blocked, strict=True):
            runs = _joined(_runs(calendar, minutes, step_minutes, start=earliest, end=latest), rules.step)
            found[mentor_of[calendar.id]] = list(_free(runs, intervals, rules.step))
    return found
