"""The matcher's scores and its exact assignment: equal to brute force on small cohorts, better than greedy where
greedy errs, never a pair that cannot meet or breaks a hard rule, never past a mentor's places."""

from __future__ import annotations

import itertools
import random
from typing import Any

import numpy as np

from tests.factories.matching import hours, inputs, mentee, mentor
from workflows.matching import scores, solver

SKILLS = [{"kind": "shared", "mentee_question_id": "wants", "mentor_question_id": None, "weight": 2,
           "label": "Skills"}]


def _brute_force(matrix: scores.Matrix) -> tuple[int, float]:
    """The best (pairs made, total score) over every assignment of each mentee to a mentor or to no one."""
    n, m = matrix.score.shape
    best = (0, 0.0)
    for choice in itertools.product(range(-1, m), repeat=n):
        used = np.zeros(m, int)
        value, made = 0.0, 0
        for row, col in enumerate(choice):
            if col < 0:
                continue
            if not matrix.feasible[row, col]:
                break
            used[col] += 1
            value += matrix.score[row, col]
            made += 1
        else:
            if (used <= matrix.left).all():
                best = max(best, (made, round(value, 2)))
    return best


def _random_cohort(rng: random.Random) -> dict[str, Any]:
    skills = ["python", "go", "sql", "design", "sales"]
    mentees = [mentee(f"e{i}", hours(rng.randint(6, 12), rng.randint(13, 20)),
                      [rng.sample(skills, rng.randint(1, 3))], offset=rng.choice([0, 1, 5.5, 9]))
               for i in range(rng.randint(2, 6))]
    mentors = [mentor(f"r{j}", hours(rng.randint(8, 16), rng.randint(17, 22)), [rng.sample(skills, 2)],
                      capacity=rng.randint(1, 2), offset=rng.choice([0, -5, 9]))
               for j in range(rng.randint(1, 3))]
    return inputs(mentees, mentors, criteria=SKILLS)


def test_the_solver_equals_brute_force_on_small_cohorts() -> None:
    rng = random.Random(49)  # noqa: S311 - cohorts, not secrets
    for _ in range(60):
        matrix = scores.compute(_random_cohort(rng))
        pairs = solver.solve(matrix)
        assert (len(pairs), solver.total(matrix, pairs)) == _brute_force(matrix)


def test_greedy_loses_where_the_best_pair_first_blocks_two_good_ones() -> None:
    # Ada shares all three of her skills with Lin and two with Max; Bo shares one of his two with Lin and none with
    # Max. Greedy takes Ada-Lin (the best pair) and leaves Bo with Max (1 + 0); the optimum gives Lin to Bo and Max
    # to Ada (2/3 + 1/2).
    free = hours(9, 17)
    cohort = inputs([mentee("ada", free, [["go", "sql", "python"]]), mentee("bo", free, [["python", "rust"]])],
                    [mentor("lin", free, [["go", "sql", "python"]]), mentor("max", free, [["go", "sql", "design"]])],
                    criteria=SKILLS, capacity_weight=0, timezone_weight=0, free_time_weight=0)
    matrix = scores.compute(cohort)
    best, quick = solver.solve(matrix), solver.greedy(matrix)
    assert quick == [(0, 0), (1, 1)] and best == [(0, 1), (1, 0)]
    assert solver.total(matrix, best) > solver.total(matrix, quick)
    assert (len(best), solver.total(matrix, best)) == _brute_force(matrix)


def test_a_pair_that_cannot_meet_is_never_assigned_whatever_it_would_add() -> None:
    # Ada shares every skill with Lin but they have no hour in common: she stays unmatched, with the reason.
    cohort = inputs([mentee("ada", hours(6, 8), [["go", "sql"]])], [mentor("lin", hours(18, 22), [["go", "sql"]])],
                    criteria=SKILLS)
    matrix = scores.compute(cohort)
    assert solver.solve(matrix) == []
    assert scores.why_not(matrix, 0, 0) == "0 h in common at 60-minute sessions every week"
    found = solver.result(matrix, [])
    assert found["unmatched"][0]["reason"].startswith("no mentor has time in common at 60-minute sessions")


def test_a_week_without_common_time_rules_out_a_weekly_pair_not_a_fortnightly_one() -> None:
    # Lin is free every day but those of the third week: weekly sessions cannot be kept, fortnightly ones can.
    lin = hours(9, 12, tuple(day for day in range(28) if not 14 <= day < 21))
    weekly = scores.compute(inputs([mentee("ada", hours(9, 12))], [mentor("lin", lin)]))
    assert not weekly.candidate[0, 0]
    assert "no time for a 60-minute session in week 3" in (scores.why_not(weekly, 0, 0) or "")
    fortnightly = scores.compute(inputs([mentee("ada", hours(9, 12))], [mentor("lin", lin)], cadence_weeks=2))
    assert fortnightly.candidate[0, 0]


def test_hard_rules_rule_pairs_out_and_capacity_holds() -> None:
    free = hours(9, 17)
    department = [{"kind": "differ", "mentee_question_id": "d", "mentor_question_id": "d", "label": "Department"},
                  {"kind": "above", "mentee_question_id": "s", "mentor_question_id": "s", "label": "Seniority"}]
    cohort = inputs([mentee(f"e{i}", free, ["sales", 1]) for i in range(4)],
                    [mentor("same-dept", free, ["sales", 3], capacity=3), mentor("junior", free, ["eng", 0],
                                                                                 capacity=3),
                     mentor("fits", free, ["eng", 2], capacity=2)],
                    criteria=department)
    matrix = scores.compute(cohort)
    pairs = solver.solve(matrix)
    assert {col for _, col in pairs} == {2} and len(pairs) == 2
    assert scores.why_not(matrix, 0, 0) == "the same answer to “Department”"
    assert scores.why_not(matrix, 0, 1) == "the mentor's answer to “Seniority” is not above the mentee's"
    found = solver.result(matrix, pairs)
    took = "the 1 mentor who fit took mentees with fewer options (pinned pairs and places as they stood)"
    assert [one["reason"] for one in found["unmatched"]] == [took] * 2


def test_reasons_read_as_a_coordinator_reads_them_and_a_mentee_sees_less() -> None:
    cohort = inputs([mentee("ada", hours(9, 13), [["go", "sql", "python"]], offset=9)],
                    [mentor("lin", hours(10, 20), [["go", "sql", "python"]], capacity=3, offset=3, no_shows=1)],
                    criteria=SKILLS, reliability_weight=1)
    matrix = scores.compute(cohort)
    assert scores.reasons(matrix, 0, 0) == ["3 shared skills", "21 h a week in common", "6 h apart",
                                            "3 of 3 places left", "1 confirmed no-show"]
    assert scores.reasons(matrix, 0, 0, for_mentee=True) == ["3 shared skills", "21 h a week in common", "6 h apart"]


def test_the_same_inputs_give_the_same_pairs() -> None:
    cohort = _random_cohort(random.Random(7))  # noqa: S311 - a cohort, not a secret
    first = solver.result(scores.compute(cohort), solver.solve(scores.compute(cohort)))
    again = solver.result(scores.compute(cohort), solver.solve(scores.compute(cohort)))
    assert first == again


def test_timezones_a_day_apart_or_more_read_as_the_hours_between_them() -> None:
    # Kiritimati (+14) and Pago Pago (-11): 25 hours by offset, 1 hour by the clock.
    cohort = inputs([mentee("ada", hours(9, 17), offset=14)], [mentor("lin", hours(9, 17), offset=-11)])
    matrix = scores.compute(cohort)
    assert 0 < matrix.score[0, 0] <= 100
    assert "1 h apart" in scores.reasons(matrix, 0, 0)
    found = solver.result(matrix, solver.solve(matrix))
    assert sum(bucket["count"] for bucket in found["distribution"]) == found["matched"] == 1


def test_the_solver_pairs_as_many_as_can_be_then_the_best_total_and_greedy_is_reported_beside_it() -> None:
    # Greedy takes Ada-Lin (the best pair) and leaves Bo, who fits Lin alone; the solver pairs both.
    free = hours(9, 17)
    cohort = inputs([mentee("ada", free, [["go", "sql", "python"]]), mentee("bo", free, [["python"]])],
                    [mentor("lin", free, [["go", "sql", "python"]]), mentor("max", free, [["design"]])],
                    criteria=[*SKILLS, {"kind": "differ", "mentee_question_id": "d", "mentor_question_id": "d",
                                        "label": "Department"}],
                    capacity_weight=0, timezone_weight=0, free_time_weight=0)
    for person, department in zip(cohort["mentees"] + cohort["mentors"], ["a", "b", "x", "b"], strict=True):
        person["answers"].append(department)
    matrix = scores.compute(cohort)
    found = solver.result(matrix, solver.solve(matrix))
    assert (found["matched"], found["greedy_matched"]) == (2, 1)


def test_a_pair_kept_apart_is_never_made_and_a_preferred_one_is_made_first() -> None:
    # Ada's best mentor is Lin (three shared skills against Max's one); the coordinators keep them apart: Ada gets
    # Max, and the explanation says why not Lin. Bo's pairing with Lin ended: kept apart as well, unless preferred.
    free = hours(9, 17)
    people = ([mentee("ada", free, [["go", "sql", "python"]]), mentee("bo", free, [["go", "sql", "python"]])],
              [mentor("lin", free, [["go", "sql", "python"]], capacity=2), mentor("max", free, [["go"]], capacity=2)])
    cohort = {**inputs(*people, criteria=SKILLS), "apart": [["ada", "lin", "never"], ["bo", "lin", "ended"]]}
    matrix = scores.compute(cohort)
    assert solver.solve(matrix) == [(0, 1), (1, 1)]
    assert scores.why_not(matrix, 0, 0) == "the coordinators keep them apart"
    assert scores.why_not(matrix, 1, 0).startswith("their pairing in the programme ended")
    assert solver.result(matrix, solver.solve(matrix))["matched"] == 2
    # Both kept apart from every mentor with time: the reason says so, not a rule.
    alone = scores.compute({**inputs(people[0][:1], people[1][:1], criteria=SKILLS),
                            "apart": [["ada", "lin", "never"]]})
    assert solver.result(alone, solver.solve(alone))["unmatched"][0]["reason"].startswith(
        "every mentor with time in common is kept apart")
    # Preferred: Bo with Max goes first, though the optimum would give Bo Lin; Ada then gets the best left (Lin).
    preferring = scores.compute({**inputs(*people, criteria=SKILLS), "prefer": [["bo", "max"]]})
    assert solver.solve(preferring) == [(0, 0), (1, 1)]
    assert solver.result(preferring, solver.solve(preferring))["preferred"] == 1
    # A preference that does not fit (no place left, or no time in common) is passed over, not forced.
    full = scores.compute({**inputs(people[0], [mentor("lin", free, [["go"]], capacity=1),
                                                mentor("max", hours(18, 22), [["go"]], capacity=1)],
                                    criteria=SKILLS), "prefer": [["ada", "max"], ["bo", "lin"]]})
    assert solver.preferred(full) == [(1, 0)]
    assert solver.solve(full) == [(1, 0)]  # Ada: Max has no time in common with her, Lin's one place is Bo's
