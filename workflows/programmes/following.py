"""A pairing follows the answer to its series (the handler ``sessions.follow_pairings`` of the series' events, run
once per event by the outbox): accepted, the pairing is active; declined or withdrawn before that, it ends; an active
pairing whose series was cancelled to its end ends too.

A series withdrawn or cancelled to its end from the series' own page by one of a live pairing's pair is the pairing
ended by them, at once (``withdraw_series``, ``cancel_series``): its one message tells each person of the sessions
it cancelled, as an end from the pairing's page does, instead of one message per session and two more."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import BookingSeries, OutboxEvent, Pairing, PairingStatus, Programme, SeriesStatus
from workflows.actors import Actor
from workflows.bookings import series as series_flow
from workflows.clock import utcnow
from workflows.errors import InvalidInput
from workflows.events import EventType
from workflows.programmes import plans
from workflows.programmes.pairings import PAIRINGS, PairingAction, end, record_move
from workflows.roles import Role

FOLLOW_HANDLER = "sessions.follow_pairings"


def _pair_of(db: Session, actor: Actor, series_id: uuid.UUID, status: PairingStatus, *, mentor: bool
             ) -> Pairing | None:
    """The pairing in ``status`` whose series this is, when the actor is its mentee (or its mentor)."""
    mine = Pairing.mentee_user_id == actor.user_id
    if mentor and actor.mentor_profile_id is not None:
        mine = mine | (Pairing.mentor_profile_id == actor.mentor_profile_id)
    return db.scalar(select(Pairing).where(Pairing.series_id == series_id, Pairing.status == status, mine))


def withdraw_series(db: Session, actor: Actor, series_id: uuid.UUID, *, reason: str | None = None
                    ) -> BookingSeries:
    """Withdraw a series before it is answered (its mentee); a proposed pairing's ends with it, told once."""
    pairing = _pair_of(db, actor, series_id, PairingStatus.PROPOSED, mentor=False)
    if pairing is None:
        return series_flow.withdraw(db, actor, series_id, reason=reason)
    end(db, actor, pairing.programme_id, pairing.id, reason=reason or "its sessions were withdrawn")
    return db.get_one(BookingSeries, series_id)


def cancel_series(db: Session, actor: Actor, series_id: uuid.UUID, *, from_time: datetime | None = None,
                  reason: str | None = None) -> BookingSeries:
    """Cancel a series from ``from_time`` on; an active pairing's cancelled from now to its end ends the pairing."""
    pairing = _pair_of(db, actor, series_id, PairingStatus.ACTIVE, mentor=True)
    if pairing is None or (from_time is not None and from_time > utcnow()):
        return series_flow.cancel(db, actor, series_id, from_time=from_time, reason=reason)
    if pairing.mentor_profile_id == actor.mentor_profile_id and not (reason or "").strip():
        raise InvalidInput("tell the mentee why the series ends", field="reason")
    end(db, actor, pairing.programme_id, pairing.id, reason=reason or "its sessions were cancelled")
    return db.get_one(BookingSeries, series_id)


def follow_series(db: Session, events: Sequence[OutboxEvent]) -> None:
    """A series' answer moves its pairing: accepted, the pairing is active; declined or withdrawn before it was,
    the pairing ends (the system's doing, with the reason); an active pairing whose series was cancelled to its end
    from the series' own page ends too."""
    for event in events:
        pairing = db.scalar(select(Pairing).where(Pairing.series_id == event.aggregate_id).with_for_update())
        if pairing is None or pairing.status not in {PairingStatus.PROPOSED, PairingStatus.ACTIVE}:
            continue
        programme = db.get_one(Programme, pairing.programme_id)
        if pairing.status == PairingStatus.ACTIVE:
            if event.payload.get("status") == SeriesStatus.ENDED.value:  # its sessions cancelled from a series' page
                PAIRINGS.apply(pairing, PairingAction.END, Role.SYSTEM)
                pairing.ended_at, pairing.ended_by = utcnow(), Role.SYSTEM.value
                pairing.end_reason = "its sessions were cancelled"
                record_move(db, EventType.PAIRING_ENDED, programme, pairing, event.actor or Role.SYSTEM.value)
            continue
        if event.type == EventType.BOOKING_SERIES_ACCEPTED:
            PAIRINGS.apply(pairing, PairingAction.ACTIVATE, Role.SYSTEM)
            pairing.activated_at = pairing.activated_at or utcnow()
            plans.copy_onto(db, pairing)  # its own copy of the programme's plan, this once
            record_move(db, EventType.PAIRING_ACTIVATED, programme, pairing, event.actor or Role.SYSTEM.value)
        elif event.payload.get("status") in {SeriesStatus.DECLINED.value, SeriesStatus.WITHDRAWN.value}:
            PAIRINGS.apply(pairing, PairingAction.END, Role.SYSTEM)
            declined = event.payload.get("status") == SeriesStatus.DECLINED.value
            pairing.ended_at, pairing.ended_by = utcnow(), Role.MENTOR.value if declined else Role.SYSTEM.value
            pairing.end_reason = "the mentor declined its sessions" if declined else "its sessions were withdrawn"
            record_move(db, EventType.PAIRING_ENDED, programme, pairing, event.actor or Role.SYSTEM.value)
