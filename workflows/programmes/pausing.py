"""A pairing put on hold, and going on: by either of the pair or a coordinator, or by the system on the day its
pauser gave.

A pause cancels the pairing's coming sessions by the usual rules (its series withdrawn if the mentor had not
accepted it yet) and keeps the number held; a pause may name the day it ends (``resume_on``: after today, within a
year and not after the programme's last day). A resume, by hand or on that day, asks for the sessions the agreement
has left as a new series from the next time both are free, proposed until the mentor accepts it, as at first.

On its day (:func:`resume_due`, the beat's ``maintenance.resume_pairings``, UTC days) the system resumes each pairing
whose day has come, one savepoint each, the rows shared between sweeps running at once (SKIP LOCKED). A pairing that
cannot go on (every session held, or no time in common in the next four weeks) stays paused with no day, and its
pair and coordinators are told why (``pairing.not_resumed``): a person decides what comes next.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CancelCause, Pairing, PairingStatus, Programme, ProgrammeParticipant
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, DomainError, InvalidInput
from workflows.events import EventType
from workflows.inbox import told_together
from workflows.programmes.lifecycle import actor_label
from workflows.programmes.pairings import (
    PAIRINGS,
    PairingAction,
    PairingView,
    ask,
    load,
    record_move,
    stop_sessions,
    view,
)
from workflows.roles import Role

RESUME_WITHIN = timedelta(days=366)
RESUME_BATCH = 100


def _check_day(programme: Programme, resume_on: date, today: date) -> None:
    if not today < resume_on <= today + RESUME_WITHIN:
        raise InvalidInput("a pause ends after today and within a year: from {earliest} to {latest}",
                           words={"earliest": today + timedelta(days=1), "latest": today + RESUME_WITHIN},
                           field="resume_on")
    if programme.ends_on is not None and resume_on > programme.ends_on:
        raise BusinessRuleViolation("the programme ends on {ends_on}: resume the pairing before then, or end it",
                                    words={"ends_on": programme.ends_on.isoformat()}, field="resume_on")


def pause(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *, reason: str | None = None,
          resume_on: date | None = None, now: datetime | None = None) -> PairingView:
    """Put an active pairing on hold (either of the pair, or a coordinator), until ``resume_on`` if given: its coming
    sessions are cancelled."""
    now = now or utcnow()
    pairing, role = load(db, actor, programme_id, pairing_id, lock=True)
    programme = db.get_one(Programme, programme_id)
    PAIRINGS.check(pairing, PairingAction.PAUSE, role)
    if resume_on is not None:
        _check_day(programme, resume_on, now.date())
    reason = (reason or "").strip() or None
    PAIRINGS.apply(pairing, PairingAction.PAUSE, role)
    with told_together(db) as cancelled:
        pairing.sessions_before += stop_sessions(db, pairing, role, actor, reason=reason or "the pairing is paused",
                                                 now=now, cause=CancelCause.PAUSE)
    pairing.series_id, pairing.resume_on = None, resume_on
    record_move(db, EventType.PAIRING_PAUSED, programme, pairing, actor_label(actor, role), cancelled=cancelled,
                reason=reason)
    return view(db, pairing, role)


def _go_on(db: Session, programme: Programme, pairing: Pairing, role: Role, actor: str, *,
           first_start: datetime | None, now: datetime) -> None:
    PAIRINGS.check(pairing, PairingAction.RESUME, role)
    remaining = pairing.session_count - pairing.sessions_before
    if remaining <= 0:
        raise Conflict("every session of the agreement took place: end the pairing", reason="sessions_all_held")
    mentee = db.get_one(ProgrammeParticipant, pairing.mentee_participant_id)
    ask(db, programme, pairing, mentee, count=remaining, first_start=first_start, now=now)
    PAIRINGS.apply(pairing, PairingAction.RESUME, role)
    pairing.resume_on = None
    record_move(db, EventType.PAIRING_RESUMED, programme, pairing, actor)


def resume(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *,
           first_start: datetime | None = None, now: datetime | None = None) -> PairingView:
    """Go on with a paused pairing (before its day, if it has one): its remaining sessions are asked for again (the
    mentor accepts them, as at first). 409 when none remain or the pair have no time in common."""
    now = now or utcnow()
    pairing, role = load(db, actor, programme_id, pairing_id, lock=True)
    _go_on(db, db.get_one(Programme, programme_id), pairing, role, actor_label(actor, role), first_start=first_start,
           now=now)
    return view(db, pairing, role)


def resume_due(db: Session, *, now: datetime | None = None, batch: int = RESUME_BATCH) -> int:
    """Resume, as the system, the paused pairings whose day has come (at most ``batch``; the next sweep takes the
    rest); one that cannot go on stays paused, its day dropped, and its people are told why. How many were due."""
    now = now or utcnow()
    due = list(db.scalars(select(Pairing).where(Pairing.status == PairingStatus.PAUSED,
                                                Pairing.resume_on <= now.date())
                          .order_by(Pairing.resume_on, Pairing.id).limit(batch).with_for_update(skip_locked=True)))
    for pairing in due:
        programme = db.get_one(Programme, pairing.programme_id)
        try:
            with db.begin_nested():
                _go_on(db, programme, pairing, Role.SYSTEM, Role.SYSTEM.value, first_start=None, now=now)
        except DomainError as refusal:
            pairing.resume_on = None
            record_move(db, EventType.PAIRING_NOT_RESUMED, programme, pairing, Role.SYSTEM.value,
                        reason=refusal.message)
    return len(due)
