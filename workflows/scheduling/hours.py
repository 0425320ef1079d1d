"""Whether a time range fits a mentor's hours, in the mentor's timezone.

A mentor's hours on a local date are its date override's when there is one (other hours, or none), else its
weekday's weekly windows; a mentor with no windows at all takes bookings at any time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from models import AvailabilityWindow

MINUTES_PER_DAY = 1440
# Open hours of one local day, as (start minute, end minute) pairs since local midnight.
Hours = tuple[tuple[int, int], ...]


def weekly_hours(windows: Sequence[AvailabilityWindow]) -> Mapping[int, Hours] | None:
    """The weekly windows by weekday; ``None`` when there are none (any time)."""
    if not windows:
        return None
    by_day: dict[int, list[tuple[int, int]]] = {}
    for w in windows:
        by_day.setdefault(w.weekday, []).append((w.start_minute, w.end_minute))
    return {day: tuple(sorted(hours)) for day, hours in by_day.items()}


def fits_hours(hours: Hours | None, zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    """True when [start, end) lies inside one of ``hours`` of the local day it starts on (``None``: any time).

    Local wall-clock times are used on both ends, so hours of 09:00-17:00 mean 09:00-17:00 local on
    either side of a daylight-saving change.
    """
    if hours is None:
        return True
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone)
    start_minute = local_start.hour * 60 + local_start.minute
    if local_end.date() == local_start.date():
        end_minute = local_end.hour * 60 + local_end.minute + (1 if local_end.second or local_end.microsecond else 0)
    elif local_end.date() == local_start.date() + timedelta(days=1) and local_end.time() == local_end.time().min:
        end_minute = MINUTES_PER_DAY
    else:
        return False
    return any(first <= start_minute and end_minute <= last for first, last in hours)


def fits_windows(windows: Sequence[AvailabilityWindow], timezone: str, start: datetime, end: datetime) -> bool:
    """:func:`fits_hours` with the weekly windows of the day [start, end) starts on."""
    weekly = weekly_hours(windows)
    zone = ZoneInfo(timezone)
    return fits_hours(None if weekly is None else weekly.get(start.astimezone(zone).weekday(), ()), zone, start, end)
