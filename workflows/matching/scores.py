"""Every possible pair of a cohort scored at once, from its inputs (``workflows.matching.cohort``), with the reasons
a coordinator reads.

Free time is matrix arithmetic over bitsets: the hours a week a mentee and a mentor have in common are one product
of their free-time matrices on 15-minute steps (a mentor's free time: what the sessions their listing offers
cover); whether they can meet at the agreed cadence is, for each week (or fortnight) of the four, one product of the
matrices of the instants at which some mentor's listing offers a start (to the minute): those the mentor offers, and
those from which a whole session fits one of the mentee's windows. A pair that cannot meet in every one of those
periods, or that breaks a hard rule, is not a candidate: its score is 0 and the solver never assigns it; a
candidate's first common start is one its mentor's listing offers.

A candidate's score is 0 to 100: the weighted mean of its parts, each 0 to 1: each soft criterion (the share of the
mentee's choices the mentor shares, or the same answer), free time in common (full marks at four sessions' length a
week), closeness of timezones (12 hours apart is 0), the mentor's room left, and reliability (no confirmed no-show
is 1; three or more, 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import NDArray

from workflows.matching.cohort import MINUTE, STEP, STEPS_PER_DAY, Bits, current
from workflows.matching.settings import Criterion, Kind, Settings

Floats = NDArray[np.float64]
NO_SHOWS_AT_ZERO = 3


def _tally(values: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The distinct values, in order, and how often each comes (``np.unique``'s, without its first call's cost of a
    third of a second)."""
    ordered = np.sort(values)
    first = np.concatenate([[True], ordered[1:] != ordered[:-1]]) if len(ordered) else np.zeros(0, dtype=bool)
    return ordered[first], np.diff(np.append(np.flatnonzero(first), len(ordered)))


def _covered(owners: NDArray[np.int64], lowers: NDArray[np.int64], uppers: NDArray[np.int64], rows: int, width: int
             ) -> Bits:
    """Each row's positions in [0, width) inside one of its [lower, upper) ranges (``owners`` names the row of
    each)."""
    kept = lowers < uppers
    at = owners[kept] * (width + 1)
    delta = np.zeros(rows * (width + 1), np.int16)
    for ends, sign in ((lowers, 1), (uppers, -1)):
        where, count = _tally(at + ends[kept])
        delta[where] += sign * count.astype(np.int16)
    return np.cumsum(delta.reshape(rows, width + 1)[:, :width], axis=1, dtype=np.int16) > 0


def _vocabulary(values: list[Any]) -> dict[str, int]:
    tokens = sorted({token for value in values if value is not None
                     for token in (value if isinstance(value, list) else [value])})
    return {token: index for index, token in enumerate(tokens)}


def _one_hot(values: list[Any], vocabulary: dict[str, int]) -> NDArray[np.float32]:
    matrix = np.zeros((len(values), max(len(vocabulary), 1)), np.float32)
    for row, value in enumerate(values):
        for token in (value if isinstance(value, list) else [] if value is None else [value]):
            if token in vocabulary:
                matrix[row, vocabulary[token]] = 1.0
    return matrix


def _same(wanted: list[Any], offered: list[Any]) -> NDArray[np.float32]:
    """How many answers each mentee (row) and mentor (column) share."""
    vocabulary = _vocabulary(wanted + offered)
    return _one_hot(wanted, vocabulary) @ _one_hot(offered, vocabulary).T


def first_broken(settings: Settings, mentees: list[list[Any]], mentors: list[list[Any]]) -> NDArray[np.int16]:
    """The first hard criterion each pair breaks (-1: none), from the answers as the criteria compare them (one list
    per person, one answer per criterion), mentees by row and mentors by column: ``differ`` breaks on the same
    answer, ``above`` when the mentor's does not rank above the mentee's (an unanswered side breaks nothing)."""
    n, m = len(mentees), len(mentors)
    broken = np.full((n, m), -1, np.int16)
    for index, criterion in enumerate(settings.criteria):
        wanted = [one[index] for one in mentees]
        offered = [one[index] for one in mentors]
        if criterion.kind == Kind.ABOVE:
            low = np.array([np.nan if v is None else v for v in wanted], np.float64).reshape(n, 1)
            high = np.array([np.nan if v is None else v for v in offered], np.float64).reshape(1, m)
            with np.errstate(invalid="ignore"):
                fails = (high <= low) & ~np.isnan(high) & ~np.isnan(low)
            broken[(broken < 0) & fails] = index
        elif criterion.kind == Kind.DIFFER:
            broken[(broken < 0) & (_same(wanted, offered) > 0)] = index
    return broken


def rule_broken(criterion: Criterion) -> str:
    """A hard rule a pair breaks, in a coordinator's words."""
    return (f"the same answer to “{criterion.label}”" if criterion.kind == Kind.DIFFER
            else f"the mentor's answer to “{criterion.label}” is not above the mentee's")


APART = {"never": "the coordinators keep them apart",
         "ended": "their pairing in the programme ended (prefer them to pair them again)"}


@dataclass
class Matrix:
    """A cohort's pairs, mentees by row and mentors by column."""

    inputs: dict[str, Any]
    settings: Settings
    score: Floats
    candidate: NDArray[np.bool_]  # meets at the cadence and keeps every hard rule (room aside)
    hours: Floats
    short_period: NDArray[np.int16]  # the first period with no time for a session in common (-1: none)
    broken: NDArray[np.int16]  # the first hard criterion broken (-1: none)
    left: NDArray[np.int64]
    counts: dict[int, NDArray[np.float32]] = field(default_factory=dict)  # per soft criterion: shared or same
    free: FreeTime | None = None
    apart: dict[tuple[int, int], str] = field(default_factory=dict)  # kept apart by the coordinators: why
    prefer: list[tuple[int, int]] = field(default_factory=list)  # preferred by the coordinators, in order

    def first_common_start(self, row: int, column: int) -> int | None:
        """The first start the mentor's listing offers from which a whole session fits the mentee's free time, in
        minutes since the period's start; ``None`` when there is none."""
        if self.free is None:
            return None
        common = self.free.mentee_starts[row] & self.free.mentor_starts[column]
        return int(self.free.instants[np.argmax(common)]) if common.any() else None

    @property
    def mentees(self) -> list[dict[str, Any]]:
        return list(self.inputs["mentees"])

    @property
    def mentors(self) -> list[dict[str, Any]]:
        return list(self.inputs["mentors"])

    @property
    def feasible(self) -> NDArray[np.bool_]:
        """Pairs the solver may make: candidates whose mentor has room."""
        return self.candidate & (self.left > 0)[None, :]


@dataclass(frozen=True)
class FreeTime:
    """A cohort's free time as the scores read it: on the period's 15-minute steps, what each mentee has free and
    what the sessions each mentor's listing offers cover (the hours in common); and at each instant at which some
    mentor's listing offers a start (minutes since the period's start, in order), the mentors who offer it and the
    mentees from whom a whole session fits one span of their free time."""

    mentee_free: Bits
    mentor_free: Bits
    instants: NDArray[np.int64]
    mentee_starts: Bits
    mentor_starts: Bits


def _flat(people: list[dict[str, Any]], key: str, width: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Everyone's ``key`` in one array of ``width`` columns, and the row of each of its lines."""
    sizes = [len(one[key]) for one in people]
    values = np.fromiter(chain.from_iterable(chain.from_iterable(one[key] for one in people)) if width > 1
                         else chain.from_iterable(one[key] for one in people), np.int64)
    return values.reshape(-1, width), np.repeat(np.arange(len(people), dtype=np.int64), sizes)


def free_time(inputs: dict[str, Any]) -> FreeTime:
    """The cohort's :class:`FreeTime`, from its inputs (:func:`workflows.matching.cohort.current`)."""
    inputs = current(inputs)
    mentees, mentors = inputs["mentees"], inputs["mentors"]
    steps, every = int(inputs["weeks"]) * 7 * STEPS_PER_DAY, STEP // MINUTE
    length = int(inputs["session_minutes"])
    spans, whose_span = _flat(mentees, "free", 2)
    starts, whose_start = _flat(mentors, "starts", 1)
    lowers, uppers, starts = spans[:, 0], spans[:, 1], starts[:, 0]
    instants = _tally(starts)[0]
    mentor_starts = np.zeros((len(mentors), len(instants)), dtype=bool)
    mentor_starts[whose_start, np.searchsorted(instants, starts)] = True
    return FreeTime(
        mentee_free=_covered(whose_span, -(-lowers // every), np.minimum(uppers // every, steps), len(mentees), steps),
        mentor_free=_covered(whose_start, -(-starts // every), np.minimum((starts + length) // every, steps),
                             len(mentors), steps),
        instants=instants, mentor_starts=mentor_starts,
        mentee_starts=_covered(whose_span, np.searchsorted(instants, lowers, "left"),
                               np.searchsorted(instants, uppers - length, "right"), len(mentees), len(instants)))


def compute(inputs: dict[str, Any]) -> Matrix:
    inputs = current(inputs)
    settings = Settings.of(inputs["settings"])
    mentees, mentors = inputs["mentees"], inputs["mentors"]
    n, m, weeks = len(mentees), len(mentors), int(inputs["weeks"])
    free = free_time(inputs)
    hours = (free.mentee_free.astype(np.float32) @ free.mentor_free.T.astype(np.float32)).astype(np.float64) / 4 \
        / weeks
    periods = max(weeks // int(inputs["cadence_weeks"]), 1)
    width = weeks * 7 * STEPS_PER_DAY * (STEP // MINUTE) // periods
    bounds = np.searchsorted(free.instants, [period * width for period in range(periods + 1)])
    short = np.full((n, m), -1, np.int16)
    for period in range(periods):
        window = slice(bounds[period], bounds[period + 1])
        common = (free.mentee_starts[:, window].astype(np.float32)
                  @ free.mentor_starts[:, window].T.astype(np.float32)) > 0
        short[(short < 0) & ~common] = period
    broken = first_broken(settings, [one["answers"] for one in mentees], [one["answers"] for one in mentors])
    parts: list[tuple[float, Floats]] = []
    counts: dict[int, NDArray[np.float32]] = {}
    for index, criterion in enumerate(settings.criteria):
        if criterion.hard:
            continue
        wanted = [one["answers"][index] for one in mentees]
        offered = [one["answers"][index] for one in mentors]
        same = _same(wanted, offered)
        counts[index] = same
        if criterion.kind == Kind.SHARED:
            asked = np.array([len(v) if isinstance(v, list) else 0 for v in wanted], np.float64).reshape(n, 1)
            parts.append((criterion.weight, same / np.maximum(asked, 1)))
        else:
            parts.append((criterion.weight, (same > 0).astype(np.float64)))
    target = max(1.0, 4 * int(inputs["session_minutes"]) / 60)
    parts.append((settings.free_time_weight, np.minimum(hours / target, 1.0)))
    apart = np.abs(np.array([one["offset"] for one in mentees], np.float64).reshape(n, 1)
                   - np.array([one["offset"] for one in mentors], np.float64).reshape(1, m)) % 24
    parts.append((settings.timezone_weight, np.clip(1 - np.minimum(apart, 24 - apart) / 12, 0.0, 1.0)))
    capacity = np.array([max(one["capacity"], 1) for one in mentors], np.float64)
    left = np.array([one["left"] for one in mentors], np.int64)
    parts.append((settings.capacity_weight, np.broadcast_to(left / capacity, (n, m))))
    no_shows = np.array([one["no_shows"] for one in mentors], np.float64)
    parts.append((settings.reliability_weight,
                  np.broadcast_to(1 - np.minimum(no_shows, NO_SHOWS_AT_ZERO) / NO_SHOWS_AT_ZERO, (n, m))))
    total_weight = sum(weight for weight, _ in parts if weight > 0) or 1.0
    score = sum((weight * part for weight, part in parts if weight > 0), np.zeros((n, m))) * 100 / total_weight
    candidate = (short < 0) & (broken < 0)
    row_of = {one["id"]: row for row, one in enumerate(mentees)}
    column_of = {one["id"]: col for col, one in enumerate(mentors)}
    kept_apart = {(row_of[mentee], column_of[mentor]): why for mentee, mentor, why in inputs.get("apart", [])
                  if mentee in row_of and mentor in column_of}
    for row, col in kept_apart:
        candidate[row, col] = False
    prefer = [(row_of[mentee], column_of[mentor]) for mentee, mentor in inputs.get("prefer", [])
              if mentee in row_of and mentor in column_of]
    score = np.round(np.where(candidate, score, 0.0), 2)
    return Matrix(inputs, settings, score, candidate, np.round(hours, 2), short, broken, left, counts, free,
                  kept_apart, prefer)


# --- reasons ---------------------------------------------------------------------------------------------


def _hours(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _every(cadence: int) -> str:
    return "every week" if cadence == 1 else f"every {cadence} weeks"


def reasons(matrix: Matrix, row: int, column: int, *, for_mentee: bool = False) -> list[str]:
    """Why a candidate pair scores what it does, in a coordinator's words ("3 shared skills · 4.5 h a week in
    common · 6 h apart"); a mentee reads those about what they share and their time, not the mentor's room or
    reliability."""
    said: list[str] = []
    mentee, mentor = matrix.mentees[row], matrix.mentors[column]
    for index, criterion in enumerate(matrix.settings.criteria):
        if criterion.kind == Kind.SHARED and index in matrix.counts:
            shared = int(matrix.counts[index][row, column])
            if shared:
                what = "skill" if criterion.mentor_question_id is None else f"answer to “{criterion.label}”"
                said.append(f"{shared} shared {what}{'s' if shared > 1 else ''}")
        elif criterion.kind == Kind.SAME and index in matrix.counts and matrix.counts[index][row, column] > 0:
            said.append(f"same “{criterion.label}”")
        elif criterion.kind == Kind.DIFFER and mentee["answers"][index] is not None:
            said.append(f"different “{criterion.label}”")
    said.append(f"{_hours(matrix.hours[row, column])} h a week in common")
    apart = abs(mentee["offset"] - mentor["offset"]) % 24
    apart = min(apart, 24 - apart)
    said.append("same timezone" if apart == 0 else f"{_hours(apart)} h apart")
    if not for_mentee:
        said.append(f"{mentor['left']} of {mentor['capacity']} places left")
        if matrix.settings.reliability_weight > 0:
            count = mentor["no_shows"]
            said.append("no confirmed no-shows" if count == 0 else
                        f"{count} confirmed no-show{'s' if count > 1 else ''}")
    return said


def why_not(matrix: Matrix, row: int, column: int) -> str | None:
    """Why a pair may not be made, in a coordinator's words; ``None`` when it may."""
    inputs = matrix.inputs
    if (row, column) in matrix.apart:
        return APART[matrix.apart[row, column]]
    minutes, cadence = int(inputs["session_minutes"]), int(inputs["cadence_weeks"])
    broken = int(matrix.broken[row, column])
    if broken >= 0:
        return rule_broken(matrix.settings.criteria[broken])
    short = int(matrix.short_period[row, column])
    if short >= 0:
        hours = matrix.hours[row, column]
        if hours == 0:
            return f"0 h in common at {minutes}-minute sessions {_every(cadence)}"
        weeks = f"week {short + 1}" if cadence == 1 else f"weeks {short * cadence + 1} to {short * cadence + cadence}"
        start = datetime.fromisoformat(inputs["period_start"]).date().isoformat()
        return (f"{_hours(hours)} h a week in common, but no time for a {minutes}-minute session in {weeks} "
                f"from {start} (sessions {_every(cadence)})")
    if matrix.left[column] <= 0:
        return "the mentor has no places left"
    return None
