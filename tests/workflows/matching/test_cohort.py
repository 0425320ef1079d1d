"""Free time as the matcher reads it: a mentee's weekly windows stay at the same local hour across a DST change
inside the four weeks (so a mentor free at a fixed UTC hour stops fitting them the week the clocks move), their
commitments are taken out, and every pair's overlap from the matrix products equals the overlap counted pair by
pair."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from tests.factories.matching import hours, inputs, mentor
from workflows.matching import cohort, scores

# Four weeks from Monday 17 March 2031; Europe moves its clocks on Sunday 30 March.
PERIOD = cohort.Period(datetime(2031, 3, 17, tzinfo=UTC))
TUESDAY_EVENING = [(1, 18 * 60, 19 * 60)]


def _steps(bits: np.ndarray) -> list[datetime]:
    return [PERIOD.start + cohort.STEP * int(i) for i in np.nonzero(bits)[0]]


def test_a_berlin_window_stays_at_six_local_across_the_dst_change() -> None:
    free = cohort._mentee_free(PERIOD, "Europe/Berlin", TUESDAY_EVENING, [])
    starts = sorted({moment.strftime("%m-%d %H:%M") for moment in _steps(free)[::4]})
    assert starts == ["03-18 17:00", "03-25 17:00", "04-01 16:00", "04-08 16:00"]  # 18:00 CET, then 18:00 CEST


def test_a_mentor_free_at_a_fixed_utc_hour_fits_weekly_sessions_until_the_clocks_move() -> None:
    mentee_free = cohort._mentee_free(PERIOD, "Europe/Berlin", TUESDAY_EVENING, [])
    mentee = {"id": "ada", "name": "Ada", "zone": "Europe/Berlin", "offset": 1.0, "answers": [],
              "free": cohort.pack(mentee_free)}
    at_five = scores.compute(inputs([mentee], [mentor("lin", hours(17, 18))]))
    assert not at_five.candidate[0, 0]
    assert "no time for a 60-minute session in week 3" in (scores.why_not(at_five, 0, 0) or "")
    four_to_six = scores.compute(inputs([mentee], [mentor("max", hours(16, 18))]))
    assert four_to_six.candidate[0, 0] and four_to_six.hours[0, 0] == 1.0


def test_a_mentees_commitments_are_not_free_time() -> None:
    busy = [(datetime(2031, 3, 18, 17, 30, tzinfo=UTC), datetime(2031, 3, 18, 18, 0, tzinfo=UTC))]
    free = cohort._mentee_free(PERIOD, "Europe/Berlin", TUESDAY_EVENING, busy)
    assert _steps(free)[:2] == [datetime(2031, 3, 18, 17, 0, tzinfo=UTC), datetime(2031, 3, 18, 17, 15, tzinfo=UTC)]
    assert datetime(2031, 3, 18, 17, 30, tzinfo=UTC) not in _steps(free)


def test_the_overlaps_of_the_matrix_products_equal_those_counted_pair_by_pair() -> None:
    rng = np.random.default_rng(49)
    mentees = [{"id": f"e{i}", "name": "", "zone": "UTC", "offset": 0.0, "answers": [],
                "free": cohort.pack(rng.random(PERIOD.steps) < 0.3)} for i in range(7)]
    mentors = [mentor(f"r{j}", rng.random(PERIOD.steps) < 0.4) for j in range(5)]
    cohort_inputs = inputs(mentees, mentors)
    matrix = scores.compute(cohort_inputs)
    mentee_free, mentee_starts, mentor_free, mentor_starts = scores.free_time(cohort_inputs)
    for row in range(7):
        for col in range(5):
            common = sum(1 for step in range(PERIOD.steps) if mentee_free[row, step] and mentor_free[col, step])
            assert matrix.hours[row, col] == round(common / 4 / 4, 2)
            weekly = [any(mentee_starts[row, s] and mentor_starts[col, s] for s in range(w * 672, (w + 1) * 672))
                      for w in range(4)]
            assert bool(matrix.candidate[row, col]) == all(weekly)


def test_the_period_starts_on_a_quarter_hour_at_the_programme_start_or_now() -> None:
    now = datetime(2031, 3, 17, 9, 7, 30, tzinfo=UTC)

    class Programme:
        starts_on = None

    assert cohort.Period.of(Programme(), now).start == datetime(2031, 3, 17, 9, 15, tzinfo=UTC)  # type: ignore[arg-type]
