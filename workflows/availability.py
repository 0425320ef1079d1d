"""Whether a time range fits a mentor's weekly windows, in the mentor's timezone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from models import AvailabilityWindow

MINUTES_PER_DAY = 1440


def fits_windows(
    windows: Sequence[AvailabilityWindow], timezone: str, start: datetime, end: datetime
) -> bool:
    """True when [start, end) lies inside one window of the local day it starts on.

    Local wall-clock times are used on both ends, so a window of 09:00-17:00
    means 09:00-17:00 local on either side of a daylight-saving change.
    No windows at all means the mentor takes bookings at any time.
    """
    if not windows:
        return True
    zone = ZoneInfo(timezone)
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone)
    start_minute = local_start.hour * 60 + local_start.minute
    if local_end.date() == local_start.date():
        end_minute = local_end.hour * 60 + local_end.minute + (1 if local_end.second or local_end.microsecond else 0)
    elif local_end.date() == local_start.date() + timedelta(days=1) and local_end.time() == local_end.time().min:
        end_minute = MINUTES_PER_DAY
    else:
        return False
    weekday = local_start.weekday()
    return any(
        w.weekday == weekday and w.start_minute <= start_minute and end_minute <= w.end_minute for w in windows
    )
