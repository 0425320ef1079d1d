"""Free start times of a listing: the mentor's windows, minus their commitments (a team's: the union)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from infra.config import get_settings
from models import Listing, MentorProfile
from workflows.availability import MINUTES_PER_DAY, fits_windows
from workflows.clock import utcnow
from workflows.commitments import busy_intervals
from workflows.errors import BusinessRuleViolation, NotFound
from workflows.teams import teacher_ids

MAX_RANGE = timedelta(days=62)


@dataclass(frozen=True)
class Slot:
    start_time: datetime
    end_time: datetime


def _local(day: datetime, minute: int, zone: ZoneInfo) -> datetime | None:
    """The instant of ``minute`` past local midnight of ``day``; ``None`` inside a DST gap."""
    wall = datetime.combine(day.date(), time()) + timedelta(minutes=minute)
    moment = wall.replace(tzinfo=zone)
    # Wall times skipped by a spring-forward change do not round-trip: there is no such slot.
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return moment.astimezone(UTC)


def free_slots(db: Session, listing_id: uuid.UUID, *, start: datetime, end: datetime,
               now: datetime | None = None) -> list[Slot]:
    """Start times in [start, end) at which the whole listing fits a window and nothing else, of its
    mentor or, for a team listing, of at least one of its members (the union of their free slots)."""
    if end <= start:
        raise BusinessRuleViolation("`to` must be after `from`")
    if end - start > MAX_RANGE:
        raise BusinessRuleViolation("the range may span at most 62 days")
    listing = db.get(Listing, listing_id)
    if listing is None:
        raise NotFound("listing not found")
    earliest = max(start, (now or utcnow()) + timedelta(minutes=get_settings().min_notice_minutes))
    profiles = db.scalars(select(MentorProfile).where(MentorProfile.id.in_(teacher_ids(db, listing)))
                          .options(selectinload(MentorProfile.availability)))
    slots: set[Slot] = set()
    for profile in profiles:
        slots.update(_free_slots_of(db, profile, listing.duration_minutes, start=start, end=end, earliest=earliest))
    return sorted(slots, key=lambda slot: slot.start_time)


def _free_slots_of(db: Session, profile: MentorProfile, minutes: int, *, start: datetime, end: datetime,
                   earliest: datetime) -> set[Slot]:
    """One mentor's free slots of ``minutes``.

    Candidates step by the listing's duration from each window's opening (or from
    local midnight when the mentor has no windows), in the mentor's timezone, so a
    09:00 window means 09:00 local on both sides of a daylight-saving change.
    """
    zone = ZoneInfo(profile.timezone)
    duration = timedelta(minutes=minutes)
    busy = busy_intervals(db, profile.id, start, end + duration)
    windows = profile.availability or []
    openings = [(w.weekday, w.start_minute, w.end_minute) for w in windows] or [
        (weekday, 0, MINUTES_PER_DAY) for weekday in range(7)]

    slots: set[Slot] = set()
    day = start.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    last_day = end.astimezone(zone)
    while day <= last_day:
        for weekday, first_minute, last_minute in openings:
            if day.weekday() != weekday:
                continue
            minute = first_minute
            while minute + minutes <= last_minute:
                slot_start = _local(day, minute, zone)
                minute += minutes
                if slot_start is None or not earliest <= slot_start < end:
                    continue
                slot_end = slot_start + duration
                if windows and not fits_windows(windows, profile.timezone, slot_start, slot_end):
                    continue
                if any(b_start < slot_end and slot_start < b_end for b_start, b_end in busy):
                    continue
                slots.add(Slot(slot_start, slot_end))
        day = (day + timedelta(days=1, hours=3)).replace(hour=0)
    return slots
