"""The best assignment of a scored cohort (``workflows.matching.scores``), and what it achieved.

Solved exactly with ``scipy.optimize.linear_sum_assignment`` (the Jonker-Volgenant shortest augmenting path): each
mentor's column repeated once per place left, so the assignment problem is the capacitated one. A candidate's value
is its score plus a bonus larger than any difference of totals of scores, so the solver first pairs as many mentees as
can be paired (a coordinator's first wish: nobody left out who could have a mentor), then maximises the total score
among those assignments; a pair that is not a candidate (or a mentor
with no room) is worth nothing and is dropped from the answer, so it is never made. Pinned drafts are not solved
again: their mentees are not in the cohort and their places are taken. The pairs the coordinators prefer are made
first, when they fit; those they keep apart are no candidates (``workflows.matching.preferences``). ``greedy`` is
what it is compared with: the best pair first, as long as both are free.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from workflows.matching.scores import Matrix, reasons, why_not

BUCKETS = 10
TOP = 3  # the result counts the mentees who got one of their best three
Pairs = list[tuple[int, int]]


def preferred(matrix: Matrix) -> Pairs:
    """The pairs the coordinators prefer that fit (a candidate, a place left), in their order, a mentee once."""
    left, taken, pairs = matrix.left.copy(), set(), []
    for row, col in matrix.prefer:
        if row not in taken and matrix.candidate[row, col] and left[col] > 0:
            taken.add(row)
            left[col] -= 1
            pairs.append((row, col))
    return pairs


def solve(matrix: Matrix) -> Pairs:
    """Mentee and mentor indexes of the optimal assignment, by mentee: the preferred pairs that fit first, then the
    rest solved with the places they left."""
    first = preferred(matrix)
    if first:
        rest = Matrix(**{**matrix.__dict__, "left": matrix.left - np.bincount(
            [col for _, col in first], minlength=len(matrix.left)), "prefer": []})
        rest.candidate = matrix.candidate.copy()
        rest.candidate[[row for row, _ in first], :] = False
        return sorted(first + solve(rest))
    feasible = matrix.feasible
    # A mentor's places beyond the mentees who could take them add nothing: at most that many columns each.
    places = np.minimum(np.maximum(matrix.left, 0), feasible.sum(axis=0))
    columns = np.repeat(np.arange(len(matrix.left)), places)
    if len(columns) == 0 or feasible.shape[0] == 0:
        return []
    bonus = 100.0 * min(feasible.shape[0], len(columns)) + 1  # above any difference of totals of scores
    value = np.where(feasible, matrix.score + bonus, 0.0)[:, columns]
    rows, picked = linear_sum_assignment(value, maximize=True)
    return sorted((int(row), int(columns[col])) for row, col in zip(rows, picked, strict=True)
                  if feasible[row, columns[col]])


def greedy(matrix: Matrix) -> Pairs:
    """The best remaining pair first, while both are free: what a person pairing by hand tends to do."""
    left = matrix.left.copy()
    rows, cols = np.nonzero(matrix.feasible)
    order = np.lexsort((cols, rows, -matrix.score[rows, cols]))
    taken: set[int] = set()
    pairs = []
    for index in order:
        row, col = int(rows[index]), int(cols[index])
        if row not in taken and left[col] > 0:
            taken.add(row)
            left[col] -= 1
            pairs.append((row, col))
    return sorted(pairs)


def total(matrix: Matrix, pairs: Pairs) -> float:
    return round(float(sum(matrix.score[row, col] for row, col in pairs)), 2)


def rank_of(matrix: Matrix, row: int, col: int) -> int:
    """Where the mentor stands among the mentee's candidates, best first (ties share a rank)."""
    scores = matrix.score[row][matrix.candidate[row]]
    return 1 + int(np.sum(scores > matrix.score[row, col]))


def candidates(matrix: Matrix, row: int, k: int) -> list[int]:
    """The mentee's best ``k`` candidates with room, best first (ties by their order in the cohort)."""
    columns = np.nonzero(matrix.feasible[row])[0]
    order = columns[np.lexsort((columns, -matrix.score[row, columns]))]
    return [int(col) for col in order[:k]]


def unmatched_reason(matrix: Matrix, row: int) -> str:
    inputs = matrix.inputs
    fits = np.nonzero(matrix.candidate[row])[0]
    if len(fits) == 0:
        reasons_seen = [why_not(matrix, row, col) for col in range(len(matrix.mentors))]
        if not reasons_seen:
            return "the programme has no mentors"
        timeless = sum(1 for col in range(len(matrix.mentors)) if matrix.short_period[row, col] >= 0)
        zone = inputs["mentees"][row]["zone"]
        if timeless == len(matrix.mentors):
            return (f"no mentor has time in common at {inputs['session_minutes']}-minute sessions "
                    f"{'every week' if inputs['cadence_weeks'] == 1 else 'every 2 weeks'} "
                    f"in the mentee's windows ({zone})")
        rule = next((reason for reason in reasons_seen if reason is not None and "answer" in reason), None)
        if rule is not None:
            return f"every mentor with time in common breaks a rule: {rule}"
        return "every mentor with time in common is kept apart from them (the coordinators' word, or an ended pairing)"
    roomy = [col for col in fits if matrix.left[col] > 0]
    if not roomy:
        return f"the {len(fits)} mentor{'s' if len(fits) > 1 else ''} who fit have no places left"
    return (f"the {len(roomy)} mentor{'s' if len(roomy) > 1 else ''} who fit took mentees with fewer options "
            f"(pinned pairs and places as they stood)")


def result(matrix: Matrix, pairs: Pairs) -> dict[str, Any]:
    """What a run found: its pairs with scores, reasons and ranks, the mentees left unmatched and why, the
    distribution of the pairs' scores, the share who got one of their top-3, and greedy's total beside it; the
    pinned drafts it kept (their mentees not in the run) and the preferred pairs it made."""
    mentees, mentors = matrix.mentees, matrix.mentors
    made = {row for row, _ in pairs}
    quick = greedy(matrix)
    ranks = [rank_of(matrix, row, col) for row, col in pairs]
    histogram = np.histogram([matrix.score[row, col] for row, col in pairs], bins=BUCKETS, range=(0, 100))[0]
    return {
        "pairs": [{"mentee_participant_id": mentees[row]["id"], "mentor_participant_id": mentors[col]["id"],
                   "score": float(matrix.score[row, col]), "rank": rank,
                   "reasons": reasons(matrix, row, col)} for (row, col), rank in zip(pairs, ranks, strict=True)],
        "unmatched": [{"mentee_participant_id": mentees[row]["id"], "name": mentees[row]["name"],
                       "reason": unmatched_reason(matrix, row)} for row in range(len(mentees)) if row not in made],
        "mentees": len(mentees), "mentors": len(mentors), "matched": len(pairs),
        "total": total(matrix, pairs), "greedy_total": total(matrix, quick), "greedy_matched": len(quick),
        "distribution": [{"from": index * 10, "to": index * 10 + 10, "count": int(count)}
                         for index, count in enumerate(histogram)],
        "pinned": len(matrix.inputs.get("pinned", [])),
        "preferred": len(set(preferred(matrix)) & set(pairs)),
        "top3": sum(1 for rank in ranks if rank <= TOP),
        "top3_share": round(sum(1 for rank in ranks if rank <= TOP) / len(pairs), 4) if pairs else None,
    }
