"""A programme's engagement plan: the steps its coordinators give every pair for the term, each at week N of the
pairing (from the day it became active) or at its session N: a title, a short agenda in the safe Markdown subset
(``workflows.conversations.text``) and the resources it suggests (links).

A pairing gets its own copy of the plan when it becomes active (:func:`copy_onto`), and works through it there
(``workflows.programmes.plan_steps``). Editing the plan (:func:`set_plan`, the whole plan at once, a step keeping its
``id`` when sent back with it) makes a new version: a pairing not yet active gets it when it starts; a running one
keeps the copy it has until a coordinator applies the plan to the running pairings (:func:`apply_plan`; a pairing
that started before its programme had a plan gets its first copy then), which is defined step by step:

- a step the pair have done or skipped stays as it is, with the words it had when they did (moved to where its plan
  step is now, if the plan still has it);
- a step still to do takes its plan step's words and place, and goes if the plan no longer has it;
- a step new to the plan is added, to do.

Both are in the programme's history (``programme.plan_changed``, ``programme.plan_applied``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, func, or_, select, true, update
from sqlalchemy.orm import Session

from models import Pairing, PairingStatus, PairingStep, PlanStep, Programme, ProgrammeStatus, StepAnchor, StepStatus
from models.programmes.plans import (
    MAX_AGENDA,
    MAX_LINK_TITLE,
    MAX_LINK_URL,
    MAX_SESSION_NUMBER,
    MAX_STEP_LINKS,
    MAX_STEP_TITLE,
    MAX_STEPS,
    MAX_WEEK,
)
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.conversations.text import source
from workflows.errors import BusinessRuleViolation, InvalidInput
from workflows.events import EventType
from workflows.programmes import access as programme_access
from workflows.programmes import resources
from workflows.programmes.lifecycle import coordinators_of, record_change
from workflows.roles import Role

RUNNING = (PairingStatus.ACTIVE, PairingStatus.PAUSED, PairingStatus.PROPOSED)  # with a copy, if ever active
_COPIED = ("anchor", "number", "title", "agenda", "links", "resource_ids")


@dataclass(frozen=True)
class PlanView:
    """The plan as its coordinators read it: its steps in order, its version, and how many running pairings keep an
    older copy (what applying it would change)."""

    programme_id: uuid.UUID
    version: int
    steps: list[PlanStep]
    pairings_behind: int
    resources: dict[uuid.UUID, str]  # the titles of the library's resources the steps suggest


def _behind_clause(programme: Programme) -> ColumnElement[bool]:
    """Its running pairings with an older copy of the plan, or none though they started (before plans were) while
    the programme has one now."""
    has_a_plan = true() if programme.plan_version else false()
    return and_(Pairing.programme_id == programme.id, Pairing.status.in_(RUNNING), or_(
        Pairing.plan_version < programme.plan_version,
        and_(Pairing.plan_version.is_(None), Pairing.activated_at.is_not(None), has_a_plan)))


def _behind(db: Session, programme: Programme) -> int:
    return db.scalar(select(func.count()).select_from(Pairing).where(_behind_clause(programme))) or 0


def _steps(db: Session, programme_id: uuid.UUID) -> list[PlanStep]:
    return list(db.scalars(select(PlanStep).where(PlanStep.programme_id == programme_id)
                           .order_by(PlanStep.position)))


def read_plan(db: Session, actor: Actor, programme_id: uuid.UUID) -> PlanView:
    """The programme's plan (its coordinators and admins)."""
    programme, _ = programme_access.may_read(db, actor, programme_id)
    return _view(db, programme, _steps(db, programme.id), _behind(db, programme))


def _view(db: Session, programme: Programme, steps: list[PlanStep], behind: int) -> PlanView:
    suggested = sorted({resource_id for step in steps for resource_id in step.resource_ids})
    return PlanView(programme.id, programme.plan_version, steps, behind, resources.titles(db, programme.id, suggested))


def _link(one: dict[str, Any], where: str) -> dict[str, str]:
    """A suggested resource: a title and a web address (:func:`web_address`); 422 for any other."""
    url, title = resources.web_address(str(one.get("url") or "")), str(one.get("title") or "").strip()
    if url is None:
        raise InvalidInput("{where}: a resource is an http or https address of at most {max_url} characters",
                           words={"where": where, "max_url": MAX_LINK_URL})
    if not 1 <= len(title) <= MAX_LINK_TITLE:
        raise InvalidInput("{where}: a resource's title is 1 to {max_title} characters",
                           words={"where": where, "max_title": MAX_LINK_TITLE})
    return {"title": title, "url": url}


def _step(programme_id: uuid.UUID, position: int, asked: dict[str, Any], kept: set[uuid.UUID]) -> PlanStep:
    where = f"step {position + 1}"
    anchor = StepAnchor(asked["anchor"])
    number = int(asked["number"])
    if not 1 <= number <= (MAX_WEEK if anchor == StepAnchor.WEEK else MAX_SESSION_NUMBER):
        raise InvalidInput("{where}: week 1 to {max_week}, or session 1 to {max_session}",
                           words={"where": where, "max_week": MAX_WEEK, "max_session": MAX_SESSION_NUMBER})
    title = " ".join(str(asked["title"]).split())
    if not 1 <= len(title) <= MAX_STEP_TITLE:
        raise InvalidInput("{where}: a title of 1 to {max_title} characters",
                           words={"where": where, "max_title": MAX_STEP_TITLE})
    agenda = source(asked["agenda"]) if (asked.get("agenda") or "").strip() else ""
    if len(agenda) > MAX_AGENDA:
        raise InvalidInput("{where}: an agenda of at most {max_agenda} characters",
                           words={"where": where, "max_agenda": MAX_AGENDA})
    links = asked.get("links") or []
    if len(links) > MAX_STEP_LINKS:
        raise InvalidInput("{where}: at most {max_links} resources", words={"where": where,
                                                                           "max_links": MAX_STEP_LINKS})
    suggested = list(dict.fromkeys(asked.get("resource_ids") or []))
    if len(suggested) > MAX_STEP_LINKS:
        raise InvalidInput("{where}: at most {max_links} resources", words={"where": where,
                                                                           "max_links": MAX_STEP_LINKS})
    given = asked.get("id")
    step_id = given if isinstance(given, uuid.UUID) and given in kept else uuid.uuid4()
    kept.discard(step_id)  # an id sent twice makes one step; the other gets a new one
    return PlanStep(id=step_id, programme_id=programme_id, position=position, anchor=anchor, number=number,
                    title=title, agenda=agenda, links=[_link(one, where) for one in links], resource_ids=suggested)


def _changing(db: Session, actor: Actor, programme_id: uuid.UUID) -> tuple[Programme, Role]:
    """The programme, its row locked for the change (two coordinators editing its plan at once take turns: the
    second edits what the first left), and the actor's part; 400 once it is closed."""
    _, role = programme_access.may_change(db, actor, programme_id)
    # FOR NO KEY UPDATE: the rows that point at the programme (participants joining, pairings) go on meanwhile.
    programme = db.scalars(select(Programme).where(Programme.id == programme_id).with_for_update(key_share=True)
                           .execution_options(populate_existing=True)).one()
    if programme.status == ProgrammeStatus.CLOSED:
        raise BusinessRuleViolation("the programme is closed: its plan changes no more")
    return programme, role


def set_plan(db: Session, actor: Actor, programme_id: uuid.UUID, steps: Sequence[dict[str, Any]]) -> PlanView:
    """Replace the programme's plan (its coordinators; :data:`MAX_STEPS` steps at most; 400 once it is closed): a
    new version, which pairings not yet active get when they start and running ones when it is applied."""
    programme, role = _changing(db, actor, programme_id)
    if len(steps) > MAX_STEPS:
        raise InvalidInput("a plan has at most {max_steps} steps", words={"max_steps": MAX_STEPS})
    kept = set(db.scalars(select(PlanStep.id).where(PlanStep.programme_id == programme.id)))
    made = [_step(programme.id, position, one, kept) for position, one in enumerate(steps)]
    wanted = {resource_id for step in made for resource_id in step.resource_ids}
    if wanted - set(resources.titles(db, programme.id, sorted(wanted))):
        raise InvalidInput("a step suggests a resource of neither the programme's library nor the platform's")
    db.execute(delete(PlanStep).where(PlanStep.programme_id == programme.id))
    db.flush()
    db.add_all(made)
    programme.plan_version += 1
    programme.updated_at = utcnow()
    db.flush()
    record_change(db, actor, role, programme, coordinators=coordinators_of(db, programme.id),
                  event=EventType.PROGRAMME_PLAN_CHANGED, changed=["plan", f"plan:v{programme.plan_version}"])
    return _view(db, programme, made, _behind(db, programme))


def _copy(step: PlanStep, pairing_id: uuid.UUID) -> PairingStep:
    return PairingStep(id=uuid.uuid4(), pairing_id=pairing_id, plan_step_id=step.id, position=step.position,
                       anchor=step.anchor, number=step.number, title=step.title, agenda=step.agenda,
                       links=list(step.links), resource_ids=list(step.resource_ids), status=StepStatus.TODO)


def copy_onto(db: Session, pairing: Pairing) -> None:
    """The plan's steps onto a pairing that just became active, unless it has its copy already (a pairing resumed
    after a pause keeps the steps it had)."""
    if pairing.plan_version is not None:
        return
    programme = db.get_one(Programme, pairing.programme_id)
    db.add_all(_copy(step, pairing.id) for step in _steps(db, programme.id))
    pairing.plan_version = programme.plan_version


def _apply_to(db: Session, pairing: Pairing, plan: list[PlanStep], version: int) -> None:
    by_plan = {step.id: step for step in plan}
    had = {row.plan_step_id: row for row in db.scalars(select(PairingStep).where(
        PairingStep.pairing_id == pairing.id).with_for_update())}
    now = utcnow()
    for plan_step_id, row in had.items():
        step = by_plan.get(plan_step_id) if plan_step_id is not None else None
        if row.status != StepStatus.TODO:  # done or skipped: kept as it was, where its plan step is now
            row.position = step.position if step is not None else row.position
        elif step is None:
            db.delete(row)
        else:
            for name in _COPIED:
                setattr(row, name, getattr(step, name))
            row.position, row.updated_at = step.position, now
    db.add_all(_copy(step, pairing.id) for step in plan if step.id not in had)
    pairing.plan_version = version


def apply_plan(db: Session, actor: Actor, programme_id: uuid.UUID) -> PlanView:
    """Bring every running pairing's copy of the plan to its current version (its coordinators; the rules in the
    module's docstring). Each pairing is locked while it changes; the pair's ticks made meanwhile wait for it."""
    programme, role = _changing(db, actor, programme_id)
    plan = _steps(db, programme.id)
    pairings = list(db.scalars(select(Pairing).where(_behind_clause(programme)).order_by(Pairing.id)
                               .with_for_update()))
    for pairing in pairings:
        _apply_to(db, pairing, plan, programme.plan_version)
    db.flush()
    if pairings:
        db.execute(update(Programme).where(Programme.id == programme.id).values(updated_at=utcnow()))
        record_change(db, actor, role, programme, coordinators=coordinators_of(db, programme.id),
                      event=EventType.PROGRAMME_PLAN_APPLIED,
                      changed=["plan", f"plan:v{programme.plan_version}", f"pairings:{len(pairings)}"])
    return _view(db, programme, plan, 0)
