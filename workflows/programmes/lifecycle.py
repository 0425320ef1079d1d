"""A programme's life: made by a platform admin with its first coordinators, run by them (`draft → enrolling →
running → closed`), its settings the defaults its pairings take.

Who may do what: an admin creates programmes, names and replaces their coordinators, and may do anything a
coordinator may; a coordinator edits and moves the programmes they coordinate, and no other (a role in one
programme, not a global one). Its participants read it (403 for a change); everyone else finds no programme (404):
a programme is not public. A closed programme keeps its record and changes no more.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import (
    AvailabilityWindow,
    MentorProfile,
    ParticipantRole,
    ParticipantStatus,
    Programme,
    ProgrammeCoordinator,
    ProgrammeParticipant,
    ProgrammeStatus,
    User,
)
from models.programmes.programmes import MAX_COORDINATORS
from outbox import enqueue_after_commit
from workflows import access
from workflows.accounts import audit
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, InvalidTransition, NotFound
from workflows.events import EventType, record
from workflows.pagination import Page, paginate
from workflows.people import display_names
from workflows.programme_payloads import ProgrammeChangePayload, ProgrammeCoordinatorsPayload, ProgrammePayload
from workflows.programmes import access as programme_access
from workflows.programmes.listings import put_away
from workflows.roles import Role
from workflows.state_machine import StateMachine, move

# Who may be matched or paired: a participant whose intake is finished (``workflows.programmes.intake``), a mentor's
# with their weekly hours still given: a mentor profile's windows cleared after the intake (on the schedule page)
# would read as free at any time, day and night, so such a mentor is left out again until they give some.
_HAS_HOURS = (select(AvailabilityWindow.id)
              .join(MentorProfile, MentorProfile.id == AvailabilityWindow.mentor_profile_id)
              .where(MentorProfile.user_id == ProgrammeParticipant.user_id).exists())
FINISHED = and_(ProgrammeParticipant.intake_finished_at.is_not(None),
                or_(ProgrammeParticipant.role != ParticipantRole.MENTOR, _HAS_HOURS))


class ProgrammeAction(StrEnum):
    OPEN_ENROLMENT = "open_enrolment"
    START = "start"
    CLOSE = "close"


_RUNNERS = (Role.COORDINATOR, Role.ADMIN)
PROGRAMMES = StateMachine("programme", Programme, {
    ProgrammeAction.OPEN_ENROLMENT: move(ProgrammeStatus.DRAFT, ProgrammeStatus.ENROLLING, *_RUNNERS,
                                         event=EventType.PROGRAMME_ENROLMENT_OPENED),
    # A programme whose pairs are made by hand may start without an enrolment of its own.
    ProgrammeAction.START: move({ProgrammeStatus.DRAFT, ProgrammeStatus.ENROLLING}, ProgrammeStatus.RUNNING,
                                *_RUNNERS, event=EventType.PROGRAMME_STARTED),
    ProgrammeAction.CLOSE: move({ProgrammeStatus.DRAFT, ProgrammeStatus.ENROLLING, ProgrammeStatus.RUNNING},
                                ProgrammeStatus.CLOSED, *_RUNNERS, event=EventType.PROGRAMME_CLOSED),
}, verbs={ProgrammeAction.OPEN_ENROLMENT: "open enrolment of"})

#: Where a programme takes participants: its invitations are mailed and its links and invitations work.
TAKING_PARTICIPANTS = frozenset({ProgrammeStatus.ENROLLING, ProgrammeStatus.RUNNING})
SEND_INVITATIONS_TASK = "notifications.send_programme_invitations"

#: What a programme's settings are, as a coordinator edits them.
SETTINGS = ("name", "description", "starts_on", "ends_on", "cadence_weeks", "session_minutes", "session_count",
            "mentees_book_outside", "intake_open")


@dataclass(frozen=True)
class ProgrammeView:
    """A programme as a reader sees it: the row, its coordinators (by user), and the reader's part in it
    (``viewer_role``: coordinator, admin, mentor or mentee; ``participant_id``, their participation's)."""

    programme: Programme
    coordinator_user_ids: list[uuid.UUID]
    viewer_role: str = Role.COORDINATOR.value
    participant_id: uuid.UUID | None = None
    coordinator_names: tuple[str, ...] = ()  # read with one programme: in the order of ``coordinator_user_ids``

    def __getattr__(self, name: str) -> Any:
        return getattr(self.programme, name)


def coordinators_of(db: Session, programme_id: uuid.UUID) -> list[uuid.UUID]:
    return list(db.scalars(select(ProgrammeCoordinator.user_id)
                           .where(ProgrammeCoordinator.programme_id == programme_id)
                           .order_by(ProgrammeCoordinator.added_at, ProgrammeCoordinator.user_id)))


def names_of(db: Session, user_ids: Sequence[uuid.UUID]) -> tuple[str, ...]:
    """The users' names, in their order."""
    names = display_names(db, user_ids)
    return tuple(names.get(user_id, "") for user_id in user_ids)


def programme_payload(programme: Programme, coordinators: Sequence[uuid.UUID]) -> ProgrammePayload:
    return {"id": str(programme.id), "name": programme.name, "status": programme.status.value,
            "starts_on": programme.starts_on.isoformat() if programme.starts_on else None,
            "ends_on": programme.ends_on.isoformat() if programme.ends_on else None,
            "coordinator_user_ids": [str(user_id) for user_id in coordinators]}


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise BusinessRuleViolation("a programme cannot end before it starts", field="ends_on")


def _existing_users(db: Session, user_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """``user_ids`` without repeats, in their order; 400 naming any that is no active account."""
    wanted = list(dict.fromkeys(user_ids))
    if len(wanted) > MAX_COORDINATORS:
        raise BusinessRuleViolation("a programme has at most {max_coordinators} coordinators",
                                    words={"max_coordinators": MAX_COORDINATORS})
    found = dict(db.execute(select(User.id, User.email_verified_at).where(
        User.id.in_(wanted), User.deleted_at.is_(None))).all()) if wanted else {}
    missing = [str(user_id) for user_id in wanted if user_id not in found]
    if missing:
        raise BusinessRuleViolation("no such user: {users}", words={"users": ", ".join(missing)},
                                    user_ids=",".join(missing))
    # Anyone may claim an address: rights wait for its confirmation (``coordinator_invitations`` invites by address).
    unconfirmed = [str(user_id) for user_id in wanted if found[user_id] is None]
    if unconfirmed:
        raise BusinessRuleViolation("these accounts' addresses are not confirmed: name them by address (they are "
                                    "invited, and coordinate once it is confirmed): {users}",
                                    words={"users": ", ".join(unconfirmed)}, user_ids=",".join(unconfirmed))
    return wanted


def actor_label(actor: Actor, role: Role) -> str:
    """How an event records who acted: an admin acting without being a coordinator is recorded as an admin."""
    return actor.as_admin() if role == Role.ADMIN else str(actor)


def create(db: Session, actor: Actor, *, coordinator_user_ids: Sequence[uuid.UUID], **settings: Any) -> ProgrammeView:
    """A new programme, a draft, with its first coordinators (an admin's; 403 for anyone else)."""
    programme_access.may_create(actor)
    _check_dates(settings.get("starts_on"), settings.get("ends_on"))
    coordinators = _existing_users(db, coordinator_user_ids)
    programme = Programme(id=uuid.uuid4(), created_by_user_id=actor.user_id, status=ProgrammeStatus.DRAFT,
                          **{name: value for name, value in settings.items() if name in SETTINGS})
    db.add(programme)
    db.flush()
    if coordinators:
        db.execute(insert(ProgrammeCoordinator), [{"programme_id": programme.id, "user_id": user_id}
                                                  for user_id in coordinators])
    coordinators = coordinators_of(db, programme.id)  # in the order every later read gives
    record(db, EventType.PROGRAMME_CREATED, programme_payload(programme, coordinators), actor=actor.as_admin())
    return ProgrammeView(programme, coordinators, Role.ADMIN.value, coordinator_names=names_of(db, coordinators))


def get(db: Session, actor: Actor, programme_id: uuid.UUID) -> ProgrammeView:
    """One programme: its coordinators, admins and active participants; 404 for anyone else."""
    programme = db.get(Programme, programme_id)
    if programme is not None:
        role = programme_access.part_in_running(db, actor, programme_id)
        mine = None if role is not None else programme_access.participation(db, actor.user_id, programme_id)
        if role is not None or mine is not None:
            coordinators = coordinators_of(db, programme_id)
            part = role.value if role is not None else mine.role.value if mine is not None else ""
            return ProgrammeView(programme, coordinators, part, mine.id if mine else None,
                                 names_of(db, coordinators))
    raise NotFound("programme not found")


def list_programmes(db: Session, actor: Actor, *, status: ProgrammeStatus | None, limit: int, cursor: str | None
                    ) -> Page[ProgrammeView]:
    """The programmes the actor coordinates or takes part in (an admin: every one), newest first, of one status
    if asked."""
    query = select(Programme)
    if not programme_access.sees_every_programme(actor):
        query = query.where(exists().where(ProgrammeCoordinator.programme_id == Programme.id,
                                           ProgrammeCoordinator.user_id == actor.user_id)
                            | exists().where(ProgrammeParticipant.programme_id == Programme.id,
                                             ProgrammeParticipant.user_id == actor.user_id,
                                             ProgrammeParticipant.status == ParticipantStatus.ACTIVE))
    if status is not None:
        query = query.where(Programme.status == status)
    page = paginate(db, query, Programme.created_at, Programme.id, limit=limit, cursor=cursor, descending=True)
    coordinators: dict[uuid.UUID, list[uuid.UUID]] = {programme.id: [] for programme in page.items}
    if coordinators:
        for programme_id, user_id in db.execute(
                select(ProgrammeCoordinator.programme_id, ProgrammeCoordinator.user_id)
                .where(ProgrammeCoordinator.programme_id.in_(coordinators))
                .order_by(ProgrammeCoordinator.added_at, ProgrammeCoordinator.user_id)):
            coordinators[programme_id].append(user_id)
    mine = {row.programme_id: row for row in db.scalars(select(ProgrammeParticipant).where(
        ProgrammeParticipant.programme_id.in_(coordinators), ProgrammeParticipant.user_id == actor.user_id,
        ProgrammeParticipant.status == ParticipantStatus.ACTIVE))} if coordinators else {}

    def view(programme: Programme) -> ProgrammeView:
        if actor.user_id in coordinators[programme.id]:
            return ProgrammeView(programme, coordinators[programme.id])
        if programme.id in mine:
            return ProgrammeView(programme, coordinators[programme.id], mine[programme.id].role.value,
                                 mine[programme.id].id)
        return ProgrammeView(programme, coordinators[programme.id], Role.ADMIN.value)

    return Page([view(programme) for programme in page.items], page.next_cursor)


def update(db: Session, actor: Actor, programme_id: uuid.UUID, changes: dict[str, Any]) -> ProgrammeView:
    """Change a programme's settings (its coordinators or an admin); a closed programme changes no more (400).
    Two editors at once take turns on the programme's row: the second edits what the first left."""
    programme, role = programme_access.may_change(db, actor, programme_id)
    if programme.status == ProgrammeStatus.CLOSED:
        raise InvalidTransition("programme", programme.status, "edit")
    starts_on = changes.get("starts_on", programme.starts_on)
    ends_on = changes.get("ends_on", programme.ends_on)
    _check_dates(starts_on, ends_on)
    changed = sorted(name for name, value in changes.items() if name in SETTINGS and getattr(programme, name) != value)
    for name in changed:
        setattr(programme, name, changes[name])
    programme.updated_at = utcnow()
    coordinators = coordinators_of(db, programme_id)
    if changed:
        record_change(db, actor, role, programme, coordinators=coordinators, event=EventType.PROGRAMME_SETTINGS_CHANGED,
                      changed=changed)
    return ProgrammeView(programme, coordinators, role.value, coordinator_names=names_of(db, coordinators))


def record_change(db: Session, actor: Actor, role: Role, programme: Programme, *, coordinators: Sequence[uuid.UUID],
                  event: EventType, changed: Sequence[str]) -> None:
    """A change of the programme's settings, its matching's or an intake form, in its history: who, and what by
    name."""
    payload: ProgrammeChangePayload = {**programme_payload(programme, coordinators), "changed": list(changed)}
    record(db, event, payload, actor=actor_label(actor, role))


def act(db: Session, actor: Actor, programme_id: uuid.UUID, action: ProgrammeAction) -> ProgrammeView:
    """Move the programme (the table :data:`PROGRAMMES`); its coordinators are told (``programme.*``)."""
    programme, role = programme_access.may_change(db, actor, programme_id)
    transition = PROGRAMMES.apply(programme, action, role)
    now = utcnow()
    programme.updated_at = now
    if programme.status == ProgrammeStatus.CLOSED:
        programme.closed_at = now
        put_away(db, programme_id)  # its mentors' programme listings take no more bookings
    if programme.status in TAKING_PARTICIPANTS:
        # Invitations made while it was a draft are mailed now (and by beat's sweep, if this message is lost).
        enqueue_after_commit(db, SEND_INVITATIONS_TASK, str(programme_id))
    coordinators = coordinators_of(db, programme_id)
    if transition.event is not None:
        record(db, EventType(transition.event), programme_payload(programme, coordinators),
               actor=actor_label(actor, role))
    return ProgrammeView(programme, coordinators, role.value, coordinator_names=names_of(db, coordinators))


def set_coordinators(db: Session, actor: Actor, programme_id: uuid.UUID, user_ids: Sequence[uuid.UUID], *,
                     audited_as: str = audit.PROGRAMME_COORDINATORS_SET, reason: str | None = None) -> ProgrammeView:
    """Name a programme's coordinators, replacing the ones before (an admin's; 403 for a coordinator, 404 for
    anyone else); those added and those taken off are told (``programme.coordinators_changed``), and the admin's
    action is in the audit trail (``audited_as``, with the console's ``reason``). A programme may be left with none:
    its admins run it meanwhile."""
    programme, role = programme_access.may_change(db, actor, programme_id)
    programme_access.may_name_coordinators(actor)
    access.record_admin_action(db, actor, audited_as, "programme", programme_id, reason=reason)
    wanted = _existing_users(db, user_ids)
    before = coordinators_of(db, programme_id)
    db.execute(delete(ProgrammeCoordinator).where(ProgrammeCoordinator.programme_id == programme_id,
                                                  ProgrammeCoordinator.user_id.not_in(wanted)))
    added = [user_id for user_id in wanted if user_id not in before]
    removed = [user_id for user_id in before if user_id not in wanted]
    if added:
        db.execute(insert(ProgrammeCoordinator).on_conflict_do_nothing(),
                   [{"programme_id": programme_id, "user_id": user_id} for user_id in added])
    programme.updated_at = utcnow()
    now = coordinators_of(db, programme_id)
    if added or removed:
        payload: ProgrammeCoordinatorsPayload = {
            **programme_payload(programme, now), "added_user_ids": [str(user_id) for user_id in added],
            "removed_user_ids": [str(user_id) for user_id in removed]}
        record(db, EventType.PROGRAMME_COORDINATORS_CHANGED, payload, actor=actor.as_admin())
    return ProgrammeView(programme, now, role.value, coordinator_names=names_of(db, now))
