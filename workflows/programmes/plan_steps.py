"""A pairing's copy of its programme's plan (``workflows.programmes.plans``), as the pair work through it: each step
ticked done, skipped with a note, or back to do (:data:`STEPS`, each move a ``plan.*`` event), by either of the pair
or a coordinator, until the pairing ends.

Where the pair stand: their week (week 1 from the day the pairing became active), the sessions they have held, and
so **this week's step** (:func:`current`): the first step to do whose time has come (its week has begun, or its
session is the next one or before), else the first step to do. A session's page shows the step of that session
(:func:`for_session`). The coordinators read each pairing's progress and the programme's, step by step
(:func:`progress`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    MentorshipSession,
    Pairing,
    PairingStatus,
    PairingStep,
    Programme,
    SessionStatus,
    StepAnchor,
    StepStatus,
)
from models.programmes.plans import MAX_SKIP_NOTE
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.conversations.text import cleaned
from workflows.errors import BusinessRuleViolation, InvalidInput, NotFound
from workflows.events import EventType, record
from workflows.programme_payloads import PlanStepPayload
from workflows.programmes import access as programme_access
from workflows.programmes import resources
from workflows.programmes.goals import session_ids
from workflows.programmes.lifecycle import actor_label, coordinators_of
from workflows.programmes.pairings import load as load_pairing
from workflows.roles import Role
from workflows.sessions.lifecycle import get_visible_session
from workflows.sessions.pairing_items import pairing_of
from workflows.state_machine import StateMachine, move


class StepAction(StrEnum):
    DONE = "done"
    SKIP = "skip"
    REOPEN = "reopen"


_PEOPLE = (Role.MENTOR, Role.MENTEE, Role.COORDINATOR, Role.ADMIN)
STEPS = StateMachine("plan step", PairingStep, {
    StepAction.DONE: move(StepStatus.TODO, StepStatus.DONE, *_PEOPLE, event=EventType.PLAN_STEP_DONE),
    StepAction.SKIP: move(StepStatus.TODO, StepStatus.SKIPPED, *_PEOPLE, event=EventType.PLAN_STEP_SKIPPED),
    StepAction.REOPEN: move({StepStatus.DONE, StepStatus.SKIPPED}, StepStatus.TODO, *_PEOPLE,
                            event=EventType.PLAN_STEP_REOPENED),
}, verbs={StepAction.DONE: "tick off"})


@dataclass(frozen=True)
class Standing:
    """Where a pair stand in their term: their week (0 before the pairing became active) and sessions held."""

    week: int
    held: int

    def due(self, step: PairingStep) -> bool:
        """Whether the step's time has come: its week has begun, or its session is the next one or before."""
        if step.anchor == StepAnchor.WEEK:
            return self.week >= step.number
        return self.week > 0 and self.held + 1 >= step.number


@dataclass(frozen=True)
class PairingPlan:
    """A pairing's steps in order, where the pair stand, and this week's step (none when every step is behind
    them, or the pairing has no plan)."""

    pairing_id: uuid.UUID
    programme_id: uuid.UUID
    steps: list[PairingStep]
    standing: Standing
    current_step_id: uuid.UUID | None
    resources: dict[uuid.UUID, str]  # the titles of the library's resources its steps suggest, still there

    @property
    def done(self) -> int:
        return sum(step.status != StepStatus.TODO for step in self.steps)


def standing(db: Session, pairing: Pairing, now: datetime) -> Standing:
    if pairing.activated_at is None:
        return Standing(0, 0)
    ids = session_ids(db, pairing)
    held = db.scalar(select(func.count()).select_from(MentorshipSession).where(
        MentorshipSession.id.in_(ids), MentorshipSession.status == SessionStatus.COMPLETED)) if ids else 0
    return Standing(max(0, (now - pairing.activated_at).days) // 7 + 1, held or 0)


def current(steps: Sequence[PairingStep], where: Standing) -> PairingStep | None:
    """This week's step: the first to do whose time has come, else the first to do."""
    waiting = [step for step in steps if step.status == StepStatus.TODO]
    return next((step for step in waiting if where.due(step)), waiting[0] if waiting else None)


def _steps(db: Session, pairing_id: uuid.UUID, *, lock: bool = False) -> list[PairingStep]:
    query = select(PairingStep).where(PairingStep.pairing_id == pairing_id).order_by(PairingStep.position,
                                                                                       PairingStep.id)
    return list(db.scalars(query.with_for_update() if lock else query))


def _plan(db: Session, pairing: Pairing, now: datetime) -> PairingPlan:
    steps = _steps(db, pairing.id)
    where = standing(db, pairing, now)
    step = current(steps, where)
    suggested = sorted({resource_id for one in steps for resource_id in one.resource_ids})
    return PairingPlan(pairing.id, pairing.programme_id, steps, where, step.id if step else None,
                       resources.titles(db, pairing.programme_id, suggested))


def read(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *,
         now: datetime | None = None) -> PairingPlan:
    """A pairing's plan: the pair and the programme's coordinators; 404 for anyone else."""
    pairing, _ = load_pairing(db, actor, programme_id, pairing_id, lock=False)
    return _plan(db, pairing, now or utcnow())


def for_session(db: Session, pairing: Pairing, session: MentorshipSession) -> PairingStep | None:
    """The step of a pairing's session: the step of that session's number (its place among the pairing's sessions
    not cancelled), else the step of the week it falls in, else none."""
    steps = _steps(db, pairing.id)
    if not steps or pairing.activated_at is None:
        return None
    ids = session_ids(db, pairing)
    number = db.scalar(select(func.count()).select_from(MentorshipSession).where(
        MentorshipSession.id.in_(ids), MentorshipSession.status != SessionStatus.CANCELLED,
        MentorshipSession.start_time <= session.start_time)) or 1
    week = max(0, (session.start_time - pairing.activated_at).days) // 7 + 1
    return next((s for s in steps if s.anchor == StepAnchor.SESSION and s.number == number), None) or next(
        (s for s in steps if s.anchor == StepAnchor.WEEK and s.number == week), None)


def step_payload(db: Session, programme: Programme, pairing: Pairing, step: PairingStep) -> PlanStepPayload:
    return {"id": str(step.id), "pairing_id": str(pairing.id), "programme_id": str(programme.id),
            "programme_name": programme.name, "mentor_profile_id": str(pairing.mentor_profile_id),
            "mentee_user_id": str(pairing.mentee_user_id), "title": step.title, "status": step.status.value,
            "anchor": step.anchor.value, "number": step.number, "note": step.note,
            "coordinator_user_ids": [str(user_id) for user_id in coordinators_of(db, programme.id)]}


def mark(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, step_id: uuid.UUID, *,
         action: StepAction, note: str | None = None, now: datetime | None = None) -> PairingPlan:
    """Tick a step done, skip it (``note``: why, up to :data:`MAX_SKIP_NOTE` characters) or put it back to do: the
    pair or a coordinator, while the pairing has not ended; 400 for a move its status does not allow."""
    now = now or utcnow()
    pairing, role = load_pairing(db, actor, programme_id, pairing_id, lock=True)
    if pairing.status == PairingStatus.ENDED:
        raise BusinessRuleViolation("the pairing has ended: its plan changes no more")
    step = db.scalar(select(PairingStep).where(PairingStep.id == step_id, PairingStep.pairing_id == pairing.id)
                     .with_for_update())
    if step is None:
        raise NotFound("step not found")
    words = " ".join(cleaned(note or "").split()) or None  # no control or direction-override character
    if words is not None and len(words) > MAX_SKIP_NOTE:
        raise InvalidInput("a note has at most {max_note} characters", words={"max_note": MAX_SKIP_NOTE},
                           field="note")
    moved = STEPS.apply(step, action, role)
    step.done_at = None if step.status == StepStatus.TODO else now
    step.done_by_user_id = None if step.status == StepStatus.TODO else actor.user_id
    step.note = words if step.status != StepStatus.TODO else None
    step.updated_at = now
    db.flush()
    programme = db.get_one(Programme, programme_id)
    record(db, EventType(str(moved.event)), step_payload(db, programme, pairing, step),
           actor=actor_label(actor, role))
    return _plan(db, pairing, now)


@dataclass(frozen=True)
class StepProgress:
    """How the programme's pairings stand with one step of the plan (by its place in their copies)."""

    position: int
    title: str
    done: int
    skipped: int
    todo: int


@dataclass(frozen=True)
class PlanProgress:
    programme_id: uuid.UUID
    pairings: int  # with a copy of the plan, ended ones too
    steps: list[StepProgress]
    by_pairing: dict[uuid.UUID, tuple[int, int]]  # a pairing's steps behind it (done or skipped), and its steps


def progress(db: Session, actor: Actor, programme_id: uuid.UUID) -> PlanProgress:
    """The programme's progress through its plan: each step's count of pairings done, skipped and to do, and each
    pairing's (its coordinators and admins). Counted by the database, whatever the cohort's size."""
    programme, _ = programme_access.may_read(db, actor, programme_id)
    of_programme = select(PairingStep).join(Pairing, Pairing.id == PairingStep.pairing_id).where(
        Pairing.programme_id == programme.id).subquery()
    rows = db.execute(select(of_programme.c.position, func.min(of_programme.c.title),
                             *(func.count().filter(of_programme.c.status == status) for status in StepStatus))
                      .group_by(of_programme.c.position).order_by(of_programme.c.position)).all()
    by_pairing = {pairing_id: (int(behind), int(total)) for pairing_id, behind, total in db.execute(
        select(of_programme.c.pairing_id, func.count().filter(of_programme.c.status != StepStatus.TODO),
               func.count()).group_by(of_programme.c.pairing_id))}
    steps = [StepProgress(position, title, done, skipped, todo) for position, title, todo, done, skipped in rows]
    return PlanProgress(programme.id, len(by_pairing), steps, by_pairing)


@dataclass(frozen=True)
class SessionStep:
    """The step of a pairing's session, with its pairing's and programme's ids."""

    step: PairingStep
    pairing_id: uuid.UUID
    programme_id: uuid.UUID
    resources: dict[uuid.UUID, str]
    pairing_open: bool  # its steps may still move: the pairing has not ended

    def __getattr__(self, name: str) -> object:
        return getattr(self.step, name)


def of_session(db: Session, actor: Actor, session_id: uuid.UUID) -> SessionStep | None:
    """The step of one of the actor's sessions (those who may read the session; 404 else), if it is of a pairing
    whose plan has one."""
    session = get_visible_session(db, actor, session_id)
    pairing = pairing_of(db, session)
    step = for_session(db, pairing, session) if pairing is not None else None
    if step is None or pairing is None:
        return None
    return SessionStep(step, pairing.id, pairing.programme_id,
                       resources.titles(db, pairing.programme_id, list(step.resource_ids)),
                       pairing.status != PairingStatus.ENDED)
