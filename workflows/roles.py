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
