"""Mentor statistics, counted by the analytics worker once per event."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import MentorProfile, MentorStats, OutboxEvent
from workflows.actors import Actor
from workflows.errors import NotFound
from workflows.events import EventType
from workflows.roles import Role
from workflows.sessions import attendance

# Event type -> counter it increments.
COUNTERS: dict[str, str] = {
    EventType.SESSION_COMPLETED: "sessions_completed",
    EventType.SESSION_CANCELLED: "sessions_cancelled",
    EventType.SESSION_MISSED: "sessions_missed",
    EventType.SESSION_NO_SHOW: "sessions_no_show",
}
_COUNTER_COLUMNS = ("sessions_completed", "minutes_completed", "sessions_cancelled", "sessions_missed",
                    "sessions_no_show")
# A mentor's no-show rate is shown to everyone once this many of their sessions' times have come.
RATE_SHOWN_FROM = 10


def _increments(event: OutboxEvent) -> dict[str, int]:
    counter = COUNTERS.get(event.type)
    if counter is None or (event.type == EventType.SESSION_CANCELLED and event.actor == Role.SYSTEM.value):
        return {}  # the system cancels a session only when its booking was moved by agreement: not a cancellation
    increments = {counter: 1}
    if event.type == EventType.SESSION_COMPLETED:
        payload = event.payload
        minutes = datetime.fromisoformat(payload["end_time"]) - datetime.fromisoformat(payload["start_time"])
        increments["minutes_completed"] = int(minutes.total_seconds() // 60)
    return increments


def handle_events(db: Session, events: Sequence[OutboxEvent]) -> None:
    """The analytics handler: a batch's counts added up per mentor, then one upsert for every mentor.

    Mentors are written in id order, so two batches touching the same mentors never deadlock.
    Exactly-once comes from the handler rows claimed by the task.
    """
    totals: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    for event in events:
        increments = _increments(event)
        if increments:
            totals[uuid.UUID(event.payload["mentor_profile_id"])].update(increments)
    if not totals:
        return
    rows = [{"mentor_profile_id": mentor, **{name: totals[mentor][name] for name in _COUNTER_COLUMNS}}
            for mentor in sorted(totals)]
    statement = insert(MentorStats).values(rows)
    db.execute(statement.on_conflict_do_update(
        index_elements=[MentorStats.mentor_profile_id],
        set_={name: getattr(MentorStats, name) + statement.excluded[name] for name in _COUNTER_COLUMNS},
    ))


def handle_event(db: Session, event: OutboxEvent) -> None:
    """:func:`handle_events` for one event."""
    handle_events(db, [event])


@dataclass(frozen=True)
class Stats:
    sessions_completed: int
    minutes_completed: int
    sessions_cancelled: int
    sessions_missed: int
    average_rating: float | None
    reviews_count: int
    no_show_count: int | None
    no_show_rate: float | None


def mentor_stats(db: Session, actor: Actor, mentor_profile_id: uuid.UUID) -> Stats:
    """A mentor's counts and rating. How many sessions they were found absent from (corrections included) is for
    administrators and the mentor; anyone sees it as a share of the sessions whose time came (completed, missed or
    with someone absent) once there are :data:`RATE_SHOWN_FROM` of those."""
    profile = db.get(MentorProfile, mentor_profile_id)
    if profile is None:
        raise NotFound("mentor profile not found")
    row = db.get(MentorStats, mentor_profile_id)
    absent = attendance.mentor_no_shows(db, mentor_profile_id)
    came_due = (row.sessions_completed + row.sessions_missed + row.sessions_no_show) if row else 0
    own = actor.is_admin or actor.mentor_profile_id == mentor_profile_id
    return Stats(
        sessions_completed=row.sessions_completed if row else 0,
        minutes_completed=row.minutes_completed if row else 0,
        sessions_cancelled=row.sessions_cancelled if row else 0,
        sessions_missed=row.sessions_missed if row else 0,
        average_rating=float(profile.rating_average) if profile.rating_average is not None else None,
        reviews_count=profile.rating_count,
        no_show_count=absent if own else None,
        no_show_rate=round(min(absent, came_due) / came_due, 3) if came_due >= RATE_SHOWN_FROM else None,
    )
