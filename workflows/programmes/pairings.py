"""Pairings: a programme's mentor and mentee joined for a term, by its coordinators.

Proposing a pairing asks for its sessions in one step, as a series on the mentor's programme listing
(``workflows.programmes.listings``) on the mentee's behalf: every time checked as any request is, DST-safe wall-clock
times, the rules as today. Its first time is the first of the mentor's free slots in the next four weeks that falls
wholly in one of the mentee's weekly windows (any of the mentor's free slots if the mentee gave none) and finds the
mentee free; the rest follow at the agreed cadence. The mentor's one accept of the series makes the pairing active
(``workflows.programmes.following``, the handler of the series' events). The table (:data:`PAIRINGS`):

- ``proposed → active``: the mentor accepted its sessions (the system, from ``booking_series.accepted``);
- ``active → paused``: either of the pair or a coordinator; its coming sessions are cancelled by the usual rules;
- ``paused → proposed``: resumed (the system on the day its pause named), its remaining sessions asked for again from
  the next time both are free (``workflows.programmes.pausing``);
- ``proposed | active | paused → ended``: either of the pair or a coordinator (the system when the mentor declines
  its sessions); its coming sessions are cancelled (a proposal's series withdrawn), and both are asked for a closing
  survey (a rating and a few words).

A mentor takes at most their capacity of live pairings (proposed, active or paused) in a programme; a mentee has at
most one (the database's partial unique index ``ONE_LIVE_PAIRING`` behind the check), and no session of a pairing
comes before the programme's first day. Two coordinators acting at once take turns on the pairing's row (and on the
participations, for capacity and the mentee's one pairing): the second acts on what the first left.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Booking,
    BookingSeries,
    BookingStatus,
    CancelCause,
    OutboxEvent,
    Pairing,
    PairingStatus,
    PairingSurvey,
    ParticipantAvailability,
    ParticipantRole,
    ParticipantStatus,
    Programme,
    ProgrammeParticipant,
    SeriesStatus,
    User,
)
from models.programmes.pairings import ONE_LIVE_PAIRING
from workflows.actors import Actor
from workflows.bookings import series as series_flow
from workflows.bookings import series_requests
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidInput, NotFound, add_or_conflict
from workflows.events import EventType, record
from workflows.inbox import told_together
from workflows.programme_payloads import PairingPayload
from workflows.programmes import access as programme_access
from workflows.programmes.lifecycle import FINISHED, TAKING_PARTICIPANTS, actor_label, coordinators_of
from workflows.programmes.listings import programme_listing
from workflows.roles import Role
from workflows.scheduling.commitments import mentee_is_busy
from workflows.scheduling.slots import free_slots
from workflows.state_machine import StateMachine, move

log = structlog.get_logger(__name__)

FIRST_TIME_WITHIN = timedelta(weeks=4)
MAX_REASON = 1000


class PairingAction(StrEnum):
    ACTIVATE = "activate"
    PAUSE = "pause"
    RESUME = "resume"
    END = "end"


_ANYONE = (Role.MENTOR, Role.MENTEE, Role.COORDINATOR, Role.ADMIN)
PAIRINGS = StateMachine("pairing", Pairing, {
    PairingAction.ACTIVATE: move(PairingStatus.PROPOSED, PairingStatus.ACTIVE, Role.SYSTEM,
                                 event=EventType.PAIRING_ACTIVATED),
    PairingAction.PAUSE: move(PairingStatus.ACTIVE, PairingStatus.PAUSED, *_ANYONE, event=EventType.PAIRING_PAUSED),
    PairingAction.RESUME: move(PairingStatus.PAUSED, PairingStatus.PROPOSED, *_ANYONE, Role.SYSTEM,
                               event=EventType.PAIRING_RESUMED),
    PairingAction.END: move({PairingStatus.PROPOSED, PairingStatus.ACTIVE, PairingStatus.PAUSED}, PairingStatus.ENDED,
                            *_ANYONE, Role.SYSTEM, event=EventType.PAIRING_ENDED),
})
LIVE = (PairingStatus.PROPOSED, PairingStatus.ACTIVE, PairingStatus.PAUSED)


def pairing_payload(db: Session, programme: Programme, pairing: Pairing, *, cancelled: Sequence[OutboxEvent] = (),
                    departed: uuid.UUID | None = None, reason: str | None = None) -> PairingPayload:
    return {"id": str(pairing.id), "programme_id": str(programme.id), "programme_name": programme.name,
            "listing_id": str(pairing.listing_id), "mentor_profile_id": str(pairing.mentor_profile_id),
            "mentee_user_id": str(pairing.mentee_user_id), "status": pairing.status.value,
            "cadence_weeks": pairing.cadence_weeks, "session_minutes": pairing.session_minutes,
            "session_count": pairing.session_count,
            "series_id": str(pairing.series_id) if pairing.series_id else None,
            "start_time": pairing.first_start.isoformat() if pairing.first_start else None,
            "ended_by": pairing.ended_by, "reason": reason or pairing.end_reason,
            "resume_on": pairing.resume_on.isoformat() if pairing.resume_on else None,
            "cancelled_session_ids": [str(e.aggregate_id) for e in cancelled if e.type == EventType.SESSION_CANCELLED],
            "departed_user_id": str(departed) if departed else None,
            "rules_overridden": list(pairing.rules_overridden or []), "override_reason": pairing.override_reason,
            "coordinator_user_ids": [str(user_id) for user_id in coordinators_of(db, programme.id)]}


def record_move(db: Session, event_type: EventType, programme: Programme, pairing: Pairing, actor: str, *,
                cancelled: Sequence[OutboxEvent] = (), departed: uuid.UUID | None = None,
                reason: str | None = None) -> None:
    """The move's event; the sessions it ``cancelled`` are told in its message (each person once); ``reason``: why
    this move was made, if not its end's."""
    pairing.updated_at = utcnow()
    db.flush()
    record(db, event_type, pairing_payload(db, programme, pairing, cancelled=cancelled, departed=departed,
                                           reason=reason), actor=actor)


def _fits(start: datetime, minutes: int, zone: ZoneInfo, windows: Sequence[ParticipantAvailability]) -> bool:
    local = start.astimezone(zone)
    begins = local.hour * 60 + local.minute
    return any(w.weekday == local.weekday() and w.start_minute <= begins and begins + minutes <= w.end_minute
               for w in windows)


def first_time(db: Session, listing_id: uuid.UUID, mentee: ProgrammeParticipant, minutes: int, now: datetime
               ) -> datetime | None:
    """The first of the mentor's free slots in the next four weeks that falls in one of the mentee's windows (any,
    if they gave none) and finds the mentee free."""
    windows = list(db.scalars(select(ParticipantAvailability)
                              .where(ParticipantAvailability.participant_id == mentee.id)))
    zone = ZoneInfo(mentee.timezone or "UTC")
    for slot in free_slots(db, listing_id, start=now, end=now + FIRST_TIME_WITHIN, now=now):
        if windows and not _fits(slot.start_time, minutes, zone, windows):
            continue
        if not mentee_is_busy(db, mentee.user_id, slot.start_time, slot.end_time):
            return slot.start_time
    return None


def _person(db: Session, programme_id: uuid.UUID, participant_id: uuid.UUID, role: ParticipantRole
            ) -> ProgrammeParticipant:
    found = db.execute(select(ProgrammeParticipant, FINISHED).where(
        ProgrammeParticipant.id == participant_id, ProgrammeParticipant.programme_id == programme_id)
        .with_for_update(of=ProgrammeParticipant)).one_or_none()
    if found is None or found[0].status != ParticipantStatus.ACTIVE or found[0].role != role:
        raise BusinessRuleViolation("no {role} of this programme takes part as {participant_id}",
                                    words={"role": role.value, "participant_id": participant_id},
                                    field=f"{role.value}_participant_id")
    if not found[1]:  # a mentor's intake gives their hours: without, they read as free at any time
        raise Conflict("this {role} has not finished their intake: no one pairs them yet",
                       words={"role": role.value}, rule="intake")
    return found[0]


def first_day(programme: Programme) -> datetime | None:
    """When the programme's first day begins (UTC), if it has one: no session of a pairing comes before."""
    return datetime.combine(programme.starts_on, time(), UTC) if programme.starts_on else None


def ask(db: Session, programme: Programme, pairing: Pairing, mentee: ProgrammeParticipant, *, count: int,
         first_start: datetime | None, now: datetime) -> None:
    """Ask for ``count`` sessions as a series from ``first_start`` (else the first time both are free, from the
    programme's first day when later); 400 for a first start before that day."""
    begins = first_day(programme)
    if first_start is not None and begins is not None and first_start < begins:
        raise BusinessRuleViolation("the programme begins on {date}: no session of it comes before",
                                    words={"date": begins.date().isoformat()}, field="first_start")
    first = first_start or first_time(db, pairing.listing_id, mentee, pairing.session_minutes,
                                      max(now, begins or now))
    if first is None:
        raise Conflict("the mentor and the mentee have no time in common in the next four weeks: ask the mentor "
                       "to open more hours, or the mentee to give more windows", reason="no_common_time")
    series = series_requests.request(
        db, Actor(pairing.mentee_user_id),
        series_requests.Shape(pairing.listing_id, first, every_weeks=pairing.cadence_weeks, count=count,
                              mentor_profile_id=pairing.mentor_profile_id),
        notes=f"Sessions of the pairing in {programme.name}", now=now)
    pairing.series_id, pairing.first_start = series.id, first


def pair(db: Session, programme: Programme, mentor_participant_id: uuid.UUID, mentee_participant_id: uuid.UUID, *,
         proposed_by: uuid.UUID | None, actor: str, first_start: datetime | None = None,
         cadence_weeks: int | None = None, session_count: int | None = None,
         overridden: tuple[Sequence[str], str | None] | None = None, now: datetime | None = None) -> Pairing:
    """Pair them, for whoever may (a coordinator by hand, ``workflows.matching.hand``; a run's publication; a
    mentee's choice), asking for their sessions at once: the mentor's participation locked, then the mentee's, so
    two pairings with one mentor take turns on their capacity and two of one mentee on their one live pairing (409
    for the second); ``overridden``: the hard rules a coordinator paired them across, and why."""
    now = now or utcnow()
    if programme.status not in TAKING_PARTICIPANTS:
        raise BusinessRuleViolation("the programme is {status}: it pairs no one now",
                                    words={"status": programme.status.value})
    mentor = _person(db, programme.id, mentor_participant_id, ParticipantRole.MENTOR)
    mentee = _person(db, programme.id, mentee_participant_id, ParticipantRole.MENTEE)
    mentor_name = _paired_with(db, mentee)
    if mentor_name is not None:
        raise Conflict("{display_name} is already paired with {mentor_name} in this programme: end that pairing first",
                       words={"display_name": db.get_one(User, mentee.user_id).display_name,
                              "mentor_name": mentor_name},
                       rule="one_pairing", reason="paired_already")
    live = db.scalar(select(func.count()).select_from(Pairing).where(
        Pairing.mentor_participant_id == mentor.id, Pairing.status.in_(LIVE))) or 0
    if live >= (mentor.capacity or 0):
        raise Conflict("the mentor already has {live} of their {capacity} mentees",
                       words={"live": live, "capacity": mentor.capacity}, rule="capacity")
    listing = programme_listing(db, programme, mentor.user_id)
    pairing = Pairing(id=uuid.uuid4(), programme_id=programme.id, mentor_participant_id=mentor.id,
                      mentee_participant_id=mentee.id, mentor_profile_id=listing.mentor_profile_id,
                      mentee_user_id=mentee.user_id, listing_id=listing.id, status=PairingStatus.PROPOSED,
                      cadence_weeks=cadence_weeks or programme.cadence_weeks,
                      session_minutes=programme.session_minutes,
                      session_count=session_count or programme.session_count, proposed_by_user_id=proposed_by,
                      rules_overridden=list(overridden[0]) if overridden else [],
                      override_reason=overridden[1] if overridden else None, created_at=now)
    add_or_conflict(db, pairing, {ONE_LIVE_PAIRING: Conflict("the mentee is already paired in this programme",
                                                             reason="paired_already")})
    ask(db, programme, pairing, mentee, count=pairing.session_count, first_start=first_start, now=now)
    record_move(db, EventType.PAIRING_PROPOSED, programme, pairing, actor)
    log.info(EventType.PAIRING_PROPOSED, pairing_id=str(pairing.id), series_id=str(pairing.series_id))
    return pairing


def _paired_with(db: Session, mentee: ProgrammeParticipant) -> str | None:
    """The name of the mentor of the mentee's live pairing, if they have one."""
    return db.scalar(select(User.display_name).join(ProgrammeParticipant, ProgrammeParticipant.user_id == User.id)
                     .join(Pairing, Pairing.mentor_participant_id == ProgrammeParticipant.id)
                     .where(Pairing.mentee_participant_id == mentee.id, Pairing.status.in_(LIVE)).limit(1))


@dataclass(frozen=True)
class PairingView:
    """A pairing as one of its people reads it: the row, the pair's names, the reader's part, and the surveys
    answered (each of the pair reads their own; the coordinators both)."""

    pairing: Pairing
    viewer_role: str
    surveys: list[PairingSurvey]
    mentor_name: str
    mentee_name: str

    def __getattr__(self, name: str) -> object:
        return getattr(self.pairing, name)


def _part(db: Session, actor: Actor, pairing: Pairing) -> Role | None:
    if pairing.mentor_profile_id == actor.mentor_profile_id:
        return Role.MENTOR
    if pairing.mentee_user_id == actor.user_id:
        return Role.MENTEE
    try:
        _, role = programme_access.may_read(db, actor, pairing.programme_id)
    except (NotFound, Forbidden):  # a participant has no part in others' pairings
        return None
    return role


def load(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *, lock: bool
         ) -> tuple[Pairing, Role]:
    """The pairing (locked for a change) and the actor's part in it: the pair's or a coordinator's; 404 else."""
    query = select(Pairing).where(Pairing.id == pairing_id, Pairing.programme_id == programme_id)
    pairing = db.scalar(query.with_for_update() if lock else query)
    role = _part(db, actor, pairing) if pairing is not None else None
    if pairing is None or role is None:
        raise NotFound("pairing not found")
    return pairing, role


def view(db: Session, pairing: Pairing, role: Role) -> PairingView:
    """A pairing as the reader in ``role`` reads it: their own survey only, if one of the pair."""
    surveys = list(db.scalars(select(PairingSurvey).where(PairingSurvey.pairing_id == pairing.id)))
    if role in {Role.MENTOR, Role.MENTEE}:
        surveys = [one for one in surveys if one.role == role.value]  # each reads their own
    names = {row.id: row.display_name for row in db.execute(
        select(ProgrammeParticipant.id, User.display_name).join(User, User.id == ProgrammeParticipant.user_id)
        .where(ProgrammeParticipant.id.in_([pairing.mentor_participant_id, pairing.mentee_participant_id])))}
    return PairingView(pairing, role.value, surveys, names.get(pairing.mentor_participant_id, ""),
                       names.get(pairing.mentee_participant_id, ""))


def get(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID) -> PairingView:
    """A pairing: its pair and the programme's coordinators; 404 for anyone else."""
    pairing, role = load(db, actor, programme_id, pairing_id, lock=False)
    return view(db, pairing, role)


def _party(pairing: Pairing, role: Role, actor: Actor) -> Actor:
    """Who the pairing's series is acted on as: the mentor or mentee themself; for a coordinator, the mentee (the
    sessions are free: no fee falls on anyone)."""
    return actor if role in {Role.MENTOR, Role.MENTEE} else Actor(pairing.mentee_user_id)


def stop_sessions(db: Session, pairing: Pairing, role: Role, actor: Actor, *, reason: str, now: datetime,
                   cause: CancelCause) -> int:
    """Cancel the pairing's coming sessions, recorded as the actor's (``role``) for ``cause`` (withdraw its series if
    not accepted yet); how many took place before."""
    if pairing.series_id is None:
        return 0
    party = _party(pairing, role, actor)
    # Locked and read afresh: the mentor's accept may have committed meanwhile (then it is cancelled, not withdrawn).
    series = db.execute(select(BookingSeries).where(BookingSeries.id == pairing.series_id)
                        .with_for_update(key_share=True).execution_options(populate_existing=True)).scalar_one()
    held = db.scalar(select(func.count()).select_from(Booking).where(
        Booking.series_id == pairing.series_id, Booking.status == BookingStatus.ACCEPTED,
        Booking.start_time < now)) or 0
    if series.status == SeriesStatus.REQUESTED:
        series_flow.withdraw(db, Actor(pairing.mentee_user_id), series.id, reason=reason, now=now, by=role)
    elif series.status == SeriesStatus.ACCEPTED:
        with suppress(Conflict):  # nothing left to come
            series_flow.cancel(db, party, series.id, reason=reason, now=now, cause=cause, by=role)
    return held


def end_all_of(db: Session, actor: Actor, participant: ProgrammeParticipant, *, reason: str) -> None:
    """End every live pairing of a participant who leaves or is taken off (the actor: they, or a coordinator); their
    enrolment's message tells them (the other of each pair reads the pairing's)."""
    for pairing_id in db.scalars(select(Pairing.id).where(
            (Pairing.mentor_participant_id == participant.id) | (Pairing.mentee_participant_id == participant.id),
            Pairing.status.in_(LIVE))):
        end(db, actor, participant.programme_id, pairing_id, reason=reason, departed=participant.user_id,
            cause=CancelCause.LEAVE if actor.user_id == participant.user_id else CancelCause.REMOVAL)


def end(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *, reason: str | None = None,
        now: datetime | None = None, departed: uuid.UUID | None = None, cause: CancelCause = CancelCause.END
        ) -> PairingView:
    """End a pairing (either of the pair, or a coordinator): its coming sessions are cancelled by the usual rules,
    and both are asked for a closing survey."""
    now = now or utcnow()
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput("a reason has at most {max_reason} characters",
                           words={"max_reason": MAX_REASON}, field="reason")
    pairing, role = load(db, actor, programme_id, pairing_id, lock=True)
    programme = db.get_one(Programme, programme_id)
    PAIRINGS.apply(pairing, PairingAction.END, role)
    pairing.ended_at, pairing.ended_by, pairing.end_reason = now, role.value, (reason or "").strip() or None
    pairing.resume_on = None
    with told_together(db) as cancelled:
        pairing.sessions_before += stop_sessions(db, pairing, role, actor, reason=reason or "the pairing has ended",
                                                  now=now, cause=cause)
    record_move(db, EventType.PAIRING_ENDED, programme, pairing, actor_label(actor, role), cancelled=cancelled,
                departed=departed)
    return view(db, pairing, role)


def record_ended(db: Session, pairing_ids: Sequence[uuid.UUID]) -> None:
    """``pairing.ended`` for pairings an account's deletion ended (``workflows.accounts.deletion``), by the system."""
    for pairing in db.scalars(select(Pairing).where(Pairing.id.in_(pairing_ids)).order_by(Pairing.id)):
        record_move(db, EventType.PAIRING_ENDED, db.get_one(Programme, pairing.programme_id), pairing,
                    Role.SYSTEM.value)
