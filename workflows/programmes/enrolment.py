"""Who takes part in a programme: a participation per person and programme, in a role (mentors a capacity).

A participation (:data:`PARTICIPATIONS`): `active → left` (the person), `active | left → removed` (a
coordinator); a return (an invitation, a join link) reopens it, except that a person a coordinator took off comes
back only by a new invitation (removal withdraws those pending from before). Its row, and what it touched, stay.
People join through ``workflows.programmes.invitations`` and ``workflows.programmes.join_links``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import (
    EmailStatus,
    InvitationStatus,
    OutboxEvent,
    ParticipantAvailability,
    ParticipantRole,
    ParticipantStatus,
    Programme,
    ProgrammeInvitation,
    ProgrammeParticipant,
    ProgrammeStatus,
    User,
)
from outbox import recorded_within
from workflows.accounts import audit
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from workflows.events import EventType, record
from workflows.programme_payloads import EnrolmentPayload
from workflows.programmes import access as programme_access
from workflows.programmes import pairings
from workflows.programmes.access import participation
from workflows.programmes.lifecycle import (
    TAKING_PARTICIPANTS,
    actor_label,
    coordinators_of,
)
from workflows.programmes.listings import programme_listing, put_away
from workflows.questions import programme_form
from workflows.roles import Role
from workflows.state_machine import StateMachine, move


class ParticipationAction(StrEnum):
    LEAVE = "leave"
    REMOVE = "remove"


PARTICIPATIONS = StateMachine("participation", ProgrammeParticipant, {
    ParticipationAction.LEAVE: move(ParticipantStatus.ACTIVE, ParticipantStatus.LEFT, Role.PARTICIPANT,
                                    event=EventType.ENROLMENT_LEFT),
    ParticipationAction.REMOVE: move({ParticipantStatus.ACTIVE, ParticipantStatus.LEFT}, ParticipantStatus.REMOVED,
                                     Role.COORDINATOR, Role.ADMIN, event=EventType.ENROLMENT_REMOVED),
})


class Via(StrEnum):
    INVITATION = "invitation"
    LINK = "link"
    SIGN_ON = "sign_on"  # a rule of the organisation's provider, at a sign-in through it


# --- tokens -------------------------------------------------------------------------------------------------


def token_of(kind: str, row_id: uuid.UUID) -> str:
    """The secret of an invitation's or a link's URL, rebuilt from its id with the server's key."""
    key = get_settings().jwt_secret_key.encode()
    digest = hmac.new(key, f"programme-{kind}:".encode() + row_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- joining ---------------------------------------------------------------------------------------------------


def refuse_if_closed(programme: Programme) -> None:
    if programme.status == ProgrammeStatus.CLOSED:
        raise BusinessRuleViolation("the programme is closed: it takes no one more", field="programme")


def enrolment_payload(db: Session, programme: Programme, row: ProgrammeParticipant, via: Via | None, *,
                      ended: Sequence[OutboxEvent] = (), reason: str | None = None) -> EnrolmentPayload:
    """The enrolment's event; ``ended``, the events of the pairings its leave or removal ended, whose sessions it
    lists (the person reads them in its one message)."""
    return {"id": str(row.id), "programme_id": str(programme.id), "programme_name": programme.name,
            "participant_user_id": str(row.user_id), "role": row.role.value, "status": row.status.value,
            "capacity": row.capacity, "via": via.value if via else None,
            "cancelled_session_ids": [str(e.aggregate_id) for e in ended if e.type == EventType.SESSION_CANCELLED],
            "coordinator_user_ids": [str(user_id) for user_id in coordinators_of(db, programme.id)],
            "intake_finished": row.intake_finished_at is not None, "reason": reason}


def join(db: Session, programme: Programme, user_id: uuid.UUID, role: ParticipantRole, capacity: int | None, *,
          via: Via) -> ProgrammeParticipant:
    """Make ``user_id`` a participant in ``role`` (the programme must take participants): a first time, or a return
    after leaving; after a coordinator's removal only by invitation. 409 when they already take part."""
    if programme.status not in TAKING_PARTICIPANTS:
        raise BusinessRuleViolation("the programme is {status}: it takes no participants now",
                                    words={"status": programme.status.value},
                                    field="programme")
    for _attempt in range(2):
        row = db.scalar(select(ProgrammeParticipant).where(ProgrammeParticipant.programme_id == programme.id,
                                                           ProgrammeParticipant.user_id == user_id)
                        .with_for_update())
        if row is None:
            made = db.scalar(insert(ProgrammeParticipant).values(
                id=uuid.uuid4(), programme_id=programme.id, user_id=user_id, role=role, capacity=capacity,
                status=ParticipantStatus.ACTIVE, joined_at=utcnow(),
            ).on_conflict_do_nothing(index_elements=["programme_id", "user_id"]).returning(ProgrammeParticipant.id))
            if made is None:
                continue  # joined at this moment by another request: read theirs
            row = db.get(ProgrammeParticipant, made)
            assert row is not None
            break
        if row.status == ParticipantStatus.ACTIVE:
            raise Conflict("already takes part in this programme, as its {role}", words={"role": row.role.value},
                           participant_id=str(row.id), reason="takes_part_already")
        if row.status == ParticipantStatus.REMOVED and via != Via.INVITATION:
            raise Forbidden("a coordinator took you off this programme: only a new invitation brings you back")
        if row.role != role:  # back in the other role: the intake of the former one does not carry over
            row.intake_answers = row.intake_answered_at = row.intake_finished_at = row.timezone = None
            db.execute(delete(ParticipantAvailability).where(ParticipantAvailability.participant_id == row.id))
        row.status, row.role, row.capacity = ParticipantStatus.ACTIVE, role, capacity
        row.joined_at, row.ended_at = utcnow(), None
        row.enrolled_by_provider_id = None  # back by their own choice: a provider's rule that enrols them says so
        break
    else:  # pragma: no cover - the row exists once the insert conflicted
        raise Conflict("the participation changed meanwhile: try again", reason="participation_changed")
    db.flush()
    if role == ParticipantRole.MENTOR:
        programme_listing(db, programme, user_id)  # their programme listing, made as they join
    elif row.intake_finished_at is None and not programme_form(db, programme.id, role.value):
        row.intake_finished_at = utcnow()  # a programme that asks its mentees nothing: joining is their intake
    record(db, EventType.ENROLMENT_JOINED, enrolment_payload(db, programme, row, via), actor=f"user:{user_id}")
    return row


def finish(db: Session, programme: Programme, row: ProgrammeParticipant, *, actor: str) -> None:
    """Mark a participant's intake finished (``workflows.programmes.intake``): a candidate for matching and pairing
    from now (``enrolment.intake_finished``, for its coordinators' screens and webhooks)."""
    row.intake_finished_at = utcnow()
    db.flush()
    record(db, EventType.ENROLMENT_INTAKE_FINISHED, enrolment_payload(db, programme, row, None), actor=actor)


# --- participants -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantView:
    """A participant as a reader may see them: a coordinator sees the whole row and the address; a participant sees
    the others' names and roles only."""

    row: ProgrammeParticipant
    display_name: str
    email: str | None

    @property
    def intake_answered_at(self) -> object:
        """When they last answered their intake: for its coordinators (and themselves) only."""
        return self.row.intake_answered_at if self.email is not None else None

    @property
    def intake_finished_at(self) -> object:
        """When their intake was finished (a mentor's hours confirmed): for its coordinators (and themselves) only."""
        return self.row.intake_finished_at if self.email is not None else None

    def __getattr__(self, name: str) -> object:
        return getattr(self.row, name)


def _participant(db: Session, programme_id: uuid.UUID, participant_id: uuid.UUID) -> ProgrammeParticipant:
    row = db.scalar(select(ProgrammeParticipant).where(ProgrammeParticipant.id == participant_id,
                                                       ProgrammeParticipant.programme_id == programme_id)
                    .with_for_update())
    if row is None:
        raise NotFound("participant not found")
    return row


def participant_view(db: Session, row: ProgrammeParticipant) -> ParticipantView:
    """A participation as its own person (or a coordinator) reads it."""
    user = db.get(User, row.user_id)
    assert user is not None
    return ParticipantView(row, user.display_name, user.email)


def set_capacity(db: Session, actor: Actor, programme_id: uuid.UUID, participant_id: uuid.UUID, capacity: int
                 ) -> ParticipantView:
    """Set how many mentees a mentor takes at once (its coordinators, or the mentor); 400 for a mentee."""
    mine = participation(db, actor.user_id, programme_id)
    if mine is None or mine.id != participant_id:
        programme_access.may_read(db, actor, programme_id)
    row = _participant(db, programme_id, participant_id)
    if row.role != ParticipantRole.MENTOR or row.status != ParticipantStatus.ACTIVE:
        raise BusinessRuleViolation("only a mentor taking part has a capacity", field="capacity")
    row.capacity = capacity
    return participant_view(db, row)


def remove(db: Session, actor: Actor, programme_id: uuid.UUID, participant_id: uuid.UUID) -> ParticipantView:
    """Take a participant off the programme (its coordinators): their row and history stay; they come back only by
    a new invitation (those still pending from before are withdrawn)."""
    programme, role = programme_access.may_read(db, actor, programme_id)
    _withdraw_invitations(db, programme_id, participant_id)
    row = _participant(db, programme_id, participant_id)
    was_active = row.status == ParticipantStatus.ACTIVE
    PARTICIPATIONS.apply(row, ParticipationAction.REMOVE, role)
    if was_active:
        row.ended_at = utcnow()
    db.flush()
    with recorded_within(db) as ended:
        pairings.end_all_of(db, actor, row, reason="a coordinator took one of the pair off the programme")
    if row.role == ParticipantRole.MENTOR:
        put_away(db, programme_id, row.user_id)
    record(db, EventType.ENROLMENT_REMOVED, enrolment_payload(db, programme, row, None, ended=ended),
           actor=actor_label(actor, role))
    audit.record_if_admin(db, actor, role, audit.PROGRAMME_PARTICIPANT_REMOVED,
                          target_type="programme_participant", target_id=row.id)
    return participant_view(db, row)


def _withdraw_invitations(db: Session, programme_id: uuid.UUID, participant_id: uuid.UUID) -> None:
    """Withdraw the participant's pending invitations to the programme (an unsent mail never goes). Done before their
    participation is locked: an accept locks the invitation first, then the participation, and so does this."""
    email = (select(User.email).join(ProgrammeParticipant, ProgrammeParticipant.user_id == User.id)
             .where(ProgrammeParticipant.id == participant_id, ProgrammeParticipant.programme_id == programme_id)
             .scalar_subquery())
    db.execute(update(ProgrammeInvitation).where(
        ProgrammeInvitation.programme_id == programme_id, ProgrammeInvitation.email == email,
        ProgrammeInvitation.status == InvitationStatus.PENDING,
    ).values(status=InvitationStatus.WITHDRAWN, decided_at=utcnow(), email_status=case(
        (ProgrammeInvitation.email_status == EmailStatus.PENDING, EmailStatus.NONE),
        else_=ProgrammeInvitation.email_status)), execution_options={"synchronize_session": False})


def leave(db: Session, actor: Actor, programme_id: uuid.UUID, *, reason: str | None = None) -> ParticipantView:
    """Leave a programme one takes part in, saying why if one wishes; its coordinators are told (with the reason),
    and so is the other of each pairing it ends. 404 for one who does not take part."""
    programme = db.get(Programme, programme_id)
    row = participation(db, actor.user_id, programme_id, lock=True) if programme is not None else None
    if programme is None or row is None:
        raise NotFound("programme not found")
    PARTICIPATIONS.apply(row, ParticipationAction.LEAVE, Role.PARTICIPANT)
    row.ended_at = utcnow()
    db.flush()
    with recorded_within(db) as ended:
        pairings.end_all_of(db, actor, row, reason="one of the pair left the programme"
                            + (f": {reason}" if reason else ""))
    if row.role == ParticipantRole.MENTOR:
        put_away(db, programme_id, row.user_id)
    record(db, EventType.ENROLMENT_LEFT, enrolment_payload(db, programme, row, None, ended=ended, reason=reason),
           actor=str(actor))
    return participant_view(db, row)

