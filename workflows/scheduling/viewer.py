"""A listing's free slots as the person looking at them sees them: the times they cannot take themselves (they
already meet someone then: a request would be refused) and the times other people have already asked the mentor
for (counted, never named).

Free slots are the mentor's; these marks are the viewer's, read in two more statements over the same range.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from infra.sql import statuses
from models import BookingStatus, Listing, SessionStatus
from workflows.actors import Actor
from workflows.scheduling.slots import Slot
from workflows.scheduling.teams import teacher_ids


@dataclass(frozen=True)
class ViewedSlot:
    start_time: datetime
    end_time: datetime
    viewer_busy: bool
    requested_by_others: int


# The viewer's own meetings: accepted bookings and seats as mentee, and as mentor their accepted bookings and group
# sessions not cancelled (what refuses a request of theirs, or makes them double-booked).
_VIEWER_BUSY = statuses("""
    SELECT start_time, end_time FROM bookings
    WHERE status = :accepted AND (mentee_user_id = :user OR mentor_profile_id = :profile)
      AND start_time < :end AND end_time > :start
    UNION ALL
    SELECT start_time, end_time FROM sessions
    WHERE mentor_profile_id = :profile AND status <> :cancelled
      AND start_time < :end AND end_time > :start
""", accepted=BookingStatus.ACCEPTED, cancelled=SessionStatus.CANCELLED)

# Other people's pending requests its accept would settle: to the listing's mentor (any listing of theirs); for a
# team listing, to this listing (a member free at that time may still take both).
_OTHERS_REQUESTED = statuses("""
    SELECT start_time, end_time FROM bookings
    WHERE status = :draft AND mentee_user_id <> :user
      AND mentor_profile_id = ANY(:teachers) AND (CAST(:listing AS uuid) IS NULL OR listing_id = :listing)
      AND start_time < :end AND end_time > :start
""", draft=BookingStatus.DRAFT)


def view_slots(db: Session, listing: Listing, slots: Sequence[Slot], actor: Actor) -> list[ViewedSlot]:
    """``slots`` (sorted, of ``listing``) with what they mean to ``actor``."""
    if not slots:
        return []
    window = {"start": slots[0].start_time, "end": slots[-1].end_time, "user": actor.user_id}
    busy = _intervals(db.execute(_VIEWER_BUSY, {**window, "profile": actor.mentor_profile_id or uuid.UUID(int=0)}))
    teachers = teacher_ids(db, listing)
    asked = _intervals(db.execute(_OTHERS_REQUESTED, {**window, "teachers": teachers,
                                                      "listing": listing.id if len(teachers) > 1 else None}))
    return [ViewedSlot(slot.start_time, slot.end_time, _overlapping(busy, slot) > 0, _overlapping(asked, slot))
            for slot in slots]


def _intervals(rows: object) -> list[tuple[datetime, datetime]]:
    return sorted((start, end) for start, end in rows)  # type: ignore[attr-defined]


def _overlapping(intervals: list[tuple[datetime, datetime]], slot: Slot) -> int:
    """How many of the sorted ``intervals`` overlap the slot: those starting before its end and ending after
    its start (intervals are a handful per viewer, slots at most a few thousand)."""
    before_end = bisect_left(intervals, (slot.end_time,))
    return sum(1 for start, end in intervals[:before_end] if end > slot.start_time and start < slot.end_time)
