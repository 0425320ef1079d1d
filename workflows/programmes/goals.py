"""A pairing's progress: its goals (a title, a target date if any, a few milestones), the action items its sessions
raise (each with its owner, the session that raised it and the goal it serves; carried to the pair's next sessions
until done), the goal each of its sessions works towards, and its sessions as its coordinators see them (times,
status, attendance: never the notes, which stay the pair's). The items a mentor writes on completing a session of
the pairing are this resource's (``workflows.sessions.pairing_items``), each naming the session that raised it; the
session's ``action_items`` shows them.

The pair and the programme's coordinators read and write all of it; no one else sees any (404). A goal moves by
:data:`GOALS` (``open → done | dropped``, and back to ``open``), each move a ``goal.*`` event.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from models import (
    ActionItem,
    Booking,
    CancelCause,
    CancelledBy,
    GoalStatus,
    MentorProfile,
    MentorshipSession,
    Pairing,
    PairingGoal,
    PairingStatus,
    Programme,
    SessionGoal,
)
from models.programmes.goals import MAX_GOALS, MAX_ITEM, MAX_MILESTONES, MAX_OPEN_ITEMS, MAX_TITLE
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, NotFound
from workflows.events import EventType, record
from workflows.programme_payloads import GoalPayload
from workflows.programmes.lifecycle import actor_label, coordinators_of
from workflows.programmes.pairings import load as load_pairing
from workflows.roles import Role
from workflows.state_machine import StateMachine, move


class GoalAction(StrEnum):
    COMPLETE = "complete"
    DROP = "drop"
    REOPEN = "reopen"


_PEOPLE = (Role.MENTOR, Role.MENTEE, Role.COORDINATOR, Role.ADMIN)
GOALS = StateMachine("goal", PairingGoal, {
    GoalAction.COMPLETE: move(GoalStatus.OPEN, GoalStatus.DONE, *_PEOPLE, event=EventType.GOAL_DONE),
    GoalAction.DROP: move(GoalStatus.OPEN, GoalStatus.DROPPED, *_PEOPLE, event=EventType.GOAL_DROPPED),
    GoalAction.REOPEN: move({GoalStatus.DONE, GoalStatus.DROPPED}, GoalStatus.OPEN, *_PEOPLE,
                            event=EventType.GOAL_REOPENED),
})
_BY_STATUS = {GoalStatus.DONE: GoalAction.COMPLETE, GoalStatus.DROPPED: GoalAction.DROP,
              GoalStatus.OPEN: GoalAction.REOPEN}


def goal_payload(db: Session, programme: Programme, pairing: Pairing, goal: PairingGoal) -> GoalPayload:
    return {"id": str(goal.id), "pairing_id": str(pairing.id), "programme_id": str(programme.id),
            "programme_name": programme.name, "mentor_profile_id": str(pairing.mentor_profile_id),
            "mentee_user_id": str(pairing.mentee_user_id), "title": goal.title, "status": goal.status.value,
            "target_date": goal.target_date.isoformat() if goal.target_date else None,
            "coordinator_user_ids": [str(user_id) for user_id in coordinators_of(db, programme.id)]}



def _milestones(given: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if given is None:
        return []
    if len(given) > MAX_MILESTONES:
        raise BusinessRuleViolation("a goal has at most {max_milestones} milestones",
                                    words={"max_milestones": MAX_MILESTONES}, field="milestones")
    return [{"title": _words(str(one["title"]))[:MAX_TITLE], "done": bool(one.get("done"))} for one in given]


def _words(title: str) -> str:
    if not title.strip():
        raise BusinessRuleViolation("give it a few words", field="title")
    return title.strip()


def _open_pairing(pairing: Pairing) -> None:
    if pairing.status == PairingStatus.ENDED:
        raise BusinessRuleViolation("the pairing has ended: its goals and items change no more")


def list_goals(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID) -> list[PairingGoal]:
    """A pairing's goals, in the order they were set: the pair and the coordinators."""
    load_pairing(db, actor, programme_id, pairing_id, lock=False)
    return list(db.scalars(select(PairingGoal).where(PairingGoal.pairing_id == pairing_id)
                           .order_by(PairingGoal.created_at, PairingGoal.id)))


def set_goal(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *, title: str,
             target_date: date | None = None, milestones: Sequence[dict[str, Any]] | None = None) -> PairingGoal:
    """A new goal for a pairing not ended (the pair or a coordinator; :data:`MAX_GOALS` at most)."""
    pairing, role = load_pairing(db, actor, programme_id, pairing_id, lock=True)
    _open_pairing(pairing)
    count = db.scalar(select(func.count()).select_from(PairingGoal).where(PairingGoal.pairing_id == pairing_id)) or 0
    if count >= MAX_GOALS:
        raise BusinessRuleViolation("a pairing has at most {max_goals} goals", words={"max_goals": MAX_GOALS})
    goal = PairingGoal(id=uuid.uuid4(), pairing_id=pairing_id, title=_words(title), target_date=target_date,
                       milestones=_milestones(milestones), status=GoalStatus.OPEN, created_by_user_id=actor.user_id,
                       created_at=utcnow(), updated_at=utcnow())
    db.add(goal)
    db.flush()
    programme = db.get_one(Programme, programme_id)
    record(db, EventType.GOAL_SET, goal_payload(db, programme, pairing, goal), actor=actor_label(actor, role))
    return goal


def update_goal(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, goal_id: uuid.UUID, *,
                changes: dict[str, Any]) -> PairingGoal:
    """Change a goal's words, date or milestones, or move it (``status``: the table :data:`GOALS`)."""
    pairing, role = load_pairing(db, actor, programme_id, pairing_id, lock=True)
    _open_pairing(pairing)
    goal = db.scalar(select(PairingGoal).where(PairingGoal.id == goal_id, PairingGoal.pairing_id == pairing_id)
                     .with_for_update())
    if goal is None:
        raise NotFound("goal not found")
    if "title" in changes:
        goal.title = _words(changes["title"])
    if "target_date" in changes:
        goal.target_date = changes["target_date"]
    if "milestones" in changes:
        goal.milestones = _milestones(changes["milestones"])
    goal.updated_at = utcnow()
    wanted = changes.get("status")
    if wanted is not None and wanted != goal.status:
        moved = GOALS.apply(goal, _BY_STATUS[GoalStatus(wanted)], role)
        goal.done_at = utcnow() if goal.status == GoalStatus.DONE else None
        db.flush()
        programme = db.get_one(Programme, programme_id)
        record(db, EventType(str(moved.event)), goal_payload(db, programme, pairing, goal),
               actor=actor_label(actor, role))
    db.flush()
    return goal


def list_items(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *, open_only: bool
               ) -> list[ActionItem]:
    """A pairing's action items, oldest first (those not done only, with ``open_only``: what its next session
    carries)."""
    load_pairing(db, actor, programme_id, pairing_id, lock=False)
    query = select(ActionItem).where(ActionItem.pairing_id == pairing_id)
    if open_only:
        query = query.where(ActionItem.done_at.is_(None))
    return list(db.scalars(query.order_by(ActionItem.created_at, ActionItem.id)))


def _of_pairing(db: Session, pairing: Pairing, *, goal_id: uuid.UUID | None, session_id: uuid.UUID | None) -> None:
    if goal_id is not None and db.scalar(select(PairingGoal.id).where(PairingGoal.id == goal_id,
                                                                      PairingGoal.pairing_id == pairing.id)) is None:
        raise BusinessRuleViolation("no goal of this pairing has that id", field="goal_id")
    if session_id is not None and session_id not in set(session_ids(db, pairing)):
        raise BusinessRuleViolation("no session of this pairing has that id", field="session_id")


def add_item(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *, title: str,
             owner: Role = Role.MENTEE, goal_id: uuid.UUID | None = None, session_id: uuid.UUID | None = None,
             due_on: date | None = None) -> ActionItem:
    """A new action item of a pairing not ended, owned by its mentee or its mentor."""
    pairing, _ = load_pairing(db, actor, programme_id, pairing_id, lock=True)
    _open_pairing(pairing)
    _of_pairing(db, pairing, goal_id=goal_id, session_id=session_id)
    waiting = db.scalar(select(func.count()).select_from(ActionItem).where(
        ActionItem.pairing_id == pairing_id, ActionItem.done_at.is_(None))) or 0
    if waiting >= MAX_OPEN_ITEMS:
        raise BusinessRuleViolation("a pairing has at most {max_open_items} items not done",
                                    words={"max_open_items": MAX_OPEN_ITEMS})
    item = ActionItem(id=uuid.uuid4(), pairing_id=pairing_id, title=_words(title)[:MAX_ITEM],
                      owner_user_id=_owner(db, pairing, owner), goal_id=goal_id, session_id=session_id,
                      due_on=due_on, created_at=utcnow())
    db.add(item)
    db.flush()
    return item


def _owner(db: Session, pairing: Pairing, owner: Role) -> uuid.UUID:
    if owner == Role.MENTOR:
        return db.get_one(MentorProfile, pairing.mentor_profile_id).user_id
    return pairing.mentee_user_id


def set_item_done(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, item_id: uuid.UUID,
                  *, done: bool) -> ActionItem:
    """Mark an item done (or not done again): the pair or a coordinator."""
    pairing, _ = load_pairing(db, actor, programme_id, pairing_id, lock=False)
    _open_pairing(pairing)
    item = db.scalar(select(ActionItem).where(ActionItem.id == item_id, ActionItem.pairing_id == pairing.id)
                     .with_for_update())
    if item is None:
        raise NotFound("action item not found")
    item.done_at = (item.done_at or utcnow()) if done else None
    db.flush()
    return item


def session_ids(db: Session, pairing: Pairing) -> list[uuid.UUID]:
    """The ids of a pairing's sessions, by the programme reports' rule (docs/PRIMER.md, "Programme reports"): the
    pair's individual sessions in the programme that started once it was made and before a later pairing of the same
    two was, whatever became of them (those its pause or end cancelled stay listed); a meeting moved by agreement only
    at its new time."""
    later = aliased(Pairing)
    newer = select(later.id).where(
        later.programme_id == pairing.programme_id, later.mentor_profile_id == pairing.mentor_profile_id,
        later.mentee_user_id == pairing.mentee_user_id, later.created_at > pairing.created_at,
        later.created_at <= MentorshipSession.start_time)
    return list(db.scalars(select(MentorshipSession.id).where(
        MentorshipSession.programme_id == pairing.programme_id,
        MentorshipSession.mentor_profile_id == pairing.mentor_profile_id,
        MentorshipSession.mentee_user_id == pairing.mentee_user_id, MentorshipSession.start_time >= pairing.created_at,
        MentorshipSession.cancel_cause.is_distinct_from(CancelCause.RESCHEDULE), ~newer.exists())))


@dataclass(frozen=True)
class PairSession:
    """A session of a pairing as its coordinators see it: times, status (who cancelled it and why), attendance and goal;
    not its notes."""

    id: uuid.UUID
    start_time: Any
    end_time: Any
    status: str
    no_show: str | None
    goal_id: uuid.UUID | None
    cancelled_by: CancelledBy | None = None
    cause: CancelCause | None = None


def sessions_of(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID) -> list[PairSession]:
    """A pairing's sessions in time order: the pair and the coordinators (notes stay on the session's own page, the
    pair's)."""
    pairing, _ = load_pairing(db, actor, programme_id, pairing_id, lock=False)
    ids = session_ids(db, pairing)
    if not ids:
        return []
    rows = db.execute(select(MentorshipSession.id, MentorshipSession.start_time, MentorshipSession.end_time,
                             MentorshipSession.status, Booking.no_show, SessionGoal.goal_id,
                             MentorshipSession.cancelled_by, MentorshipSession.cancel_cause)
                      .join(Booking, Booking.id == MentorshipSession.booking_id)
                      .outerjoin(SessionGoal, SessionGoal.session_id == MentorshipSession.id)
                      .where(MentorshipSession.id.in_(ids)).order_by(MentorshipSession.start_time))
    return [PairSession(row.id, row.start_time, row.end_time, row.status.value,
                        row.no_show.value if row.no_show else None, row.goal_id, row.cancelled_by, row.cancel_cause)
            for row in rows]


def link_session(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, session_id: uuid.UUID, *,
                 goal_id: uuid.UUID | None) -> PairSession:
    """Set (or, with none, clear) the goal a session of the pairing works towards."""
    pairing, _ = load_pairing(db, actor, programme_id, pairing_id, lock=True)
    _open_pairing(pairing)
    _of_pairing(db, pairing, goal_id=goal_id, session_id=session_id)
    if goal_id is None:
        db.execute(delete(SessionGoal).where(SessionGoal.session_id == session_id))
    else:
        db.execute(insert(SessionGoal).values(session_id=session_id, goal_id=goal_id)
                   .on_conflict_do_update(index_elements=["session_id"], set_={"goal_id": goal_id}))
    return next(one for one in sessions_of(db, actor, programme_id, pairing_id) if one.id == session_id)
