"""Replaying missed events from the outbox table for a stream resumed with ``Last-Event-ID``.

A resume that cannot be replayed whole gets a reset instead: the id is unknown (pruned by
retention, or never ours), older than the retention horizon, or followed by more events than
a replay carries. The client then reloads what it shows, rather than silently missing events,
and the table is never scanned from a point retention has passed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import Session

from models import Listing, ListingMember, OutboxEvent
from workflows.clock import utcnow
from workflows.events import concerns_clause, mentor_in
from workflows.live.frames import SLOT_EVENTS

MAX_REPLAY = 500


@dataclass(frozen=True)
class Resume:
    """What a resumed stream sends before its live events."""

    events: list[OutboxEvent] = field(default_factory=list)
    reset: bool = False
    # With a reset: the newest event now, where the client's next resume starts (None: no events at all).
    cursor: uuid.UUID | None = None


def mentors_of_listings(db: Session, listing_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, frozenset[uuid.UUID]]:
    """listing id -> the mentors teaching it (its team, else its owner), for the listings a stream watches."""
    if not listing_ids:
        return {}
    owners: dict[uuid.UUID, uuid.UUID] = dict(
        db.execute(select(Listing.id, Listing.mentor_profile_id).where(Listing.id.in_(listing_ids))).all())
    teams: dict[uuid.UUID, set[uuid.UUID]] = {}
    for listing_id, member in db.execute(select(ListingMember.listing_id, ListingMember.mentor_profile_id)
                                         .where(ListingMember.listing_id.in_(listing_ids))):
        teams.setdefault(listing_id, set()).add(member)
    return {listing_id: frozenset(teams.get(listing_id) or {owner}) for listing_id, owner in owners.items()}


def resume(db: Session, last_event_id: str, horizon: timedelta, *, user_id: uuid.UUID,
           mentor_profile_id: uuid.UUID | None, slot_mentors: Sequence[uuid.UUID]) -> Resume:
    """The events missed since ``last_event_id`` (empty: a fresh stream), or a reset when they cannot all be."""
    if not last_event_id:
        return Resume()
    try:
        last = db.get(OutboxEvent, uuid.UUID(last_event_id))
    except ValueError:
        last = None
    if last is None or last.created_at < utcnow() - horizon:
        return _reset(db)
    events = events_after(db, last, user_id, mentor_profile_id, slot_mentors)
    return _reset(db) if len(events) > MAX_REPLAY else Resume(events)


def _reset(db: Session) -> Resume:
    newest = db.scalar(select(OutboxEvent.id).order_by(OutboxEvent.created_at.desc(), OutboxEvent.id.desc()).limit(1))
    return Resume(reset=True, cursor=newest)


def events_after(db: Session, last: OutboxEvent, user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None,
                 slot_mentors: Sequence[uuid.UUID]) -> list[OutboxEvent]:
    """Up to ``MAX_REPLAY + 1`` events after ``last`` that concern the user or the watched mentors' slots."""
    mine = or_(
        concerns_clause(user_id, mentor_profile_id),
        and_(OutboxEvent.type.in_(SLOT_EVENTS), mentor_in(slot_mentors)),
    )
    return list(db.scalars(
        select(OutboxEvent)
        .where(tuple_(OutboxEvent.created_at, OutboxEvent.id) > (last.created_at, last.id), mine)
        .order_by(OutboxEvent.created_at, OutboxEvent.id)
        .limit(MAX_REPLAY + 1)
    ))
