"""Who may, in a programme: the named rules every route and domain function of programmes, matching and reports
asks. Its coordinators run it; an administrator may too, recorded as one where they act as no coordinator of it; its
active participants take part and read what is theirs; everyone else finds nothing (404, no existence leak), and a
participant asking for what only those who run it may do is told so (403). An administrator's read of a
participant's intake answers or of an export, and their naming of coordinators, are in the admin audit trail."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models import ParticipantStatus, Programme, ProgrammeCoordinator, ProgrammeParticipant
from workflows import access
from workflows.accounts import audit
from workflows.actors import Actor
from workflows.errors import Forbidden, NotFound
from workflows.roles import Role


def coordinates(db: Session, actor: Actor, programme_id: uuid.UUID) -> bool:
    """The actor is one of the programme's coordinators."""
    return bool(db.scalar(select(exists().where(ProgrammeCoordinator.programme_id == programme_id,
                                                ProgrammeCoordinator.user_id == actor.user_id))))


def participation(db: Session, user_id: uuid.UUID, programme_id: uuid.UUID, *, lock: bool = False
                  ) -> ProgrammeParticipant | None:
    """The user's active participation in the programme, if any (locked for a change)."""
    query = select(ProgrammeParticipant).where(ProgrammeParticipant.programme_id == programme_id,
                                               ProgrammeParticipant.user_id == user_id,
                                               ProgrammeParticipant.status == ParticipantStatus.ACTIVE)
    return db.scalar(query.with_for_update() if lock else query)


def takes_part(db: Session, actor: Actor, programme_id: uuid.UUID) -> bool:
    """The actor is an active participant of the programme."""
    return participation(db, actor.user_id, programme_id) is not None


def part_in_running(db: Session, actor: Actor, programme_id: uuid.UUID) -> Role | None:
    """How the actor runs the programme: as its coordinator, as an administrator, or not at all."""
    if coordinates(db, actor, programme_id):
        return Role.COORDINATOR
    return Role.ADMIN if access.is_admin(actor) else None


def _run_by(db: Session, actor: Actor, programme_id: uuid.UUID, *, lock: bool) -> tuple[Programme, Role]:
    programme = db.get(Programme, programme_id, with_for_update={"key_share": True} if lock else None)
    role = part_in_running(db, actor, programme_id) if programme is not None else None
    if programme is None or role is None:
        if programme is not None and takes_part(db, actor, programme_id):
            raise Forbidden("only the programme's coordinators can do this")
        raise NotFound("programme not found")
    return programme, role


def may_change(db: Session, actor: Actor, programme_id: uuid.UUID) -> tuple[Programme, Role]:
    """Who may change the programme, its matching, its invitations, links, intake forms and pairings: its
    coordinators and administrators. The programme, locked for the change (its key shared: its rows may still be
    referenced), and the actor's part in running it."""
    return _run_by(db, actor, programme_id, lock=True)


def may_read(db: Session, actor: Actor, programme_id: uuid.UUID) -> tuple[Programme, Role]:
    """Who may read what only those who run the programme read (its people and invitations, its match runs and
    drafts, its history): its coordinators and administrators."""
    return _run_by(db, actor, programme_id, lock=False)


def may_read_report(db: Session, actor: Actor, programme_id: uuid.UUID) -> tuple[Programme, Role]:
    """Who may read the programme's numbers and its pairs at risk: those who run it (:func:`may_read`)."""
    return _run_by(db, actor, programme_id, lock=False)


def may_export(db: Session, actor: Actor, programme_id: uuid.UUID, name: str, *, first_page: bool = True
               ) -> tuple[Programme, Role]:
    """Who may export the programme's rows (``name``: pairs, sessions, surveys): those who run it; an
    administrator's export, in the audit trail once (on its first page)."""
    programme, role = _run_by(db, actor, programme_id, lock=False)
    if first_page:
        audit.record_if_admin(db, actor, role, audit.PROGRAMME_EXPORTED[name], target_type="programme",
                              target_id=programme.id)
    return programme, role


def may_read_answers(db: Session, actor: Actor, programme_id: uuid.UUID, participant_id: uuid.UUID | None
                     ) -> Role:
    """Who may read another participant's intake answers: those who run the programme (a participant of it: 404, as
    for no participant at all); an administrator's read, in the audit trail."""
    try:
        _, role = _run_by(db, actor, programme_id, lock=False)
    except Forbidden:
        raise NotFound("participant not found") from None
    if participant_id is not None:
        audit.record_if_admin(db, actor, role, audit.PROGRAMME_INTAKE_READ, target_type="programme_participant",
                              target_id=participant_id)
    return role


def may_create(actor: Actor) -> None:
    """Who may create a programme: an administrator (403 for anyone else)."""
    if not access.is_admin(actor):
        raise Forbidden("only an administrator can create a programme")


def may_name_coordinators(actor: Actor) -> None:
    """Who may name a programme's coordinators: an administrator (403 for a coordinator)."""
    if not access.is_admin(actor):
        raise Forbidden("only an administrator can name a programme's coordinators")


def sees_every_programme(actor: Actor) -> bool:
    """Who lists every programme, not only those they run or take part in: an administrator."""
    return access.is_admin(actor)
