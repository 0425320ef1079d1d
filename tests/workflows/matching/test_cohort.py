"""Free time as the matcher reads it: a mentee's weekly windows stay at the same local hour across a DST change
inside the four weeks (so a mentor free at a fixed UTC hour stops fitting them the week the clocks move), their
commitments are taken out; a pair meets only at a start the mentor's listing offers, to the minute; every pair's
overlap from the matrix products equals the overlap counted pair by pair; and a run kept from the 15-minute version
reads the same."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import numpy as np

from tests.factories.matching import hours, inputs, mentee, mentor, spans
from workflows.matching import cohort, scores

# Four weeks from Monday 17 March 2031; Europe moves its clocks on Sunday 30 March.
PERIOD = cohort.Period(datetime(2031, 3, 17, tzinfo=UTC))
TUESDAY_EVENING = [(1, 18 * 60, 19 * 60)]


def _at(minutes: int) -> datetime:
    return PERIOD.start + timedelta(minutes=minutes)


def test_a_berlin_window_stays_at_six_local_across_the_dst_change() -> None:
    free = cohort._mentee_free(PERIOD, "Europe/Berlin", TUESDAY_EVENING, [])
    assert [_at(lower).strftime("%m-%d %H:%M") for lower, _ in free] == [
        "03-18 17:00", "03-25 17:00", "04-01 16:00", "04-08 16:00"]  # 18:00 CET, then 18:00 CEST
    assert all(upper - lower == 60 for lower, upper in free)


def test_a_mentor_free_at_a_fixed_utc_hour_fits_weekly_sessions_until_the_clocks_move() -> None:
    mentee_free = cohort._mentee_free(PERIOD, "Europe/Berlin", TUESDAY_EVENING, [])
    ada = {"id": "ada", "name": "Ada", "zone": "Europe/Berlin", "offset": 1.0, "answers": [], "free": mentee_free}
    at_five = scores.compute(inputs([ada], [mentor("lin", hours(17, 18))]))
    assert not at_five.candidate[0, 0]
    assert "no time for a 60-minute session in week 3" in (scores.why_not(at_five, 0, 0) or "")
    four_to_six = scores.compute(inputs([ada], [mentor("max", hours(16, 18))]))
    assert four_to_six.candidate[0, 0] and four_to_six.hours[0, 0] == 1.0


def test_a_mentees_commitments_are_not_free_time() -> None:
    busy = [(datetime(2031, 3, 18, 17, 30, tzinfo=UTC), datetime(2031, 3, 18, 18, 0, tzinfo=UTC))]
    free = cohort._mentee_free(PERIOD, "Europe/Berlin", TUESDAY_EVENING, busy)
    assert [(_at(lower), _at(upper)) for lower, upper in free[:2]] == [
        (datetime(2031, 3, 18, 17, 0, tzinfo=UTC), datetime(2031, 3, 18, 17, 30, tzinfo=UTC)),
        (datetime(2031, 3, 25, 17, 0, tzinfo=UTC), datetime(2031, 3, 25, 18, 0, tzinfo=UTC))]


def test_a_pair_meets_only_at_a_start_the_mentor_offers_to_the_minute() -> None:
    """Lin's listing offers 50-minute sessions at 09:00, 09:50 and 10:40 each day. Bo, free 10:40-11:30, fits the
    last exactly; Ada, free 09:40-10:30, and Cy, free 09:30-10:30, have 50 minutes but from no start of Lin's."""
    lin = mentor("lin", hours(0, 0))
    lin["starts"] = [day * 1440 + minute for day in range(28) for minute in (540, 590, 640)]

    def person(name: str, lower: int, upper: int) -> dict[str, object]:
        return {**mentee(name, hours(0, 0)), "free": [[day * 1440 + lower, day * 1440 + upper] for day in range(28)]}

    cohort_inputs = {**inputs([person("ada", 580, 630), person("bo", 640, 690), person("cy", 570, 630)], [lin]),
                     "session_minutes": 50}
    matrix = scores.compute(cohort_inputs)
    assert matrix.candidate[:, 0].tolist() == [False, True, False]
    assert matrix.first_common_start(1, 0) == 640  # 10:40, off the quarter hour
    assert matrix.first_common_start(0, 0) is None
    # Ada's 10:00-10:30 lies in Lin's session of 09:50: half an hour a day in common, yet no session of Lin's fits.
    assert matrix.hours[0, 0] == 3.5 and "no time for a 50-minute session in week 1" in (
        scores.why_not(matrix, 0, 0) or "")


def test_the_overlaps_of_the_matrix_products_equal_those_counted_pair_by_pair() -> None:
    rng = np.random.default_rng(49)
    mentees = [mentee(f"e{i}", rng.random(PERIOD.steps) < 0.3) for i in range(7)]
    mentors = [mentor(f"r{j}", rng.random(PERIOD.steps) < 0.4) for j in range(5)]
    cohort_inputs = inputs(mentees, mentors)
    matrix = scores.compute(cohort_inputs)
    free = scores.free_time(cohort_inputs)
    week = 7 * 1440
    for row, one in enumerate(mentees):
        for col, other in enumerate(mentors):
            common = sum(1 for step in range(PERIOD.steps)
                         if free.mentee_free[row, step] and free.mentor_free[col, step])
            assert matrix.hours[row, col] == round(common / 4 / 4, 2)
            fits = [start for start in other["starts"]
                    if any(lower <= start and start + 60 <= upper for lower, upper in one["free"])]
            weekly = [any(w * week <= start < (w + 1) * week for start in fits) for w in range(4)]
            assert bool(matrix.candidate[row, col]) == all(weekly)
            assert matrix.first_common_start(row, col) == (min(fits) if fits else None)


def test_a_run_kept_from_the_quarter_hour_version_reads_the_same() -> None:
    rng = np.random.default_rng(64)
    frees = [rng.random(PERIOD.steps) < 0.3 for _ in range(4)]
    mentor_frees = [rng.random(PERIOD.steps) < 0.5 for _ in range(3)]
    today = inputs([mentee(f"e{i}", free) for i, free in enumerate(frees)],
                   [mentor(f"r{j}", free) for j, free in enumerate(mentor_frees)])

    def packed(bits: np.ndarray) -> str:
        return base64.b64encode(np.packbits(bits).tobytes()).decode()

    kept = {**today, "version": 1,
            "mentees": [{**one, "free": packed(free)} for one, free in zip(today["mentees"], frees, strict=True)],
            "mentors": [{**one, "starts": packed(np.isin(np.arange(PERIOD.steps), np.array(one["starts"]) // 15))}
                        for one in today["mentors"]]}
    assert cohort.current(kept) == today
    assert spans(frees[0]) == cohort.current(kept)["mentees"][0]["free"]
    assert (scores.compute(kept).score == scores.compute(today).score).all()


def test_the_period_starts_on_a_quarter_hour_at_the_programme_start_or_now() -> None:
    now = datetime(2031, 3, 17, 9, 7, 30, tzinfo=UTC)

    class Programme:
        starts_on = None

    assert cohort.Period.of(Programme(), now).start == datetime(2031, 3, 17, 9, 15, tzinfo=UTC)  # type: ignore[arg-type]
