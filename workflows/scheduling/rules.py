"""The scheduling rules a mentor lives by; the one check every path that commits a mentor makes is
``workflows.scheduling.checks``.

A mentor's own rules: weekly windows (``workflows.scheduling.hours``), date overrides (other hours for one
local date, or none), time off (periods away, open-ended allowed), and limits on sessions per local day
and week. A listing's: buffers kept before and after its sessions, notice, horizon and slot step, and
its own limits (on that listing's sessions, per mentor teaching it), and how many active bookings one
mentee may hold with one mentor. docs/PRIMER.md tells how they combine.

Where each is decided:

* a request checks every rule (:func:`check_request_time`, then ``checks.check`` under the mentor's
  schedule lock), so a refused time fails at once, with 409 and the rule (``details["rule"]``);
* an accept checks what can have changed since the request (``checks.check`` with ``at_accept``: time
  off, a date override, commitments with their buffers, limits; never notice or horizon) under the same
  lock, which every change of a mentor's commitments takes (``workflows.scheduling.commitments``): two accepts that
  would cross a buffer or a limit by one are decided one after the other, and the second sees the first;
* a mentee's active bookings with a mentor change only through the mentee's own requests and seats,
  which take the mentee's turn (``workflows.bookings.limits``), so that count holds exactly too;
* free slots apply them all at once (``workflows.scheduling.slots``).

Buffers are the larger of the two sides': two commitments of a mentor are never closer than the larger
of the earlier one's after-buffer and the later one's before-buffer. That is not what an exclusion
constraint over buffered ranges can say (it would add the two), so the schedule lock decides it; the
exclusion constraints stay the last word on plain overlaps.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import Listing, MentorProfile
from workflows.errors import BusinessRuleViolation, Conflict, refusal
from workflows.scheduling.hours import Hours, weekly_hours
from workflows.wording import span


class Rule(StrEnum):
    """The rule a refusal names (``details["rule"]``)."""

    NOTICE = "min_notice"
    HORIZON = "max_days_ahead"
    HOURS = "hours"
    SLOT_GRID = "slot_grid"
    TIME_OFF = "time_off"
    CALENDAR = "calendar_busy"
    BUSY = "busy"
    BUFFER = "buffer"
    DAY_LIMIT = "max_sessions_per_day"
    WEEK_LIMIT = "max_sessions_per_week"
    ACTIVE_LIMIT = "max_active_bookings_per_mentor"
    INSTANT_LIMIT = "max_instant_bookings_per_mentor"
    UNAVAILABLE = "unavailable"


# Reasons that are the mentor's own business: their time off, their own calendar, another person's booking and the
# buffers around it. Anyone else is told ``unavailable`` (:func:`as_seen_by_others`), so that a mentee probing times
# cannot map the mentor's private calendar; the listing's public rules (hours, notice, horizon, caps, its slot grid)
# and the viewer's own conflicts keep their names.
PRIVATE = frozenset({Rule.TIME_OFF, Rule.CALENDAR, Rule.BUSY, Rule.BUFFER})
UNAVAILABLE_MESSAGE = refusal("the mentor is not available at that time")


def refused(rule: Rule, message: str, *, words: Mapping[str, object] | None = None, **details: Any) -> Conflict:
    return Conflict(message, rule=rule.value, words=words, **details)


def as_seen_by_others(refusal: Conflict) -> Conflict:
    """The refusal as anyone but the mentor reads it (:data:`PRIVATE`)."""
    if refusal.details.get("rule") in PRIVATE:
        return refused(Rule.UNAVAILABLE, UNAVAILABLE_MESSAGE)
    return refusal


@contextmanager
def seen_by_others() -> Iterator[None]:
    """Refusals raised in the block, as anyone but the mentor reads them (:func:`as_seen_by_others`)."""
    try:
        yield
    except Conflict as refusal:
        seen = as_seen_by_others(refusal)
        if seen is refusal:
            raise
        raise seen from None


@dataclass(frozen=True)
class ListingRules:
    """What a listing's sessions need of a mentor's calendar."""

    listing_id: uuid.UUID
    duration: timedelta
    step: timedelta
    before: int  # minutes
    after: int
    notice: timedelta
    days_ahead: int | None
    per_day: int | None
    per_week: int | None
    max_active: int | None
    max_instant: int = 26  # upcoming instant bookings one mentee holds with one mentor

    @classmethod
    def of(cls, listing: Listing) -> ListingRules:
        settings = get_settings()
        notice = listing.min_notice_minutes if listing.min_notice_minutes is not None else settings.min_notice_minutes
        active = listing.max_active_bookings_per_mentor or settings.max_active_bookings_per_mentor
        return cls(listing.id, timedelta(minutes=listing.duration_minutes),
                   timedelta(minutes=listing.slot_step_minutes or listing.duration_minutes),
                   listing.buffer_before_minutes, listing.buffer_after_minutes, timedelta(minutes=notice),
                   listing.max_days_ahead, listing.max_sessions_per_day, listing.max_sessions_per_week, active,
                   listing.max_instant_bookings_per_mentor or settings.max_instant_bookings_per_mentor)

    def horizon(self, now: datetime) -> datetime | None:
        return now + timedelta(days=self.days_ahead) if self.days_ahead else None


def check_request_time(rules: ListingRules, start: datetime, now: datetime) -> None:
    """A request's time against the listing's notice and horizon (not at accept: a mentor slow to answer
    never makes a request too late, and a request inside the horizon when sent stays so)."""
    if start < now:
        raise BusinessRuleViolation("a booking must start in the future",
                                    earliest_start=(now + rules.notice).isoformat())
    earliest = now + rules.notice
    if start < earliest:
        raise refused(Rule.NOTICE, "this listing needs {notice} of notice", words={"notice": span(rules.notice)},
                      earliest_start=earliest.isoformat())
    horizon = rules.horizon(now)
    if horizon is not None and start >= horizon:
        raise refused(Rule.HORIZON, "this listing takes requests at most {days_ahead} days ahead",
                      words={"days_ahead": rules.days_ahead},
                      latest_start=horizon.isoformat())


def in_minutes(span: timedelta) -> str:
    """A span in words: "2 days", "1 hour", "90 minutes"."""
    minutes = int(span.total_seconds() // 60)
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes and minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{minutes} minutes"


# --- one mentor's calendar ----------------------------------------------------------------------------

TimeOffRange = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class MentorCalendar:
    """A mentor's own rules over a period: their windows, the date overrides and the time off meeting it."""

    id: uuid.UUID
    timezone: str
    weekly: Mapping[int, Hours] | None  # None: no windows, any time
    overrides: Mapping[date, Hours]
    time_off: tuple[TimeOffRange, ...]
    per_day: int | None
    per_week: int | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def hours(self, day: date) -> Hours | None:
        """The hours of a local date: its override's, else its weekday's windows; ``None`` for any time."""
        if day in self.overrides:
            return self.overrides[day]
        if self.weekly is None:
            return None
        return self.weekly.get(day.weekday(), ())

    @property
    def limited(self) -> bool:
        return self.per_day is not None or self.per_week is not None


def local_day(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight of ``day`` to the next one, as instants (23 or 25 hours on a DST change)."""
    return (datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC")),
            datetime.combine(day + timedelta(days=1), time(), zone).astimezone(ZoneInfo("UTC")))


def calendars(db: Session, profiles: Sequence[MentorProfile], start: datetime, end: datetime
              ) -> dict[uuid.UUID, MentorCalendar]:
    """The calendars of these mentors (windows loaded) over [start, end): two queries, however many mentors."""
    ids = [p.id for p in profiles]
    overrides: dict[uuid.UUID, dict[date, Hours]] = {i: {} for i in ids}
    away: dict[uuid.UUID, list[TimeOffRange]] = {i: [] for i in ids}
    if ids:
        first, last = (start - timedelta(days=2)).date(), (end + timedelta(days=2)).date()
        for mentor, day, hours in db.execute(_OVERRIDES, {"ids": ids, "first": first, "last": last}):
            overrides[mentor][day] = tuple((s, e) for s, e in hours)
        for mentor, off_start, off_end in db.execute(_TIME_OFF, {"ids": ids, "start": start, "end": end}):
            away[mentor].append((off_start, off_end))
    return {p.id: MentorCalendar(p.id, p.timezone, weekly_hours(p.availability), overrides[p.id],
                                 tuple(away[p.id]), p.max_sessions_per_day, p.max_sessions_per_week)
            for p in profiles}


_OVERRIDES = text("SELECT mentor_profile_id, day, hours FROM date_overrides "
                  "WHERE mentor_profile_id = ANY(:ids) AND day BETWEEN :first AND :last")
_TIME_OFF = text("SELECT mentor_profile_id, start_time, end_time FROM time_off WHERE mentor_profile_id = ANY(:ids) "
                 "AND start_time < :end AND (end_time IS NULL OR end_time > :start) ORDER BY start_time")


# --- the check, under the mentor's schedule lock --------------------------------------------------------


