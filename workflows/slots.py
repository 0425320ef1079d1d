"""Free start times of a listing: the mentor's windows, minus their commitments (a team's: the union).

A start is free when the listing's whole duration fits one of a mentor's windows, in the mentor's
timezone, and that mentor has no commitment during it; a team listing's starts are those free for at
least one member. Candidates come in runs, evenly spaced by the duration. Members with the same
candidates (the same windows, or timezones keeping the same clock over the range) form a group whose
runs are walked once, against the intervals in which every member of the group is committed: the
database merges each member's commitments and intersects them (``commitments.blocked_starts``). A run
skips a blocked interval in one step, so the work grows with the windows and the commitments, not
with their product.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from infra.config import get_settings
from models import Listing, MentorProfile
from workflows.availability import MINUTES_PER_DAY, fits_windows
from workflows.clock import utcnow
from workflows.commitments import OpenInterval, blocked_starts
from workflows.errors import BusinessRuleViolation, NotFound
from workflows.teams import teacher_ids

MAX_RANGE = timedelta(days=62)


@dataclass(frozen=True)
class Slot:
    start_time: datetime
    end_time: datetime


@dataclass(frozen=True)
class _Run:
    """Candidate starts ``first + k * step`` for ``k`` in ``range(count)``."""

    first: datetime
    count: int


def _local(day: datetime, minute: int, zone: ZoneInfo) -> datetime | None:
    """The instant of ``minute`` past local midnight of ``day``; ``None`` inside a DST gap."""
    wall = datetime.combine(day.date(), time()) + timedelta(minutes=minute)
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


def _runs(profile: MentorProfile, minutes: int, *, start: datetime, end: datetime) -> Iterator[_Run]:
    """The mentor's candidate starts in [start, end), as runs.

    Candidates step by the listing's duration from each window's opening (or from local midnight when
    the mentor has no windows), in the mentor's timezone, so a 09:00 window means 09:00 local on both
    sides of a daylight-saving change. Where the UTC offset is the same at a run's first start and at
    its last end, it is the same throughout (no zone of the time zone database changes its offset
    twice within two days, from 2000 on), so every candidate of the window is there, evenly spaced; on
    the day of a change, each candidate is checked alone, and those in a skipped hour, or no longer
    fitting their window once the clock moved, are left out.
    """
    zone = ZoneInfo(profile.timezone)
    duration = timedelta(minutes=minutes)
    windows = profile.availability or []
    openings = [(w.weekday, w.start_minute, w.end_minute) for w in windows] or [
        (weekday, 0, MINUTES_PER_DAY) for weekday in range(7)]
    day = start.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    last_day = end.astimezone(zone)
    while day <= last_day:
        for weekday, first_minute, last_minute in openings:
            count = (last_minute - first_minute) // minutes
            if day.weekday() != weekday or count == 0:
                continue
            first = _local(day, first_minute, zone)
            closing = _local(day, first_minute + count * minutes, zone)
            if first is not None and closing is not None and closing - first == count * duration:
                skip = _steps(first, start, duration)
                count = min(count, _steps(first, end, duration))
                if skip < count:
                    yield _Run(first + skip * duration, count - skip)
                continue
            for index in range(count):
                slot_start = _local(day, first_minute + index * minutes, zone)
                if slot_start is None or not start <= slot_start < end:
                    continue
                if windows and not fits_windows(windows, profile.timezone, slot_start, slot_start + duration):
                    continue
                yield _Run(slot_start, 1)
        day = (day + timedelta(days=1, hours=3)).replace(hour=0)


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


def _groups(db: Session, listing: Listing, *, start: datetime, end: datetime) -> dict[_Runs, list[uuid.UUID]]:
    """The listing's mentors grouped by their candidate starts in [start, end): each group's runs, and its ids."""
    profiles = db.scalars(select(MentorProfile).where(MentorProfile.id.in_(teacher_ids(db, listing)))
                          .options(selectinload(MentorProfile.availability)))
    step = timedelta(minutes=listing.duration_minutes)
    runs_of: dict[tuple[str, frozenset[tuple[int, int, int]]], _Runs] = {}
    groups: dict[_Runs, list[uuid.UUID]] = {}
    for profile in profiles:
        shape = (profile.timezone, frozenset((w.weekday, w.start_minute, w.end_minute) for w in profile.availability))
        if shape not in runs_of:
            runs_of[shape] = _joined(_runs(profile, listing.duration_minutes, start=start, end=end), step)
        groups.setdefault(runs_of[shape], []).append(profile.id)
    return groups


def _free_starts(db: Session, listing: Listing, start: datetime, end: datetime,
                 now: datetime | None) -> Iterator[datetime]:
    """The listing's free starts in [start, end), group after group (a start free in two groups comes twice)."""
    step = timedelta(minutes=listing.duration_minutes)
    earliest = max(start, (now or utcnow()) + timedelta(minutes=get_settings().min_notice_minutes))
    if earliest >= end:
        return
    groups = _groups(db, listing, start=earliest, end=end)
    blocked = blocked_starts(db, list(groups.values()), earliest, end + step, step)
    for runs, intervals in zip(groups, blocked, strict=True):
        yield from _free(runs, intervals, step)


def _listing(db: Session, listing_id: uuid.UUID) -> Listing:
    listing = db.get(Listing, listing_id)
    if listing is None:
        raise NotFound("listing not found")
    return listing


def free_slots(db: Session, listing_id: uuid.UUID, *, start: datetime, end: datetime,
               now: datetime | None = None) -> list[Slot]:
    """Start times in [start, end) at which the whole listing fits a window and nothing else, of its
    mentor or, for a team listing, of at least one of its members (the union of their free slots)."""
    _check_range(start, end)
    listing = _listing(db, listing_id)
    duration = timedelta(minutes=listing.duration_minutes)
    return [Slot(moment, moment + duration) for moment in sorted(set(_free_starts(db, listing, start, end, now)))]


def has_free_slot(db: Session, listing: Listing, *, start: datetime, end: datetime,
                  now: datetime | None = None) -> bool:
    """Whether :func:`free_slots` would find one: stops at the first free start."""
    _check_range(start, end)
    return next(_free_starts(db, listing, start, end, now), None) is not None
