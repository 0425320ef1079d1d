"""Mentor statistics, counted by the analytics worker once per event."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import (
    Booking,
    BookingStatus,
    ListingKind,
    MentorProfile,
    MentorshipSession,
    MentorStats,
    NoShow,
    OutboxEvent,
    Review,
    SessionStatus,
)
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import NotFound
from workflows.events import EventType
from workflows.roles import Role
from workflows.sessions import access as session_access
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
# The months a mentor's numbers cover: this one and the eleven before it, in their profile's timezone.
MONTHS_SHOWN = 12
# A mentee who came back: this many completed sessions with the mentor in those months.
REPEAT_FROM = 2


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
class Month:
    """A month's sessions by how they ended, by the month of their start. ``cancelled`` and ``no_show`` are None
    for anyone but the mentor and administrators."""

    month: str  # "2030-03"
    completed: int
    cancelled: int | None
    no_show: int | None
    missed: int


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
    sessions_per_month: list[Month]
    ratings: dict[str, int]
    mentees: int
    repeat_mentees: int | None


def mentor_stats(db: Session, actor: Actor, mentor_profile_id: uuid.UUID) -> Stats:
    """A mentor's counts and rating. How many sessions they were found absent from (corrections included) is for
    administrators and the mentor; anyone sees it as a share of the sessions whose time came (completed, missed or
    with someone absent) once there are :data:`RATE_SHOWN_FROM` of those.

    The last :data:`MONTHS_SHOWN` months' sessions (each month's cancellations and no-shows for administrators and
    the mentor only), the visible reviews by their stars, and the mentees met in those months (how many came back
    for a second session: administrators and the mentor only)."""
    profile = db.get(MentorProfile, mentor_profile_id)
    if profile is None:
        raise NotFound("mentor profile not found")
    row = db.get(MentorStats, mentor_profile_id)
    absent = attendance.mentor_no_shows(db, mentor_profile_id)
    came_due = (row.sessions_completed + row.sessions_missed + row.sessions_no_show) if row else 0
    own = session_access.reads_own_numbers(actor, mentor_profile_id)
    starts = _month_starts(ZoneInfo(profile.timezone), utcnow())
    months = _months(db, profile, starts)
    mentees, repeat = _mentees(db, mentor_profile_id, starts[0], starts[-1])
    return Stats(
        sessions_completed=row.sessions_completed if row else 0,
        minutes_completed=row.minutes_completed if row else 0,
        sessions_cancelled=row.sessions_cancelled if row else 0,
        sessions_missed=row.sessions_missed if row else 0,
        average_rating=float(profile.rating_average) if profile.rating_average is not None else None,
        reviews_count=profile.rating_count,
        no_show_count=absent if own else None,
        no_show_rate=round(min(absent, came_due) / came_due, 3) if came_due >= RATE_SHOWN_FROM else None,
        sessions_per_month=[month if own else Month(month.month, month.completed, None, None, month.missed)
                            for month in months],
        ratings=_ratings(db, mentor_profile_id),
        mentees=mentees,
        repeat_mentees=repeat if own else None,
    )


def _month_starts(zone: ZoneInfo, now: datetime) -> list[datetime]:
    """The first instants of the last :data:`MONTHS_SHOWN` months in ``zone``, and of the month after them."""
    local = now.astimezone(zone)
    year, month = local.year, local.month
    starts = []
    for back in range(MONTHS_SHOWN - 1, -2, -1):
        y, m = divmod(year * 12 + month - 1 - back, 12)
        starts.append(datetime(y, m + 1, 1, tzinfo=zone).astimezone(UTC))
    return starts


def _months(db: Session, profile: MentorProfile, starts: list[datetime]) -> list[Month]:
    """Each month's sessions by how they ended: one index range of the mentor's sessions
    (``ix_sessions_mentor_start``) counted in SQL, whatever their number. A session the system cancelled was moved
    by agreement: not counted."""
    s = MentorshipSession
    month = func.to_char(func.timezone(literal(profile.timezone), s.start_time), "YYYY-MM")
    rows = db.execute(
        select(month,
               func.count().filter(s.status == SessionStatus.COMPLETED),
               func.count().filter(s.status == SessionStatus.CANCELLED,
                                   s.cancelled_by.is_distinct_from(Role.SYSTEM.value)),
               func.count().filter(s.status.in_([SessionStatus.MENTEE_NO_SHOW, SessionStatus.MENTOR_NO_SHOW])),
               func.count().filter(s.status == SessionStatus.MISSED))
        .where(s.mentor_profile_id == profile.id, s.start_time >= starts[0], s.start_time < starts[-1])
        .group_by(month)
    ).all()
    found = {row[0]: row[1:] for row in rows}
    zone = ZoneInfo(profile.timezone)
    named = [f"{start.astimezone(zone):%Y-%m}" for start in starts[:-1]]
    return [Month(name, *found.get(name, (0, 0, 0, 0))) for name in named]


def _mentees(db: Session, mentor_profile_id: uuid.UUID, since: datetime, until: datetime) -> tuple[int, int]:
    """The mentees of the mentor's sessions completed between ``since`` and ``until`` (a group session's: its seats
    not found absent), and how many of them had two or more."""
    s = MentorshipSession
    window = (s.mentor_profile_id == mentor_profile_id, s.start_time >= since, s.start_time < until,
              s.status == SessionStatus.COMPLETED)
    met = union_all(
        select(s.mentee_user_id.label("mentee")).where(*window, s.kind == ListingKind.INDIVIDUAL),
        select(Booking.mentee_user_id.label("mentee")).select_from(s)
        .join(Booking, Booking.group_session_id == s.id)
        .where(*window, s.kind == ListingKind.GROUP, Booking.status == BookingStatus.ACCEPTED,
               Booking.no_show.is_distinct_from(NoShow.MENTEE)),
    ).subquery()
    per_mentee = select(func.count().label("times")).select_from(met).group_by(met.c.mentee).subquery()
    mentees, repeat = db.execute(
        select(func.count(), func.count().filter(per_mentee.c.times >= REPEAT_FROM)).select_from(per_mentee)).one()
    return mentees, repeat


def _ratings(db: Session, mentor_profile_id: uuid.UUID) -> dict[str, int]:
    """The mentor's visible reviews by their stars, "1" to "5" (the reviews the average is of)."""
    counted: dict[int, int] = dict(db.execute(
        select(Review.rating, func.count())
        .where(Review.mentor_profile_id == mentor_profile_id, Review.hidden_at.is_(None))
        .group_by(Review.rating)
    ).all())
    return {str(stars): counted.get(stars, 0) for stars in range(1, 6)}
