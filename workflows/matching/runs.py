"""Runs of the matcher: work for the matching worker, on a queue of its own (one at a time, with a time limit, so a
run never takes the booking workflow's workers), with progress its coordinators see live, cancellable.

``queued → running → done | failed | cancelled``. A coordinator asks for a run (one at a time per programme); the
worker claims it, reads the cohort (``workflows.matching.cohort``: the mentors' free time in chunks, between which
it records its progress and hears a cancel), scores every pair, solves, and keeps the inputs, the result and each
mentee's best candidates with the run. In a coordinator-led programme the run's pairs replace the drafts not pinned;
in a programme where mentees choose, its candidates are what each mentee is offered. Each step is an event
(``match_run.requested``, ``.progress``, ``.completed``, ``.failed``, ``.cancelled``): the coordinators' live stream,
their inbox for the end, and the webhooks. A worker lost mid-run leaves it ``running``; the sweep hands it to the
next worker once its time limit has passed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import (
    DraftStatus,
    MatchCandidate,
    MatchDraft,
    MatchRun,
    MatchRunStatus,
    PairingMode,
    Programme,
)
from outbox import enqueue_after_commit
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, NotFound
from workflows.events import EventType, record
from workflows.matching.settings import Settings
from workflows.pagination import Page, paginate
from workflows.programme_payloads import MatchRunPayload
from workflows.programmes.lifecycle import TAKING_PARTICIPANTS, actor_label, coordinators_of, run_by
from workflows.roles import Role

if TYPE_CHECKING:
    from workflows.matching.scores import Matrix
    from workflows.matching.solver import Pairs

log = structlog.get_logger(__name__)

RUN_TASK = "matching.run"
BUSY = (MatchRunStatus.QUEUED, MatchRunStatus.RUNNING)
OVER = (MatchRunStatus.DONE, MatchRunStatus.FAILED, MatchRunStatus.CANCELLED)
CANDIDATES_KEPT = 10
Transaction = Callable[[], AbstractContextManager[Session]]


class Stopped(Exception):
    """The run was cancelled, or taken over, between two steps."""


def payload(db: Session, programme: Programme, run: MatchRun) -> MatchRunPayload:
    found = run.result or {}
    return {"id": str(run.id), "programme_id": str(programme.id), "programme_name": programme.name,
            "status": run.status.value, "stage": run.stage, "progress": run.progress,
            "mentees": found.get("mentees"), "matched": found.get("matched"), "top3_share": found.get("top3_share"),
            "error": run.error, "coordinator_user_ids": [str(u) for u in coordinators_of(db, programme.id)]}


def _record(db: Session, event_type: EventType, run: MatchRun, actor: str) -> None:
    db.flush()
    record(db, event_type, payload(db, db.get_one(Programme, run.programme_id), run), actor=actor)


def request(db: Session, actor: Actor, programme_id: uuid.UUID, *, now: datetime | None = None) -> MatchRun:
    """Ask for a run (its coordinators): 202 with the run, queued. 400 for a programme not taking participants or
    one paired by hand; 409 while another run of it waits or works."""
    now = now or utcnow()
    programme, role = run_by(db, actor, programme_id, lock=True)
    if programme.status not in TAKING_PARTICIPANTS:
        raise BusinessRuleViolation(f"the programme is {programme.status.value}: it matches no one now")
    if programme.pairing_mode == PairingMode.MANUAL:
        raise BusinessRuleViolation("the programme's pairs are made by hand: choose coordinator-led matching or the "
                                    "mentees' choice first", field="pairing_mode")
    run = MatchRun(id=uuid.uuid4(), programme_id=programme_id, status=MatchRunStatus.QUEUED,
                   requested_by_user_id=actor.user_id, created_at=now, stage="queued")
    try:
        with db.begin_nested():
            db.add(run)
            db.flush()
    except IntegrityError:
        raise Conflict("a run of this programme is already waiting or under way: wait for it, or cancel it") from None
    _record(db, EventType.MATCH_RUN_REQUESTED, run, actor_label(actor, role))
    enqueue_after_commit(db, RUN_TASK, str(run.id))
    return run


def _run(db: Session, actor: Actor, programme_id: uuid.UUID, run_id: uuid.UUID, *, lock: bool) -> MatchRun:
    run_by(db, actor, programme_id, lock=False)
    query = select(MatchRun).where(MatchRun.id == run_id, MatchRun.programme_id == programme_id)
    run = db.scalar(query.with_for_update() if lock else query)
    if run is None:
        raise NotFound("match run not found")
    return run


def get(db: Session, actor: Actor, programme_id: uuid.UUID, run_id: uuid.UUID) -> MatchRun:
    """A run, with its result once done (its coordinators; 404 for anyone else)."""
    return _run(db, actor, programme_id, run_id, lock=False)


def list_runs(db: Session, actor: Actor, programme_id: uuid.UUID, *, limit: int, cursor: str | None
              ) -> Page[MatchRun]:
    run_by(db, actor, programme_id, lock=False)
    return paginate(db, select(MatchRun).where(MatchRun.programme_id == programme_id), MatchRun.created_at,
                    MatchRun.id, limit=limit, cursor=cursor, descending=True)


def cancel(db: Session, actor: Actor, programme_id: uuid.UUID, run_id: uuid.UUID, *, now: datetime | None = None
           ) -> MatchRun:
    """Stop a run: a queued one at once; a running one at the worker's next step (``cancel_requested``). 409 once
    it is over."""
    run = _run(db, actor, programme_id, run_id, lock=True)
    if run.status in OVER:
        raise Conflict(f"the run is {run.status.value}")
    run.cancel_requested = True
    if run.status == MatchRunStatus.QUEUED:
        _stop(db, run, now or utcnow(), actor=str(actor))
    return run


def _stop(db: Session, run: MatchRun, now: datetime, *, actor: str) -> None:
    run.status, run.stage, run.finished_at = MatchRunStatus.CANCELLED, "cancelled", now
    _record(db, EventType.MATCH_RUN_CANCELLED, run, actor)


# --- the worker's side -------------------------------------------------------------------------------------


def _held(db: Session, run_id: uuid.UUID) -> MatchRun:
    """The run, locked, while it is this worker's to carry on; :class:`Stopped` once cancelled or over."""
    run = db.scalar(select(MatchRun).where(MatchRun.id == run_id).with_for_update())
    if run is None or run.status != MatchRunStatus.RUNNING:
        raise Stopped
    if run.cancel_requested:
        _stop(db, run, utcnow(), actor=Role.SYSTEM.value)
        raise Stopped
    return run


def claim(db: Session, run_id: uuid.UUID, now: datetime) -> bool:
    """Take a queued run (or one whose worker was lost past the time limit); False when there is none to take."""
    run = db.scalar(select(MatchRun).where(MatchRun.id == run_id).with_for_update())
    limit = timedelta(seconds=get_settings().match_run_seconds + 60)
    if run is None or not (run.status == MatchRunStatus.QUEUED or (
            run.status == MatchRunStatus.RUNNING and run.started_at is not None and run.started_at < now - limit)):
        return False
    run.status, run.started_at, run.stage, run.progress = MatchRunStatus.RUNNING, now, "reading the cohort", 1
    _record(db, EventType.MATCH_RUN_PROGRESS, run, Role.SYSTEM.value)
    return True


def step(db: Session, run_id: uuid.UUID, stage: str, progress: int) -> None:
    run = _held(db, run_id)
    run.stage, run.progress = stage, progress
    _record(db, EventType.MATCH_RUN_PROGRESS, run, Role.SYSTEM.value)


def replay(inputs: dict[str, Any]) -> tuple[Matrix, Pairs, dict[str, Any]]:
    """The scores, the pairs and the result the inputs give: the same inputs, the same pairs."""
    from workflows.matching import scores, solver  # noqa: PLC0415 - numpy and scipy: the matching worker's alone
    matrix = scores.compute(inputs)
    pairs = solver.solve(matrix)
    return matrix, pairs, solver.result(matrix, pairs)


def _candidates(matrix: Matrix, run_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    from workflows.matching import scores, solver  # noqa: PLC0415 - numpy and scipy: the matching worker's alone
    for row, mentee in enumerate(matrix.mentees):
        for rank, col in enumerate(solver.candidates(matrix, row, CANDIDATES_KEPT), start=1):
            yield {"run_id": run_id, "mentee_participant_id": uuid.UUID(mentee["id"]), "rank": rank,
                   "mentor_participant_id": uuid.UUID(matrix.mentors[col]["id"]),
                   "score": float(matrix.score[row, col]),
                   "reasons": scores.reasons(matrix, row, col, for_mentee=True)}


def finish(db: Session, run_id: uuid.UUID, inputs: dict[str, Any], matrix: Matrix, found: dict[str, Any], *,
           now: datetime) -> None:
    """Keep what the run found; a coordinator-led programme's drafts not pinned are replaced by its pairs."""
    from workflows.matching import cohort  # noqa: PLC0415 - numpy: the matching worker's alone
    run = _held(db, run_id)
    programme = db.get_one(Programme, run.programme_id)
    run.inputs, run.inputs_digest, run.result = inputs, cohort.digest(inputs), found
    rows = list(_candidates(matrix, run.id))
    db.execute(delete(MatchCandidate).where(MatchCandidate.run_id == run.id))  # a run taken over is kept once
    if rows:
        db.execute(insert(MatchCandidate), rows)
    if programme.pairing_mode == PairingMode.COORDINATOR:
        db.execute(delete(MatchDraft).where(MatchDraft.programme_id == programme.id, MatchDraft.pinned.is_(False),
                                            MatchDraft.status != DraftStatus.PUBLISHING))
        drafts = [{"id": uuid.uuid4(), "programme_id": programme.id, "run_id": run.id,
                   "mentee_participant_id": uuid.UUID(pair["mentee_participant_id"]),
                   "mentor_participant_id": uuid.UUID(pair["mentor_participant_id"]), "score": pair["score"],
                   "reasons": pair["reasons"], "pinned": False, "status": DraftStatus.DRAFT, "created_at": now}
                  for pair in found["pairs"]]
        if drafts:
            db.execute(insert(MatchDraft), drafts)
    run.status, run.stage, run.progress, run.finished_at = MatchRunStatus.DONE, "done", 100, now
    _record(db, EventType.MATCH_RUN_COMPLETED, run, Role.SYSTEM.value)


def fail(db: Session, run_id: uuid.UUID, error: str, now: datetime) -> None:
    run = db.scalar(select(MatchRun).where(MatchRun.id == run_id).with_for_update())
    if run is None or run.status != MatchRunStatus.RUNNING:
        return
    run.status, run.stage, run.finished_at, run.error = MatchRunStatus.FAILED, "failed", now, error[:500]
    _record(db, EventType.MATCH_RUN_FAILED, run, Role.SYSTEM.value)


def execute(transaction: Transaction, run_id: uuid.UUID, *, now: datetime | None = None) -> str:
    """Carry a run out, each step in a short transaction of its own; what became of it."""
    from workflows.matching import cohort  # noqa: PLC0415 - numpy: the matching worker's alone
    started = now or utcnow()
    with transaction() as db:
        if not claim(db, run_id, started):
            return "not claimed"

    def progress(done: int, of: int) -> None:
        with transaction() as db:
            step(db, run_id, f"free time of {done} of {of} mentors", 1 + 59 * done // max(of, 1))

    try:
        with transaction() as db:
            run = db.get_one(MatchRun, run_id)
            programme = db.get_one(Programme, run.programme_id)
            settings = Settings.of(programme.matching)
            inputs = cohort.gather(db, programme, settings, started, progress=progress)
        with transaction() as db:
            step(db, run_id, "scoring every pair", 70)
        matrix, _pairs, found = replay(inputs)
        with transaction() as db:
            finish(db, run_id, inputs, matrix, found, now=utcnow())
    except Stopped:
        return "stopped"
    except Exception as exc:  # a run that cannot finish is failed, with why, for its coordinators
        log.exception("matching.run_error", run_id=str(run_id))
        why = (f"took longer than MATCH_RUN_SECONDS ({get_settings().match_run_seconds} s)"
               if type(exc).__name__ == "SoftTimeLimitExceeded" else f"{type(exc).__name__}: {exc}")
        with transaction() as db:
            fail(db, run_id, why, utcnow())
        return "failed"
    log.info("matching.run_done", run_id=str(run_id), mentees=found["mentees"], matched=found["matched"])
    return "done"


def overdue(db: Session, now: datetime) -> list[uuid.UUID]:
    """Runs whose message may have been lost (queued a minute) or whose worker was (running past the limit)."""
    limit = timedelta(seconds=get_settings().match_run_seconds + 60)
    return list(db.scalars(select(MatchRun.id).where(
        ((MatchRun.status == MatchRunStatus.QUEUED) & (MatchRun.created_at < now - timedelta(minutes=1)))
        | ((MatchRun.status == MatchRunStatus.RUNNING) & (MatchRun.started_at < now - limit)))
        .order_by(MatchRun.created_at).limit(100)))
