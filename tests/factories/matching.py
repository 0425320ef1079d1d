"""A cohort's inputs made by hand for the matcher's pure parts: each person's free time as whole-hour windows of
every day of the four weeks, answers per criterion, capacities."""

from __future__ import annotations

from typing import Any

import numpy as np

from workflows.matching.cohort import WEEKS, pack

STEPS = WEEKS * 7 * 96
EVERY_DAY = tuple(range(WEEKS * 7))


def hours(first: int, last: int, days: tuple[int, ...] = EVERY_DAY) -> np.ndarray:
    """Free from ``first`` to ``last`` o'clock (UTC) on each of ``days`` (day 0 is the period's first)."""
    bits = np.zeros(STEPS, dtype=bool)
    for day in days:
        bits[day * 96 + first * 4:day * 96 + last * 4] = True
    return bits


def starts(free: np.ndarray, minutes: int = 60) -> np.ndarray:
    """The steps at which a session of ``minutes`` fits in ``free``."""
    length = minutes // 15
    out = np.zeros_like(free)
    for step in range(STEPS - length + 1):
        out[step] = free[step:step + length].all()
    return out


def mentee(name: str, free: np.ndarray, answers: list[Any] | None = None, offset: float = 0.0) -> dict[str, Any]:
    return {"id": name, "name": name, "zone": "UTC", "offset": offset, "answers": answers or [], "free": pack(free)}


def mentor(name: str, free: np.ndarray, answers: list[Any] | None = None, *, capacity: int = 1,
           left: int | None = None, offset: float = 0.0, no_shows: int = 0) -> dict[str, Any]:
    return {"id": name, "name": name, "zone": "UTC", "offset": offset, "answers": answers or [], "capacity": capacity,
            "left": capacity if left is None else left, "no_shows": no_shows, "starts": pack(starts(free))}


def inputs(mentees: list[dict[str, Any]], mentors: list[dict[str, Any]], *,
           criteria: list[dict[str, Any]] | None = None, cadence_weeks: int = 1, **weights: Any) -> dict[str, Any]:
    return {"version": 1, "programme_id": "p", "period_start": "2031-03-03T00:00:00+00:00", "weeks": WEEKS,
            "session_minutes": 60, "cadence_weeks": cadence_weeks,
            "settings": {"criteria": criteria or [], **weights}, "mentees": mentees, "mentors": mentors,
            "pinned": []}
