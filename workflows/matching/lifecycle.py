"""A match run's lifecycle: the one table of its moves (:data:`RUNS`), and :func:`move_run`, which every change of a
run's status goes through and which records the row's event for the run's coordinators. Both sides of a run use it:
the request's (``workflows.matching.runs``) and the matching worker's (``workflows.matching.execution``).

- ``queued → cancelled``: its coordinators (or an admin) cancel a run still waiting, at once;
- ``running → running`` (``cancel_running``): they ask a run under way to stop; its worker hears it at its next step;
- ``queued → running``: the matching worker claims the run;
- ``running → running`` (``take_over``): a worker takes over a run whose worker was lost past the time limit;
- ``running → cancelled`` (``stop``): the worker stops a run whose cancel it heard;
- ``running → done | failed``: the worker keeps what the run found, or fails it with why.

A run over (done, failed or cancelled) never moves again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from models import MatchRun, MatchRunStatus, Programme
from workflows.events import EventType, record
from workflows.programme_payloads import MatchRunPayload
from workflows.programmes.lifecycle import coordinators_of
from workflows.roles import Role
from workflows.state_machine import StateMachine, Transition, move


class MatchRunAction(StrEnum):
    CANCEL = "cancel"
    CANCEL_RUNNING = "cancel_running"
    CLAIM = "claim"
    TAKE_OVER = "take_over"
    STOP = "stop"
    COMPLETE = "complete"
    FAIL = "fail"


# What a move does besides the status, each with the time of the move.
def _asked_to_stop(_db: Session, run: MatchRun, _now: datetime) -> None:
    run.cancel_requested = True


def _taken(_db: Session, run: MatchRun, now: datetime) -> None:
    run.started_at, run.stage, run.progress = now, "reading the cohort", 1
    run.attempts += 1


def _over(_db: Session, run: MatchRun, now: datetime) -> None:
    run.stage, run.finished_at = run.status.value, now


def _cancelled(db: Session, run: MatchRun, now: datetime) -> None:
    _asked_to_stop(db, run, now)
    _over(db, run, now)


def _done(db: Session, run: MatchRun, now: datetime) -> None:
    _over(db, run, now)
    run.progress = 100


_RUNNERS = (Role.COORDINATOR, Role.ADMIN)
_QUEUED, _RUNNING = MatchRunStatus.QUEUED, MatchRunStatus.RUNNING
RUNS = StateMachine("match run", MatchRun, {
    MatchRunAction.CANCEL: move(_QUEUED, MatchRunStatus.CANCELLED, *_RUNNERS, event=EventType.MATCH_RUN_CANCELLED,
                                effect=_cancelled),
    # No event: the worker's stop tells of the cancel once it is heard.
    MatchRunAction.CANCEL_RUNNING: move(_RUNNING, _RUNNING, *_RUNNERS, effect=_asked_to_stop),
    MatchRunAction.CLAIM: move(_QUEUED, _RUNNING, Role.SYSTEM, event=EventType.MATCH_RUN_PROGRESS, effect=_taken),
    MatchRunAction.TAKE_OVER: move(_RUNNING, _RUNNING, Role.SYSTEM, event=EventType.MATCH_RUN_PROGRESS,
                                   effect=_taken),
    MatchRunAction.STOP: move(_RUNNING, MatchRunStatus.CANCELLED, Role.SYSTEM, event=EventType.MATCH_RUN_CANCELLED,
                              effect=_over),
    MatchRunAction.COMPLETE: move(_RUNNING, MatchRunStatus.DONE, Role.SYSTEM, event=EventType.MATCH_RUN_COMPLETED,
                                  effect=_done),
    MatchRunAction.FAIL: move(_RUNNING, MatchRunStatus.FAILED, Role.SYSTEM, event=EventType.MATCH_RUN_FAILED,
                              effect=_over),
}, verbs={MatchRunAction.CANCEL_RUNNING: "cancel", MatchRunAction.TAKE_OVER: "take over"})


def payload(db: Session, programme: Programme, run: MatchRun) -> MatchRunPayload:
    found = run.result or {}
    return {"id": str(run.id), "programme_id": str(programme.id), "programme_name": programme.name,
            "status": run.status.value, "stage": run.stage, "progress": run.progress,
            "mentees": found.get("mentees"), "matched": found.get("matched"), "top3_share": found.get("top3_share"),
            "error": run.error, "coordinator_user_ids": [str(u) for u in coordinators_of(db, programme.id)]}


def record_run(db: Session, event_type: EventType, run: MatchRun, actor: str) -> None:
    """The run's event, as it stands now: its live stream, its coordinators' inbox and the webhooks read it."""
    db.flush()
    record(db, event_type, payload(db, db.get_one(Programme, run.programme_id), run), actor=actor)


def move_run(db: Session, run: MatchRun, action: MatchRunAction, role: Role, *, actor: str, now: datetime
             ) -> Transition[MatchRunStatus]:
    """Move the run by ``action`` made by ``role`` as :data:`RUNS` says (or refuse as it does: 403 for the wrong
    party, :class:`~workflows.errors.InvalidTransition` for the wrong status), and record the row's event."""
    transition = RUNS.act(db, run, action, role, now)
    if transition.event is not None:
        record_run(db, EventType(transition.event), run, actor)
    return transition
