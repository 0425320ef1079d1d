"""Whether a time fits a mentor's weekly windows (``workflows/scheduling/hours.py``): by the local clock of the mentor's
timezone, inside one window of the local day it starts on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import AvailabilityWindow
from workflows.scheduling.hours import fits_windows

MONDAY, SUNDAY = 0, 6
# 09:00-12:00 and 22:00-24:00 local, on Mondays.
WINDOWS = [AvailabilityWindow(weekday=MONDAY, start_minute=9 * 60, end_minute=12 * 60),
           AvailabilityWindow(weekday=MONDAY, start_minute=22 * 60, end_minute=24 * 60)]
PARIS = "Europe/Paris"


def paris(text: str) -> datetime:
    """A local time in Paris, written as its UTC instant: winter is UTC+1, summer UTC+2."""
    local = datetime.fromisoformat(text)
    offset = 2 if 4 <= local.month <= 9 else 1
    return (local - timedelta(hours=offset)).replace(tzinfo=UTC)


@pytest.mark.parametrize(("start", "end", "fits"), [
    ("2031-01-06 09:00", "2031-01-06 12:00", True),  # a winter Monday, the whole window
    ("2031-07-07 09:00", "2031-07-07 12:00", True),  # a summer Monday: the same local hours, other UTC ones
    ("2031-01-06 08:59", "2031-01-06 10:00", False),  # begins before the window opens
    ("2031-01-06 11:00", "2031-01-06 12:01", False),  # ends after it closes
    ("2031-01-06 11:00", "2031-01-06 12:00:30", False),  # a part of a minute past counts as the minute
    ("2031-01-06 10:00", "2031-01-06 22:30", False),  # across two windows is in neither
    ("2031-01-06 23:00", "2031-01-07 00:00", True),  # up to midnight
    ("2031-01-06 23:30", "2031-01-07 00:30", False),  # past midnight: Tuesday has no window
    ("2031-01-07 09:00", "2031-01-07 10:00", False),  # another weekday
])
def test_a_time_fits_when_it_lies_inside_one_window_of_its_local_day(start: str, end: str, fits: bool) -> None:
    assert fits_windows(WINDOWS, PARIS, paris(start), paris(end)) is fits


def test_the_local_day_decides_the_weekday_not_the_utc_one() -> None:
    sunday_late = [AvailabilityWindow(weekday=SUNDAY, start_minute=23 * 60, end_minute=24 * 60)]
    in_tokyo = datetime(2031, 1, 5, 14, 30, tzinfo=UTC)  # Sunday 23:30 in Tokyo (UTC+9), Sunday 14:30 UTC
    assert fits_windows(sunday_late, "Asia/Tokyo", in_tokyo, in_tokyo + timedelta(minutes=30))
    assert not fits_windows(sunday_late, "UTC", in_tokyo, in_tokyo + timedelta(minutes=30))


def test_no_windows_means_any_time() -> None:
    start = datetime(2031, 1, 5, 3, 17, tzinfo=UTC)
    assert fits_windows([], PARIS, start, start + timedelta(hours=5))
