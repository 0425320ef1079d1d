"""A programme's people as its coordinators find them, at any size: its participants, invitations and pairings,
each a list paged, searched and filtered by the database; and the enrolment funnel, whose every step is a filter of
the participants' list (so a count and the people it counts are one query's).

The steps (:class:`Step`), each a subset of the one before for a participant taking part now: joined; intake done
(a mentor's hours given); matched (a live pairing: proposed, meeting or on hold); meeting (the mentor accepted it);
met (a session of a pairing of theirs was held, as the programme's numbers count it). "Invited" counts those taking
part and the invitations still waiting (not expired): everyone reached who has not said no.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from models import (
    InvitationStatus,
    Pairing,
    PairingStatus,
    ParticipantRole,
    ParticipantStatus,
    ProgrammeInvitation,
    ProgrammeParticipant,
    User,
)
from models.reports import PairingTally
from workflows.actors import Actor
from workflows.errors import Forbidden, NotFound
from workflows.pagination import Page, contains, paginate
from workflows.programmes import access as programme_access
from workflows.programmes.enrolment import ParticipantView
from workflows.programmes.pairings import PairingView, view
from workflows.roles import Role


class Step(StrEnum):
    INTAKE_DUE = "intake_due"
    INTAKE_DONE = "intake_done"
    UNPAIRED = "unpaired"
    MATCHED = "matched"
    MEETING = "meeting"
    MET = "met"


LIVE = (PairingStatus.PROPOSED, PairingStatus.ACTIVE, PairingStatus.PAUSED)


def _their_pairing(*where: ColumnElement[bool]) -> ColumnElement[bool]:
    """Whether the participant (a row of ``programme_participants``) is one of a pairing's pair, of one that holds."""
    return exists().where(or_(Pairing.mentee_participant_id == ProgrammeParticipant.id,
                              Pairing.mentor_participant_id == ProgrammeParticipant.id), *where)


STEPS: dict[Step, ColumnElement[bool]] = {
    Step.INTAKE_DUE: ProgrammeParticipant.intake_finished_at.is_(None),
    Step.INTAKE_DONE: ProgrammeParticipant.intake_finished_at.is_not(None),
    Step.UNPAIRED: and_(ProgrammeParticipant.intake_finished_at.is_not(None),
                        ~_their_pairing(Pairing.status.in_(LIVE))),
    Step.MATCHED: _their_pairing(Pairing.status.in_(LIVE)),
    Step.MEETING: _their_pairing(Pairing.status.in_((PairingStatus.ACTIVE, PairingStatus.PAUSED))),
    Step.MET: _their_pairing(exists().where(PairingTally.pairing_id == Pairing.id,
                                            PairingTally.first_held_at.is_not(None))),
}


def _reader(db: Session, actor: Actor, programme_id: uuid.UUID) -> bool:
    """Whether the actor reads the programme as one who runs it (else as an active participant; 404 for anyone
    else)."""
    try:
        programme_access.may_read(db, actor, programme_id)
        return True
    except (NotFound, Forbidden):
        if programme_access.participation(db, actor.user_id, programme_id) is None:
            raise NotFound("programme not found") from None
        return False


def list_participants(db: Session, actor: Actor, programme_id: uuid.UUID, *, role: ParticipantRole | None,
                      status: ParticipantStatus | None, limit: int, cursor: str | None, q: str | None = None,
                      step: Step | None = None) -> Page[ParticipantView]:
    """A programme's participants, newest first. Its coordinators see everyone who took part, with their address
    and status, and find them by a part of the name or address (``q``) or a step of the funnel; a participant sees
    those taking part now, by name and role, and finds them by name (403 for a step: it tells of the others'
    intakes)."""
    runs = _reader(db, actor, programme_id)
    query = (select(ProgrammeParticipant).join(User, User.id == ProgrammeParticipant.user_id)
             .where(ProgrammeParticipant.programme_id == programme_id))
    if not runs:
        if step is not None:
            raise Forbidden("only those who run the programme find its people by step")
        status = ParticipantStatus.ACTIVE
    if status is not None:
        query = query.where(ProgrammeParticipant.status == status)
    if role is not None:
        query = query.where(ProgrammeParticipant.role == role)
    if step is not None:
        query = query.where(STEPS[step])
    if q:
        pattern = contains(q)
        query = query.where(or_(User.display_name.ilike(pattern), User.email.ilike(pattern)) if runs
                            else User.display_name.ilike(pattern))
    page = paginate(db, query, ProgrammeParticipant.joined_at, ProgrammeParticipant.id, limit=limit, cursor=cursor,
                    descending=True)
    people = {row.id: row for row in db.execute(select(User.id, User.display_name, User.email).where(
        User.id.in_([item.user_id for item in page.items])))} if page.items else {}
    return Page([ParticipantView(item, people[item.user_id].display_name,
                                 people[item.user_id].email if runs else None) for item in page.items],
                page.next_cursor)


def list_invitations(db: Session, actor: Actor, programme_id: uuid.UUID, *, status: InvitationStatus | None,
                     limit: int, cursor: str | None, q: str | None = None) -> Page[ProgrammeInvitation]:
    """A programme's invitations, newest first (its coordinators and admins), found by a part of the name or
    address."""
    programme_access.may_read(db, actor, programme_id)
    query = select(ProgrammeInvitation).where(ProgrammeInvitation.programme_id == programme_id)
    if status is not None:
        query = query.where(ProgrammeInvitation.status == status)
    if q:
        pattern = contains(q)
        query = query.where(or_(ProgrammeInvitation.email.ilike(pattern), ProgrammeInvitation.name.ilike(pattern)))
    return paginate(db, query, ProgrammeInvitation.created_at, ProgrammeInvitation.id, limit=limit, cursor=cursor,
                    descending=True)


def list_pairings(db: Session, actor: Actor, programme_id: uuid.UUID, *, status: PairingStatus | None, limit: int,
                  cursor: str | None, q: str | None = None) -> Page[PairingView]:
    """The programme's pairings, newest first: all of them for its coordinators, found by a part of the mentor's
    or mentee's name; one's own for a participant."""
    query = select(Pairing).where(Pairing.programme_id == programme_id)
    role: Role | None = None
    if not _reader(db, actor, programme_id):  # not one who runs it: a participant reads their own
        query = query.where((Pairing.mentee_user_id == actor.user_id)
                            | (Pairing.mentor_profile_id == actor.mentor_profile_id))
        role = Role.PARTICIPANT
    if status is not None:
        query = query.where(Pairing.status == status)
    if q:
        person, user = aliased(ProgrammeParticipant), aliased(User)
        query = query.where(exists().where(
            person.id.in_((Pairing.mentor_participant_id, Pairing.mentee_participant_id)),
            user.id == person.user_id, user.display_name.ilike(contains(q))))
    page = paginate(db, query, Pairing.created_at, Pairing.id, limit=limit, cursor=cursor, descending=True)
    views = []
    for pairing in page.items:
        part = (Role.MENTOR if pairing.mentor_profile_id == actor.mentor_profile_id else Role.MENTEE) \
            if role == Role.PARTICIPANT else Role.COORDINATOR
        views.append(view(db, pairing, part))
    return Page(views, page.next_cursor)


@dataclass(frozen=True)
class FunnelRow:
    """A role's people at each step of the funnel."""

    role: ParticipantRole
    invited: int
    joined: int
    intake_done: int
    matched: int
    meeting: int
    met: int


def funnel(db: Session, actor: Actor, programme_id: uuid.UUID) -> list[FunnelRow]:
    """The enrolment funnel of each role (its coordinators and admins): counts of those taking part now at each step,
    and of those invited (taking part, or an invitation waiting)."""
    programme_access.may_read(db, actor, programme_id)
    counted = [func.count().filter(condition) for condition in
               (STEPS[Step.INTAKE_DONE], STEPS[Step.MATCHED], STEPS[Step.MEETING], STEPS[Step.MET])]
    rows: dict[ParticipantRole, tuple[int, ...]] = {row[0]: tuple(row[1:]) for row in db.execute(
        select(ProgrammeParticipant.role, func.count(), *counted)
        .where(ProgrammeParticipant.programme_id == programme_id,
               ProgrammeParticipant.status == ParticipantStatus.ACTIVE)
        .group_by(ProgrammeParticipant.role))}
    waiting: dict[ParticipantRole, int] = dict(db.execute(
        select(ProgrammeInvitation.role, func.count())
        .where(ProgrammeInvitation.programme_id == programme_id,
               ProgrammeInvitation.status == InvitationStatus.PENDING, ProgrammeInvitation.expires_at > func.now())
        .group_by(ProgrammeInvitation.role)).all())
    result = []
    for role in (ParticipantRole.MENTEE, ParticipantRole.MENTOR):
        counts = rows.get(role, (0, 0, 0, 0, 0))
        result.append(FunnelRow(role, counts[0] + waiting.get(role, 0), *counts))
    return result
