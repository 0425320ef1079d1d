"""Runs of the matcher, the worker's side: what the matching worker's task carries out (``workers.matching``), on a
queue of its own (one at a time, with a time limit, so a run never takes the booking workflow's workers). The
request's side, asking for a run and cancelling it, is ``workflows.matching.runs``; every move of a run's status is
the table's (``workflows.matching.lifecycle``).

The worker claims the run, reads the cohort (``workflows.matching.cohort``: the mentors' free time in chunks, between
which it records its progress and hears a cancel), scores every pair, solves, and keeps the inputs, the result and
each mentee's best candidates with the run. In a coordinator-led programme the run's pairs replace the drafts not
pinned; in a programme where mentees choose, its candidates are what each mentee is offered. A run that cannot finish
is failed, with why. A worker lost mid-run leaves it ``running``; the sweep hands it to the next worker once its time
limit has passed.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import (
    DraftStatus,
    MatchCandidate,
    MatchDraft,
    MatchRun,
    MatchRunStatus,
    Pairing,
    PairingMode,
    ParticipantRole,
    ParticipantStatus,
    Programme,
    ProgrammeParticipant,
)
from workflows.clock import utcnow
from workflows.errors import DomainError
from workflows.events import EventType
from workflows.matching.lifecycle import MatchRunAction, move_run, record_run
from workflows.matching.settings import Settings
from workflows.programmes.pairings import LIVE
from workflows.roles import Role

if TYPE_CHECKING:
    from workflows.matching.scores import Matrix
    from workflows.matching.solver import Pairs

log = structlog.get_logger(__name__)

CANDIDATES_KEPT = 10
MAX_ATTEMPTS = 2
INPUTS_KEPT = 10  # the latest runs of a programme keep their inputs (about 0.6 MB for 1,000 mentees); older ones not
Transaction = Callable[[], AbstractContextManager[Session]]
_SYSTEM = Role.SYSTEM.value


class Stopped(Exception):
    """The run was cancelled, or taken over, between two steps."""


def _held(db: Session, run_id: uuid.UUID) -> MatchRun | None:
    """The run, locked, while it is this worker's to carry on; None once it is over or cancelled (a cancel asked
    for is recorded here, in the caller's transaction, which commits it)."""
    run = db.scalar(select(MatchRun).where(MatchRun.id == run_id).with_for_update()
                    .execution_options(populate_existing=True))  # read afresh under the lock: a cancel since counts
    if run is None or run.status != MatchRunStatus.RUNNING:
        return None
    if run.cancel_requested:
        move_run(db, run, MatchRunAction.STOP, Role.SYSTEM, actor=_SYSTEM, now=utcnow())
        return None
    return run


def _time_limit() -> timedelta:
    """How long a run may stay ``running`` before its worker is taken for lost."""
    return timedelta(seconds=get_settings().match_run_seconds + 60)


def _lost(run: MatchRun, now: datetime) -> bool:
    """Whether the run's worker was lost: it is running past the time limit."""
    return run.status == MatchRunStatus.RUNNING and run.started_at is not None and run.started_at < now - _time_limit()


def claim(db: Session, run_id: uuid.UUID, now: datetime) -> bool:
    """Take a queued run, or one whose worker was lost past the time limit (once: a run that loses a second worker
    is failed, not handed on again, as one that kills its worker would loop); False when there is none to take."""
    run = db.scalar(select(MatchRun).where(MatchRun.id == run_id).with_for_update())
    if run is None:
        return False
    if run.status == MatchRunStatus.QUEUED:
        action = MatchRunAction.CLAIM
    elif not _lost(run, now):
        return False
    elif run.attempts >= MAX_ATTEMPTS:
        run.error = f"its worker was lost {run.attempts} times (past MATCH_RUN_SECONDS, or out of memory)"
        move_run(db, run, MatchRunAction.FAIL, Role.SYSTEM, actor=_SYSTEM, now=now)
        return False
    else:
        action = MatchRunAction.TAKE_OVER
    move_run(db, run, action, Role.SYSTEM, actor=_SYSTEM, now=now)
    return True


def step(db: Session, run_id: uuid.UUID, stage: str, progress: int) -> bool:
    """Record how far the run got; False when it is to stop (cancelled, or no longer this worker's)."""
    run = _held(db, run_id)
    if run is None:
        return False
    run.stage, run.progress = stage, progress
    record_run(db, EventType.MATCH_RUN_PROGRESS, run, _SYSTEM)
    return True


def advance(transaction: Transaction, run_id: uuid.UUID, stage: str, progress: int) -> None:
    """:func:`step` in a transaction of its own, committed; :class:`Stopped` after it when the run is to stop."""
    with transaction() as db:
        going = step(db, run_id, stage, progress)
    if not going:
        raise Stopped


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


def _room(db: Session, programme_id: uuid.UUID) -> tuple[set[uuid.UUID], dict[uuid.UUID, int]]:
    """Who is taken now (a live pairing, or a draft kept: pinned or being published) and each mentor's room."""
    taken = set(db.scalars(select(Pairing.mentee_participant_id).where(
        Pairing.programme_id == programme_id, Pairing.status.in_(LIVE))))
    kept = db.execute(select(MatchDraft.mentee_participant_id, MatchDraft.mentor_participant_id).where(
        MatchDraft.programme_id == programme_id,
        MatchDraft.pinned.is_(True) | (MatchDraft.status == DraftStatus.PUBLISHING))).all()
    taken |= {mentee for mentee, _ in kept}
    used = Counter(mentor for _, mentor in kept)
    used.update(db.scalars(select(Pairing.mentor_participant_id).where(
        Pairing.programme_id == programme_id, Pairing.status.in_(LIVE))))
    room = {mentor: (capacity or 0) - used[mentor] for mentor, capacity in db.execute(
        select(ProgrammeParticipant.id, ProgrammeParticipant.capacity).where(
            ProgrammeParticipant.programme_id == programme_id, ProgrammeParticipant.role == ParticipantRole.MENTOR,
            ProgrammeParticipant.status == ParticipantStatus.ACTIVE))}
    return taken, room


def finish(db: Session, run_id: uuid.UUID, inputs: dict[str, Any], matrix: Matrix, found: dict[str, Any], *,
           now: datetime) -> bool:
    """Keep what the run found; a coordinator-led programme's drafts not pinned are replaced by its pairs. The
    programme's row is locked first, so no publication, pairing by hand or draft edit lands meanwhile; a pair whose
    mentee was paired, or whose mentor filled up, since the cohort was read is not drafted. False when the run
    was cancelled or taken over meanwhile."""
    from workflows.matching import cohort  # noqa: PLC0415 - numpy: the matching worker's alone

    run = db.scalar(select(MatchRun).where(MatchRun.id == run_id))
    programme = db.get_one(Programme, run.programme_id, with_for_update=True) if run is not None else None
    held = _held(db, run_id)
    if held is None or programme is None:
        return False
    held.inputs, held.inputs_digest, held.result = inputs, cohort.digest(inputs), found
    rows = list(_candidates(matrix, held.id))
    db.execute(delete(MatchCandidate).where(MatchCandidate.run_id == held.id))  # a run taken over is kept once
    if rows:
        db.execute(insert(MatchCandidate), rows)
    if programme.pairing_mode == PairingMode.COORDINATOR:
        db.execute(delete(MatchDraft).where(MatchDraft.programme_id == programme.id, MatchDraft.pinned.is_(False),
                                            MatchDraft.status != DraftStatus.PUBLISHING))
        drafts = _drafts(db, programme, held, matrix, now)
        if drafts:
            db.execute(insert(MatchDraft), drafts)
    db.execute(update(MatchRun).where(MatchRun.programme_id == programme.id, MatchRun.id.not_in(
        select(MatchRun.id).where(MatchRun.programme_id == programme.id).order_by(MatchRun.created_at.desc())
        .limit(INPUTS_KEPT).scalar_subquery())).values(inputs=None))
    move_run(db, held, MatchRunAction.COMPLETE, Role.SYSTEM, actor=_SYSTEM, now=now)
    return True


def _drafts(db: Session, programme: Programme, run: MatchRun, matrix: Matrix, now: datetime
            ) -> list[dict[str, Any]]:
    """The run's pairs as drafts, each with the pair's first common start (when still ahead), those taken since the
    cohort was read left out."""
    taken, room = _room(db, programme.id)
    index = {mentee["id"]: row for row, mentee in enumerate(matrix.mentees)}
    column = {mentor["id"]: col for col, mentor in enumerate(matrix.mentors)}
    start = datetime.fromisoformat(matrix.inputs["period_start"])
    made = []
    for pair in (run.result or {}).get("pairs", []):
        mentee, mentor = uuid.UUID(pair["mentee_participant_id"]), uuid.UUID(pair["mentor_participant_id"])
        if mentee in taken or room.get(mentor, 0) <= 0:
            continue
        room[mentor] -= 1
        found = matrix.first_common_start(index[pair["mentee_participant_id"]], column[pair["mentor_participant_id"]])
        first = start + timedelta(minutes=found) if found is not None else None
        made.append({"id": uuid.uuid4(), "programme_id": programme.id, "run_id": run.id,
                     "mentee_participant_id": mentee, "mentor_participant_id": mentor, "score": pair["score"],
                     "reasons": pair["reasons"], "pinned": False, "status": DraftStatus.DRAFT, "created_at": now,
                     "first_start": first if first is not None and first > now else None})
    return made


def fail(db: Session, run_id: uuid.UUID, error: str, now: datetime) -> None:
    """Fail a run this worker could not finish, with why; nothing when it is no longer running (stopped, done)."""
    run = db.scalar(select(MatchRun).where(MatchRun.id == run_id).with_for_update())
    if run is None or run.status != MatchRunStatus.RUNNING:
        return
    run.error = error[:500]
    move_run(db, run, MatchRunAction.FAIL, Role.SYSTEM, actor=_SYSTEM, now=now)


def execute(transaction: Transaction, run_id: uuid.UUID, *, now: datetime | None = None) -> str:
    """Carry a run out, each step in a short transaction of its own; what became of it."""
    from workflows.matching import cohort  # noqa: PLC0415 - numpy: the matching worker's alone

    started = now or utcnow()
    with transaction() as db:
        if not claim(db, run_id, started):
            return "not claimed"
    try:
        with transaction() as db:
            run = db.get_one(MatchRun, run_id)
            programme = db.get_one(Programme, run.programme_id)
            settings = Settings.of(programme.matching)
            inputs = cohort.gather(db, programme, settings, started, progress=lambda done, of: advance(
                transaction, run_id, f"free time of {done} of {of} mentors", 1 + 59 * done // max(of, 1)))
        advance(transaction, run_id, "scoring every pair", 70)
        matrix, _pairs, found = replay(inputs)
        advance(transaction, run_id, "keeping the result", 90)
        with transaction() as db:
            if not finish(db, run_id, inputs, matrix, found, now=utcnow()):
                return "stopped"
    except Stopped:
        return "stopped"
    except Exception as exc:  # a run that cannot finish is failed, with why, for its coordinators
        log.exception("matching.run_error", run_id=str(run_id))
        with transaction() as db:
            fail(db, run_id, _why(exc), utcnow())
        return "failed"
    log.info("matching.run_done", run_id=str(run_id), mentees=found["mentees"], matched=found["matched"])
    return "done"


def _why(exc: Exception) -> str:
    """What coordinators read of a failure (and their mail and webhooks carry): the rule it broke, the time limit,
    or that it was an internal error (the details stay in the operators' logs)."""
    if isinstance(exc, DomainError):
        return str(exc)
    if type(exc).__name__ == "SoftTimeLimitExceeded":
        return f"it took longer than MATCH_RUN_SECONDS ({get_settings().match_run_seconds} s)"
    return "an internal error stopped it (the operators' logs have the details)"


def overdue(db: Session, now: datetime) -> list[uuid.UUID]:
    """Runs whose message may have been lost (queued a minute) or whose worker was (running past the limit)."""
    return list(db.scalars(select(MatchRun.id).where(
        ((MatchRun.status == MatchRunStatus.QUEUED) & (MatchRun.created_at < now - timedelta(minutes=1)))
        | ((MatchRun.status == MatchRunStatus.RUNNING) & (MatchRun.started_at < now - _time_limit())))
        .order_by(MatchRun.created_at).limit(100)))
