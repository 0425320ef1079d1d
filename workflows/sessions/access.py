"""Who may, in a session: who reads a mentor's own numbers. Who sees all of a group session (its seats, its line,
its disputes) is ``workflows.access.sees_every_seat`` (the people of a page read it too). Taking part in a session
is its state table's (``SESSIONS``: mentor, mentee, or an administrator reading, in the audit trail); cancelling
someone else's session and settling disputes are administrators' (``workflows.access.require_admin``)."""

from __future__ import annotations

import uuid

from workflows import access
from workflows.actors import Actor


def reads_own_numbers(actor: Actor, mentor_profile_id: uuid.UUID) -> bool:
    """Who reads a mentor's numbers meant for the mentor (their cancellations, their returning mentees): the mentor
    and administrators."""
    return access.is_admin(actor) or actor.mentor_profile_id == mentor_profile_id
