"""A match run's table (``workflows/matching/lifecycle.py``) as both sides of a run use it: a run over is moved by
nobody, its coordinators' cancel told as a conflict (409), and what the request's side and the matching worker's
side do to a run's status is the table's: with its row taken away, each is refused. Who may make which move, from
which status, is ``tests/workflows/test_state_machine.py``'s."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from models import MatchRun, MatchRunStatus, User
from tests.database import events_of, refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.matching import inputs
from workflows.clock import utcnow
from workflows.errors import Conflict, InvalidTransition
from workflows.matching import execution, runs
from workflows.matching.lifecycle import RUNS, MatchRunAction, move_run
from workflows.programmes import lifecycle as programmes
from workflows.programmes.lifecycle import ProgrammeAction
from workflows.roles import Role
from workflows.state_machine import Transition

OVER = (MatchRunStatus.DONE, MatchRunStatus.FAILED, MatchRunStatus.CANCELLED)


@pytest.fixture
def coordinator() -> User:
    return UserFactory()


@pytest.fixture
def programme_id(db: Session, coordinator: User) -> uuid.UUID:
    """A programme taking participants, its pairs drafted by the matcher."""
    made = programmes.create(db, actor_of(UserFactory(is_admin=True)), name="Spring cohort",
                             coordinator_user_ids=[coordinator.id])
    programmes.act(db, actor_of(coordinator), made.id, ProgrammeAction.OPEN_ENROLMENT)
    return made.id


def _run(db: Session, programme_id: uuid.UUID, status: MatchRunStatus, **columns: object) -> MatchRun:
    now = utcnow()
    run = MatchRun(id=uuid.uuid4(), programme_id=programme_id, status=status, stage=status.value, created_at=now,
                   started_at=None if status == MatchRunStatus.QUEUED else now,
                   finished_at=now if status in OVER else None, **columns)
    db.add(run)
    db.flush()
    return run


@pytest.mark.parametrize("status", OVER)
def test_a_run_over_is_cancelled_by_no_one_and_the_cancel_is_told_as_a_conflict(
        db: Session, coordinator: User, programme_id: uuid.UUID, status: MatchRunStatus) -> None:
    run = _run(db, programme_id, status)
    refusal = refused(db, Conflict, lambda: runs.cancel(db, actor_of(coordinator), programme_id, run.id))
    assert refusal.message == f"the run is {status.value}"
    assert (run.status, run.cancel_requested) == (status, False)
    assert events_of(db, run.id) == []


@pytest.mark.parametrize("status", OVER)
@pytest.mark.parametrize("action", list(MatchRunAction))
def test_a_run_over_is_moved_by_no_one_and_nothing_is_told(
        db: Session, programme_id: uuid.UUID, status: MatchRunStatus, action: MatchRunAction) -> None:
    run = _run(db, programme_id, status)
    for role in RUNS.transitions[action].by:  # every party that may make the move of a run not over
        refusal = refused(db, InvalidTransition, lambda role=role: move_run(
            db, run, action, role, actor=role.value, now=utcnow()))
        assert refusal.details == {"current_status": status.value, "action": action.value}
    assert run.status == status
    assert events_of(db, run.id) == []


def test_the_cancel_refused_is_the_tables(db: Session, coordinator: User, programme_id: uuid.UUID,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    done = _run(db, programme_id, MatchRunStatus.DONE)
    # A table whose coordinators' cancel moved a run done too: the same cancel is no longer refused.
    monkeypatch.setitem(RUNS.transitions, MatchRunAction.CANCEL_RUNNING, Transition(
        frozenset({MatchRunStatus.RUNNING, MatchRunStatus.DONE}), MatchRunStatus.DONE,
        frozenset({Role.COORDINATOR})))
    assert runs.cancel(db, actor_of(coordinator), programme_id, done.id).status == MatchRunStatus.DONE


def _lost(db: Session, programme_id: uuid.UUID, attempts: int) -> MatchRun:
    run = _run(db, programme_id, MatchRunStatus.RUNNING, attempts=attempts)
    run.started_at = utcnow() - timedelta(hours=1)
    db.flush()
    return run


def _keep_an_empty_cohort(db: Session, run_id: uuid.UUID) -> bool:
    cohort = inputs([], [])
    matrix, _pairs, found = execution.replay(cohort)
    return execution.finish(db, run_id, cohort, matrix, found, now=utcnow())


# Each move the worker makes: the run it makes it on, and the call that makes it.
WORKER_MOVES: dict[str, tuple[MatchRunAction, Callable[[Session, uuid.UUID], MatchRun],
                              Callable[[Session, uuid.UUID], object]]] = {
    "claim a queued run": (MatchRunAction.CLAIM, lambda db, p: _run(db, p, MatchRunStatus.QUEUED),
                           lambda db, run_id: execution.claim(db, run_id, utcnow())),
    "take over a lost one": (MatchRunAction.TAKE_OVER, lambda db, p: _lost(db, p, 1),
                             lambda db, run_id: execution.claim(db, run_id, utcnow())),
    "fail one lost twice": (MatchRunAction.FAIL, lambda db, p: _lost(db, p, execution.MAX_ATTEMPTS),
                            lambda db, run_id: execution.claim(db, run_id, utcnow())),
    "fail one that broke": (MatchRunAction.FAIL, lambda db, p: _run(db, p, MatchRunStatus.RUNNING),
                            lambda db, run_id: execution.fail(db, run_id, "boom", utcnow())),
    "stop one cancelled": (MatchRunAction.STOP,
                           lambda db, p: _run(db, p, MatchRunStatus.RUNNING, cancel_requested=True),
                           lambda db, run_id: execution.step(db, run_id, "scoring every pair", 70)),
    "keep what one found": (MatchRunAction.COMPLETE, lambda db, p: _run(db, p, MatchRunStatus.RUNNING),
                            _keep_an_empty_cohort),
}


@pytest.mark.parametrize("case", WORKER_MOVES)
def test_each_move_the_worker_makes_is_the_tables(db: Session, programme_id: uuid.UUID, case: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    action, made, call = WORKER_MOVES[case]
    run = made(db, programme_id)
    before = run.status
    row = RUNS.transitions[action]
    monkeypatch.setitem(RUNS.transitions, action, Transition(frozenset(), row.target, row.by, row.event))
    refusal = refused(db, InvalidTransition, lambda: call(db, run.id))
    assert refusal.details == {"current_status": before.value, "action": action.value}
    monkeypatch.undo()  # the table as it is: the same call makes the move
    call(db, run.id)
    assert run.status == row.target
    assert events_of(db, run.id)[-1:] == [(row.event, Role.SYSTEM.value)]
