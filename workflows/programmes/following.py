"""A pairing follows the answer to its series (the handler ``sessions.follow_pairings`` of the series' events, run
once per event by the outbox): accepted, the pairing is active; declined or withdrawn before that, it ends; an active
pairing whose series was cancelled to its end from the series' own page ends too."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import OutboxEvent, Pairing, PairingStatus, Programme, SeriesStatus
from workflows.clock import utcnow
from workflows.events import EventType
from workflows.programmes.pairings import PAIRINGS, PairingAction, record_move
from workflows.roles import Role

FOLLOW_HANDLER = "sessions.follow_pairings"


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
            record_move(db, EventType.PAIRING_ACTIVATED, programme, pairing, event.actor or Role.SYSTEM.value)
        elif event.payload.get("status") in {SeriesStatus.DECLINED.value, SeriesStatus.WITHDRAWN.value}:
            PAIRINGS.apply(pairing, PairingAction.END, Role.SYSTEM)
            declined = event.payload.get("status") == SeriesStatus.DECLINED.value
            pairing.ended_at, pairing.ended_by = utcnow(), Role.MENTOR.value if declined else Role.SYSTEM.value
            pairing.end_reason = "the mentor declined its sessions" if declined else "its sessions were withdrawn"
            record_move(db, EventType.PAIRING_ENDED, programme, pairing, event.actor or Role.SYSTEM.value)
