from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, or_

from workflows.actors import Actor


class Role(StrEnum):
    """Who makes a transition."""

    MENTOR = "mentor"
    MENTEE = "mentee"
    SYSTEM = "system"
    ADMIN = "admin"  # an administrator acting on someone else's record
    COORDINATOR = "coordinator"  # one who runs a programme (a role in that programme only)
    PARTICIPANT = "participant"  # one who takes part in a programme, as its mentor or mentee


def participation(
    role: str | None, actor: Actor, as_mentor: ColumnElement[bool], as_mentee: ColumnElement[bool]
) -> ColumnElement[bool] | None:
    """The condition for "mine, as mentor / as mentee / either"; ``None`` when the actor can have none."""
    if role == Role.MENTOR:
        return as_mentor if actor.mentor_profile_id is not None else None
    if role == Role.MENTEE:
        return as_mentee
    return or_(as_mentee, as_mentor) if actor.mentor_profile_id is not None else as_mentee


def recorded_actor(actor: Actor, by: Role | None) -> str:
    """How an event records who acted: the actor, or, when someone else's move on a pairing is acted out on the
    mentee's side (``by``: its mentor, a coordinator or an admin), their part, so the session's and the series'
    histories name them rather than the mentee."""
    return by.value if by is not None and by != Role.MENTEE else str(actor)
