"""Where a pair stand in their plan (``workflows.programmes.plan_steps``): a step's time comes at its week or when its
session is the next one; this week's step is the first to do whose time has come, else the first to do, else none."""

from __future__ import annotations

import uuid

from models import PairingStep, StepAnchor, StepStatus
from workflows.programmes.plan_steps import Standing, current


def _step(anchor: StepAnchor, number: int, status: StepStatus = StepStatus.TODO) -> PairingStep:
    return PairingStep(id=uuid.uuid4(), anchor=anchor, number=number, status=status, title=f"{anchor} {number}")


W, S = StepAnchor.WEEK, StepAnchor.SESSION


def test_a_step_is_due_from_its_week_or_once_its_session_is_the_next_one() -> None:
    week3, session2 = _step(W, 3), _step(S, 2)
    assert [Standing(week, 0).due(week3) for week in (0, 1, 2, 3, 4)] == [False, False, False, True, True]
    # Session 2 is due once one session is held (the next is the second), never before the pairing started.
    assert [Standing(1, held).due(session2) for held in (0, 1, 2)] == [False, True, True]
    assert Standing(0, 5).due(session2) is False


def test_this_weeks_step_is_the_first_to_do_whose_time_has_come_else_the_first_to_do() -> None:
    first, second, third = _step(W, 1, StepStatus.DONE), _step(S, 2), _step(W, 2)
    steps = [first, second, third]
    assert current(steps, Standing(1, 0)) is second  # nothing due to do: the first to do
    assert current(steps, Standing(2, 0)) is third  # week 2 has begun; session 2 is not the next one yet
    assert current(steps, Standing(2, 1)) is second  # both due: the first in order
    second.status = third.status = StepStatus.SKIPPED
    assert current(steps, Standing(9, 9)) is None
    assert current([], Standing(1, 0)) is None
