"""When a failed delivery is tried again, and when an endpoint that keeps failing is: the configured schedule,
jittered, never sooner than ``Retry-After``.

Pure functions of their arguments (and a random source), so the policy is tested without a database.
"""

from __future__ import annotations

import email.utils
import random
import re
from datetime import UTC, datetime, timedelta

JITTER = 0.2
_ASCII_DIGITS = re.compile(r"[0-9]+")
_RETRY_AFTER_CAP = 10**8  # seconds; retry_delay caps it again at the schedule's longest step
_JITTER_RNG = random.Random()  # noqa: S311 - spreads retries out; nothing secret depends on it


def retry_delay(
    attempt_number: int, schedule: tuple[timedelta, ...], retry_after: timedelta | None = None,
    *, rng: random.Random | None = None,
) -> timedelta | None:
    """When to try again after failed attempt ``attempt_number`` (1-based); ``None`` when the schedule is spent."""
    if attempt_number > len(schedule):
        return None
    jitter = (rng or _JITTER_RNG).uniform(1 - JITTER, 1 + JITTER)
    delay = schedule[attempt_number - 1] * jitter
    if retry_after is not None:
        delay = max(delay, min(retry_after, max(schedule)))
    return delay


def endpoint_backoff(
    failures_in_a_row: int, schedule: tuple[timedelta, ...], retry_after: timedelta | None = None,
    *, rng: random.Random | None = None,
) -> timedelta | None:
    """How long an endpoint whose last ``failures_in_a_row`` attempts failed waits before its next one.

    The schedule's step of that number (its last step beyond it), as a message's retry would wait: with the
    default schedule 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h. ``None`` (no wait) for an empty schedule.
    """
    if not schedule or failures_in_a_row < 1:
        return None
    return retry_delay(min(failures_in_a_row, len(schedule)), schedule, retry_after, rng=rng)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date; ``None`` when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if _ASCII_DIGITS.fullmatch(value):
        # Only ASCII digits: str.isdigit() also takes superscripts and other scripts' digits, which
        # int() refuses or reads otherwise; int() refuses thousands of digits: longer than the cap is the cap.
        return timedelta(seconds=_RETRY_AFTER_CAP if len(value) > len(str(_RETRY_AFTER_CAP)) else
                         min(int(value), _RETRY_AFTER_CAP))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))
