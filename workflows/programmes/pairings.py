"""Pairings: a programme's mentor and mentee joined for a term, by its coordinators.

Proposing a pairing asks for its sessions in one step, as a series on the mentor's programme listing
(``workflows.programmes.listings``) on the mentee's behalf: every time checked as any request is, DST-safe wall-clock
times, the rules as today. Its first time is the first of the mentor's free slots in the next four weeks that falls
wholly in one of the mentee's weekly windows (any of the mentor's free slots if the mentee gave none) and finds the
mentee free; the rest follow at the agreed cadence. The mentor's one accept of the series makes the pairing active
(``workflows.programmes.following``, the handler of the series' events). The table (:data:`PAIRINGS`):

- ``proposed → active``: the mentor accepted its sessions (the system, from ``booking_series.accepted``);
- ``active → paused``: either of the pair or a coordinator; its coming sessions are cancelled by the usual rules;
- ``paused → proposed``: resumed, its remaining sessions asked for again from the next time both are free;
- ``proposed | active | paused → ended``: either of the pair or a coordinator (the system when the mentor declines
  its sessions); its coming sessions are cancelled (a proposal's series withdrawn), and both are asked for a closing
  survey (a rating and a few words).

A mentor takes at most their capacity of live pairings (proposed, active or paused) in a programme; a mentor and a
mentee have at most one live pairing. Two coordinators acting at once take turns on the pairing's row (and on the
mentor's participation, for capacity): the second acts on what the first left.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from workflows.actors import Actor
from workflows.bookings import series as series_flow
from workflows.bookings import series_requests
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidInput, NotFound
from workflows.events import EventType, record
from workflows.pagination import Page, paginate
from workflows.programme_payloads import PairingPayload
from workflows.programmes.lifecycle import TAKING_PARTICIPANTS, actor_label, coordinators_of, participation, run_by
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
    PairingAction.RESUME: move(PairingStatus.PAUSED, PairingStatus.PROPOSED, *_ANYONE,
                               event=EventType.PAIRING_RESUMED),
    PairingAction.END: move({PairingStatus.PROPOSED, PairingStatus.ACTIVE, PairingStatus.PAUSED}, PairingStatus.ENDED,
                            *_ANYONE, Role.SYSTEM, event=EventType.PAIRING_ENDED),
})
LIVE = (PairingStatus.PROPOSED, PairingStatus.ACTIVE, PairingStatus.PAUSED)


def pairing_payload(db: Session, programme: Programme, pairing: Pairing) -> PairingPayload:
    return {"id": str(pairing.id), "programme_id": str(programme.id), "programme_name": programme.name,
            "listing_id": str(pairing.listing_id), "mentor_profile_id": str(pairing.mentor_profile_id),
            "mentee_user_id": str(pairing.mentee_user_id), "status": pairing.status.value,
            "cadence_weeks": pairing.cadence_weeks, "session_minutes": pairing.session_minutes,
            "session_count": pairing.session_count,
            "series_id": str(pairing.series_id) if pairing.series_id else None,
            "start_time": pairing.first_start.isoformat() if pairing.first_start else None,
            "ended_by": pairing.ended_by, "reason": pairing.end_reason,
            "coordinator_user_ids": [str(user_id) for user_id in coordinators_of(db, programme.id)]}


def record_move(db: Session, event_type: EventType, programme: Programme, pairing: Pairing, actor: str) -> None:
    pairing.updated_at = utcnow()
    db.flush()
    record(db, event_type, pairing_payload(db, programme, pairing), actor=actor)


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
    row = db.scalar(select(ProgrammeParticipant).where(ProgrammeParticipant.id == participant_id,
                                                       ProgrammeParticipant.programme_id == programme_id)
                    .with_for_update())
    if row is None or row.status != ParticipantStatus.ACTIVE or row.role != role:
        raise BusinessRuleViolation(f"no {role.value} of this programme takes part as {participant_id}",
                                    field=f"{role.value}_participant_id")
    return row


def _ask(db: Session, programme: Programme, pairing: Pairing, mentee: ProgrammeParticipant, *, count: int,
         first_start: datetime | None, now: datetime, not_before: datetime | None = None) -> None:
    """Ask for ``count`` sessions as a series from ``first_start`` (else the first time both are free)."""
    first = first_start or first_time(db, pairing.listing_id, mentee, pairing.session_minutes,
                                      max(now, not_before or now))
    if first is None:
        raise Conflict("the mentor and the mentee have no time in common in the next four weeks: ask the mentor "
                       "to open more hours, or the mentee to give more windows")
    series = series_requests.request(
        db, Actor(pairing.mentee_user_id),
        series_requests.Shape(pairing.listing_id, first, every_weeks=pairing.cadence_weeks, count=count,
                              mentor_profile_id=pairing.mentor_profile_id),
        notes=f"Sessions of the pairing in {programme.name}", now=now)
    pairing.series_id, pairing.first_start = series.id, first


def propose(db: Session, actor: Actor, programme_id: uuid.UUID, *, mentor_participant_id: uuid.UUID,
            mentee_participant_id: uuid.UUID, first_start: datetime | None = None, cadence_weeks: int | None = None,
            session_count: int | None = None, now: datetime | None = None) -> Pairing:
    """Pair a mentor and a mentee of the programme (its coordinators), asking for their sessions at once; the
    agreement is the programme's unless given. 409 past the mentor's capacity, for a pair already paired, or when
    they have no time in common; 400 for people not taking part in those roles, or a programme not under way."""
    programme, role = run_by(db, actor, programme_id, lock=True)
    return pair(db, programme, mentor_participant_id, mentee_participant_id, proposed_by=actor.user_id,
                actor=actor_label(actor, role), first_start=first_start, cadence_weeks=cadence_weeks,
                session_count=session_count, now=now)


def pair(db: Session, programme: Programme, mentor_participant_id: uuid.UUID, mentee_participant_id: uuid.UUID, *,
         proposed_by: uuid.UUID | None, actor: str, first_start: datetime | None = None,
         cadence_weeks: int | None = None, session_count: int | None = None, one_mentor: bool = False,
         not_before: datetime | None = None, now: datetime | None = None) -> Pairing:
    """:func:`propose`'s work, for whoever may pair (a coordinator, a run's publication, a mentee's choice): the
    mentor's participation locked, so two pairings with one mentor at once take turns on their capacity; with
    ``one_mentor``, 409 for a mentee who has a live pairing already (the mentee's participation locked too); the
    first time looked for from ``not_before`` when later than now (a programme's start)."""
    now = now or utcnow()
    if programme.status not in TAKING_PARTICIPANTS:
        raise BusinessRuleViolation(f"the programme is {programme.status.value}: it pairs no one now")
    mentor = _person(db, programme.id, mentor_participant_id, ParticipantRole.MENTOR)
    mentee = _person(db, programme.id, mentee_participant_id, ParticipantRole.MENTEE)
    if one_mentor and db.scalar(select(Pairing.id).where(Pairing.mentee_participant_id == mentee.id,
                                                         Pairing.status.in_(LIVE)).limit(1)):
        raise Conflict("the mentee already has a mentor in this programme")
    live = db.scalar(select(func.count()).select_from(Pairing).where(
        Pairing.mentor_participant_id == mentor.id, Pairing.status.in_(LIVE))) or 0
    if live >= (mentor.capacity or 0):
        raise Conflict(f"the mentor already has {live} of their {mentor.capacity} mentees", rule="capacity")
    if db.scalar(select(Pairing.id).where(Pairing.mentor_participant_id == mentor.id,
                                          Pairing.mentee_participant_id == mentee.id, Pairing.status.in_(LIVE))):
        raise Conflict("this mentor and this mentee are already paired")
    listing = programme_listing(db, programme, mentor.user_id)
    pairing = Pairing(id=uuid.uuid4(), programme_id=programme.id, mentor_participant_id=mentor.id,
                      mentee_participant_id=mentee.id, mentor_profile_id=listing.mentor_profile_id,
                      mentee_user_id=mentee.user_id, listing_id=listing.id, status=PairingStatus.PROPOSED,
                      cadence_weeks=cadence_weeks or programme.cadence_weeks,
                      session_minutes=programme.session_minutes,
                      session_count=session_count or programme.session_count, proposed_by_user_id=proposed_by,
                      created_at=now)
    db.add(pairing)
    db.flush()
    _ask(db, programme, pairing, mentee, count=pairing.session_count, first_start=first_start, now=now,
         not_before=not_before)
    record_move(db, EventType.PAIRING_PROPOSED, programme, pairing, actor)
    log.info(EventType.PAIRING_PROPOSED, pairing_id=str(pairing.id), series_id=str(pairing.series_id))
    return pairing


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
        _, role = run_by(db, actor, pairing.programme_id, lock=False)
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


def _view(db: Session, pairing: Pairing, role: Role) -> PairingView:
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
    return _view(db, pairing, role)


def list_pairings(db: Session, actor: Actor, programme_id: uuid.UUID, *, status: PairingStatus | None, limit: int,
                  cursor: str | None) -> Page[PairingView]:
    """The programme's pairings, newest first: all of them for its coordinators, one's own for a participant."""
    query = select(Pairing).where(Pairing.programme_id == programme_id)
    try:
        run_by(db, actor, programme_id, lock=False)
        role: Role | None = None
    except (NotFound, Forbidden):  # not one who runs it: a participant reads their own
        if participation(db, actor.user_id, programme_id) is None:
            raise NotFound("programme not found") from None
        query = query.where((Pairing.mentee_user_id == actor.user_id)
                            | (Pairing.mentor_profile_id == actor.mentor_profile_id))
        role = Role.PARTICIPANT
    if status is not None:
        query = query.where(Pairing.status == status)
    page = paginate(db, query, Pairing.created_at, Pairing.id, limit=limit, cursor=cursor, descending=True)
    views = []
    for pairing in page.items:
        part = (Role.MENTOR if pairing.mentor_profile_id == actor.mentor_profile_id else Role.MENTEE) \
            if role == Role.PARTICIPANT else Role.COORDINATOR
        views.append(_view(db, pairing, part))
    return Page(views, page.next_cursor)


def _party(pairing: Pairing, role: Role, actor: Actor) -> Actor:
    """Who the pairing's series is acted on as: the mentor or mentee themself; for a coordinator, the mentee (the
    sessions are free: no fee falls on anyone)."""
    return actor if role in {Role.MENTOR, Role.MENTEE} else Actor(pairing.mentee_user_id)


def _stop_sessions(db: Session, pairing: Pairing, role: Role, actor: Actor, *, reason: str, now: datetime,
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
        series_flow.withdraw(db, Actor(pairing.mentee_user_id), series.id, reason=reason, now=now)
    elif series.status == SeriesStatus.ACCEPTED:
        with suppress(Conflict):  # nothing left to come
            series_flow.cancel(db, party, series.id, reason=reason, now=now, cause=cause, by=role)
    return held


def pause(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *, reason: str | None = None,
          now: datetime | None = None) -> PairingView:
    """Put an active pairing on hold (either of the pair, or a coordinator): its coming sessions are cancelled."""
    now = now or utcnow()
    pairing, role = load(db, actor, programme_id, pairing_id, lock=True)
    programme = db.get_one(Programme, programme_id)
    PAIRINGS.apply(pairing, PairingAction.PAUSE, role)
    pairing.sessions_before += _stop_sessions(db, pairing, role, actor, reason=reason or "the pairing is paused",
                                              now=now, cause=CancelCause.PAUSE)
    pairing.series_id = None
    record_move(db, EventType.PAIRING_PAUSED, programme, pairing, actor_label(actor, role))
    return _view(db, pairing, role)


def resume(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *,
           first_start: datetime | None = None, now: datetime | None = None) -> PairingView:
    """Go on with a paused pairing: its remaining sessions are asked for again (the mentor accepts them, as at
    first). 409 when none remain or the pair have no time in common."""
    now = now or utcnow()
    pairing, role = load(db, actor, programme_id, pairing_id, lock=True)
    programme = db.get_one(Programme, programme_id)
    PAIRINGS.check(pairing, PairingAction.RESUME, role)
    remaining = pairing.session_count - pairing.sessions_before
    if remaining <= 0:
        raise Conflict("every session of the agreement took place: end the pairing")
    mentee = db.get_one(ProgrammeParticipant, pairing.mentee_participant_id)
    _ask(db, programme, pairing, mentee, count=remaining, first_start=first_start, now=now)
    PAIRINGS.apply(pairing, PairingAction.RESUME, role)
    record_move(db, EventType.PAIRING_RESUMED, programme, pairing, actor_label(actor, role))
    return _view(db, pairing, role)


def end_all_of(db: Session, actor: Actor, participant: ProgrammeParticipant, *, reason: str) -> None:
    """End every live pairing of a participant who leaves or is taken off (the actor: they, or a coordinator)."""
    for pairing_id in db.scalars(select(Pairing.id).where(
            (Pairing.mentor_participant_id == participant.id) | (Pairing.mentee_participant_id == participant.id),
            Pairing.status.in_(LIVE))):
        end(db, actor, participant.programme_id, pairing_id, reason=reason,
            cause=CancelCause.LEAVE if actor.user_id == participant.user_id else CancelCause.REMOVAL)


def end(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *, reason: str | None = None,
        now: datetime | None = None, cause: CancelCause = CancelCause.END) -> PairingView:
    """End a pairing (either of the pair, or a coordinator): its coming sessions are cancelled by the usual rules,
    and both are asked for a closing survey."""
    now = now or utcnow()
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput(f"a reason has at most {MAX_REASON} characters", field="reason")
    pairing, role = load(db, actor, programme_id, pairing_id, lock=True)
    programme = db.get_one(Programme, programme_id)
    PAIRINGS.apply(pairing, PairingAction.END, role)
    pairing.ended_at, pairing.ended_by, pairing.end_reason = now, role.value, (reason or "").strip() or None
    pairing.sessions_before += _stop_sessions(db, pairing, role, actor, reason=reason or "the pairing has ended",
                                              now=now, cause=cause)
    record_move(db, EventType.PAIRING_ENDED, programme, pairing, actor_label(actor, role))
    return _view(db, pairing, role)


def record_ended(db: Session, pairing_ids: Sequence[uuid.UUID]) -> None:
    """``pairing.ended`` for pairings an account's deletion ended (``workflows.accounts.deletion``), by the system."""
    for pairing in db.scalars(select(Pairing).where(Pairing.id.in_(pairing_ids)).order_by(Pairing.id)):
        record_move(db, EventType.PAIRING_ENDED, db.get_one(Programme, pairing.programme_id), pairing,
                    Role.SYSTEM.value)


def answer_survey(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *, rating: int,
                  comment: str = "") -> PairingView:
    """One of the pair says how it went, once it ended: a rating of 1 to 5 and a few words, once (409 again)."""
    pairing, role = load(db, actor, programme_id, pairing_id, lock=True)
    if role not in {Role.MENTOR, Role.MENTEE}:
        raise NotFound("pairing not found")
    if pairing.status != PairingStatus.ENDED:
        raise BusinessRuleViolation("the closing survey opens once the pairing has ended")
    if db.get(PairingSurvey, (pairing.id, actor.user_id)) is not None:
        raise Conflict("you already said how it went")
    db.add(PairingSurvey(pairing_id=pairing.id, user_id=actor.user_id, role=role.value, rating=rating,
                         comment=comment.strip()))
    db.flush()
    # The answer stays with who gave it and the coordinators: the event says only that one was given.
    record(db, EventType.PAIRING_SURVEYED, pairing_payload(db, db.get_one(Programme, programme_id), pairing),
           actor=actor_label(actor, role))
    return _view(db, pairing, role)
