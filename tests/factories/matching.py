"""A cohort's inputs made by hand for the matcher's pure parts: each person's free time as whole-hour windows of
every day of the four weeks (a mentor offering a 60-minute session at every quarter hour of theirs), answers per
criterion, capacities."""

from __future__ import annotations

from typing import Any

import numpy as np

from workflows.matching.cohort import VERSION, WEEKS

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


def spans(free: np.ndarray) -> list[list[int]]:
    """The runs of free steps, in minutes since the period's start."""
    edges = np.diff(np.concatenate([[0], free.astype(np.int8), [0]]))
    return [[int(lower) * 15, int(upper) * 15]
            for lower, upper in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)]


def mentee(name: str, free: np.ndarray, answers: list[Any] | None = None, offset: float = 0.0) -> dict[str, Any]:
    return {"id": name, "name": name, "zone": "UTC", "offset": offset, "answers": answers or [], "free": spans(free)}


def mentor(name: str, free: np.ndarray, answers: list[Any] | None = None, *, capacity: int = 1,
           left: int | None = None, offset: float = 0.0, no_shows: int = 0) -> dict[str, Any]:
    return {"id": name, "name": name, "zone": "UTC", "offset": offset, "answers": answers or [], "capacity": capacity,
            "left": capacity if left is None else left, "no_shows": no_shows,
            "starts": [int(step) * 15 for step in np.flatnonzero(starts(free))]}


def inputs(mentees: list[dict[str, Any]], mentors: list[dict[str, Any]], *,
           criteria: list[dict[str, Any]] | None = None, cadence_weeks: int = 1, **weights: Any) -> dict[str, Any]:
    return {"version": VERSION, "programme_id": "p", "period_start": "2031-03-03T00:00:00+00:00", "weeks": WEEKS,
            "session_minutes": 60, "cadence_weeks": cadence_weeks,
            "settings": {"criteria": criteria or [], **weights}, "mentees": mentees, "mentors": mentors,
            "pinned": []}
