"""Runs of the matcher, the request's side: what the API asks of a run. A coordinator asks for one (one at a time per
programme), reads it and its list, and cancels it; the drafts and a mentee's choice ask whether a run is busy and
mark the pairings a run proposed. The run itself is carried out by the matching worker
(``workflows.matching.execution``), on a queue of its own, with progress its coordinators see live; every move of
its status is the table's (``workflows.matching.lifecycle``).

Each step is an event (``match_run.requested``, ``.progress``, ``.completed``, ``.failed``, ``.cancelled``): the
coordinators' live stream, their inbox for the end, and the webhooks.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import DraftStatus, MatchCandidate, MatchDraft, MatchRun, MatchRunStatus, Pairing, PairingMode
from outbox import enqueue_after_commit
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, InvalidTransition, NotFound
from workflows.events import EventType
from workflows.matching.lifecycle import MatchRunAction, move_run, record_run
from workflows.pagination import Page, paginate
from workflows.programmes import access as programme_access
from workflows.programmes.lifecycle import TAKING_PARTICIPANTS, actor_label
from workflows.roles import Role

RUN_TASK = "matching.run"
BUSY = (MatchRunStatus.QUEUED, MatchRunStatus.RUNNING)


def request(db: Session, actor: Actor, programme_id: uuid.UUID, *, now: datetime | None = None) -> MatchRun:
    """Ask for a run (its coordinators): 202 with the run, queued. 400 for a programme not taking participants or
    one paired by hand; 409 while another run of it waits or works."""
    now = now or utcnow()
    programme, role = programme_access.may_change(db, actor, programme_id)
    if programme.status not in TAKING_PARTICIPANTS:
        raise BusinessRuleViolation("the programme is {status}: it matches no one now",
                                    words={"status": programme.status.value})
    if programme.pairing_mode == PairingMode.MANUAL:
        raise BusinessRuleViolation("the programme's pairs are made by hand: choose coordinator-led matching or the "
                                    "mentees' choice first", field="pairing_mode")
    if db.scalar(select(MatchDraft.id).where(MatchDraft.programme_id == programme_id,
                                             MatchDraft.status == DraftStatus.PUBLISHING).limit(1)):
        raise Conflict("the drafts are being published: run the match again once they are",
                       reason="drafts_being_published")
    run = MatchRun(id=uuid.uuid4(), programme_id=programme_id, status=MatchRunStatus.QUEUED,
                   requested_by_user_id=actor.user_id, created_at=now, stage="queued")
    try:
        with db.begin_nested():
            db.add(run)
            db.flush()
    except IntegrityError:
        raise Conflict("a run of this programme is already waiting or under way: wait for it, or cancel it",
                       reason="run_under_way") from None
    record_run(db, EventType.MATCH_RUN_REQUESTED, run, actor_label(actor, role))
    enqueue_after_commit(db, RUN_TASK, str(run.id))
    return run


def _run(db: Session, actor: Actor, programme_id: uuid.UUID, run_id: uuid.UUID, *, lock: bool
         ) -> tuple[MatchRun, Role]:
    _programme, role = programme_access.may_read(db, actor, programme_id)
    query = select(MatchRun).where(MatchRun.id == run_id, MatchRun.programme_id == programme_id)
    run = db.scalar(query.with_for_update() if lock else query)
    if run is None:
        raise NotFound("match run not found")
    return run, role


def get(db: Session, actor: Actor, programme_id: uuid.UUID, run_id: uuid.UUID) -> MatchRun:
    """A run, with its result once done (its coordinators; 404 for anyone else)."""
    return _run(db, actor, programme_id, run_id, lock=False)[0]


def list_runs(db: Session, actor: Actor, programme_id: uuid.UUID, *, limit: int, cursor: str | None
              ) -> Page[MatchRun]:
    programme_access.may_read(db, actor, programme_id)
    return paginate(db, select(MatchRun).where(MatchRun.programme_id == programme_id), MatchRun.created_at,
                    MatchRun.id, limit=limit, cursor=cursor, descending=True)


def cancel(db: Session, actor: Actor, programme_id: uuid.UUID, run_id: uuid.UUID, *, now: datetime | None = None
           ) -> MatchRun:
    """Stop a run: a queued one at once; a running one at the worker's next step (``cancel_requested``). 409 once
    it is over: the table moves no run that is over, and a cancel that finds it so lost a race with its end."""
    run, role = _run(db, actor, programme_id, run_id, lock=True)
    action = MatchRunAction.CANCEL if run.status == MatchRunStatus.QUEUED else MatchRunAction.CANCEL_RUNNING
    try:
        move_run(db, run, action, role, actor=str(actor), now=now or utcnow())
    except InvalidTransition:
        raise Conflict("the run is {status}", words={"status": run.status.value}, reason="run_over") from None
    return run


def busy(db: Session, programme_id: uuid.UUID) -> bool:
    """Whether a run of the programme waits or works (its drafts then change only by its result)."""
    return db.scalar(select(MatchRun.id).where(MatchRun.programme_id == programme_id,
                                               MatchRun.status.in_(BUSY)).limit(1)) is not None


def mark_matched(db: Session, pairing: Pairing, run_id: uuid.UUID | None) -> None:
    """A pairing a run proposed: the run, and its mentor's rank among the mentee's candidates there (null past
    the ten kept), which the dashboard's match quality (a top-3 mentor) is read from."""
    if run_id is None:
        return
    pairing.match_run_id = run_id
    pairing.match_rank = db.scalar(select(MatchCandidate.rank).where(
        MatchCandidate.run_id == run_id, MatchCandidate.mentee_participant_id == pairing.mentee_participant_id,
        MatchCandidate.mentor_participant_id == pairing.mentor_participant_id))
