"""Replaying missed events from the outbox table for a stream resumed with ``Last-Event-ID``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import and_, false, or_, select, tuple_
from sqlalchemy.orm import Session

from models import Listing, OutboxEvent
from workflows.live import SLOT_EVENTS

MAX_REPLAY = 500


def mentors_of_listings(db: Session, listing_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """listing id -> mentor profile id, for the listings a stream watches."""
    if not listing_ids:
        return {}
    rows = db.execute(select(Listing.id, Listing.mentor_profile_id).where(Listing.id.in_(listing_ids))).all()
    return dict(rows)


def events_after(db: Session, last_event_id: uuid.UUID, user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None,
                 slot_mentors: Sequence[uuid.UUID]) -> list[OutboxEvent]:
    """Events after ``last_event_id`` that concern the user or the watched mentors' slots."""
    last = db.get(OutboxEvent, last_event_id)
    if last is None:
        return []
    me = str(user_id)
    mine = or_(
        OutboxEvent.payload["mentee_user_id"].astext == me,
        OutboxEvent.payload["mentee_user_ids"].contains([me]),
        OutboxEvent.payload["mentor_profile_id"].astext == str(mentor_profile_id) if mentor_profile_id else false(),
        and_(OutboxEvent.type.in_(SLOT_EVENTS),
             OutboxEvent.payload["mentor_profile_id"].astext.in_([str(m) for m in slot_mentors]))
        if slot_mentors else false(),
    )
    return list(db.scalars(
        select(OutboxEvent)
        .where(tuple_(OutboxEvent.created_at, OutboxEvent.id) > (last.created_at, last.id), mine)
        .order_by(OutboxEvent.created_at, OutboxEvent.id)
        .limit(MAX_REPLAY)
    ))
