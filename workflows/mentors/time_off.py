"""A mentor's time off and date overrides: set whole, in the mentor's timezone, and what they touch.

Setting either takes the mentor's schedule lock (``workflows.scheduling.commitments``), as requests and accepts do, so
no request slips past a period being closed. Pending requests the change makes impossible are declined by the
system at once (the mentee is told why, with the listing's next free times). Accepted bookings and group
sessions inside new time off are never cancelled silently: the answer lists them, and the mentor cancels each
through the normal workflow (``POST /sessions/{id}/cancel``), where a cancellation by the mentor never costs
the mentee a fee. Each change is recorded as ``schedule.changed``: the mentor's history, webhooks, and a live
update to everyone watching the slots of the mentor's listings.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from models import Booking, BookingStatus, DateOverride, ListingKind, MentorProfile, MentorshipSession, TimeOff
from workflows.actors import Actor
from workflows.bookings import lifecycle as bookings
from workflows.clock import utcnow
from workflows.errors import Forbidden, InvalidInput
from workflows.events import EventType, record
from workflows.mentors.profiles import get_mentor_profile
from workflows.payloads import ScheduleChange, schedule_payload
from workflows.people import NamedBooking, NamedSession, name_bookings, name_sessions
from workflows.scheduling.commitments import LIVE, lock_mentor_schedule
from workflows.scheduling.hours import Hours, fits_hours

MAX_TIME_OFF = 50
MAX_OVERRIDES = 120
MAX_HOURS_PER_DAY = 8
# The accepted bookings and group sessions inside time off an answer lists, each, the earliest first.
MAX_LISTED = 100


@dataclass(frozen=True)
class TimeOffSpec:
    """A period away, in the mentor's wall clock (naive) or as instants; ``end`` None: until further notice."""

    start: datetime
    end: datetime | None
    note: str = ""


@dataclass(frozen=True)
class TimeOffView:
    """The mentor's time off, and what still stands inside it."""

    timezone: str
    ranges: list[TimeOff]
    affected_bookings: list[NamedBooking]
    affected_group_sessions: list[NamedSession]
    declined_requests: list[uuid.UUID]


@dataclass(frozen=True)
class OverridesView:
    timezone: str
    overrides: list[DateOverride]
    declined_requests: list[uuid.UUID]


def _own_profile(db: Session, actor: Actor, profile_id: uuid.UUID) -> MentorProfile:
    profile = get_mentor_profile(db, profile_id)
    if profile.user_id != actor.user_id:
        raise Forbidden("only the mentor can see and change their time off and date overrides")
    return profile


def _instant(moment: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in the mentor's zone (or an instant, kept) as an instant."""
    return (moment.replace(tzinfo=zone) if moment.tzinfo is None else moment).astimezone(UTC)


# --- time off -------------------------------------------------------------------------------------------------


def get_time_off(db: Session, actor: Actor, profile_id: uuid.UUID, *, now: datetime | None = None) -> TimeOffView:
    profile = _own_profile(db, actor, profile_id)
    return _time_off_view(db, actor, profile, [], now or utcnow())


def set_time_off(db: Session, actor: Actor, profile_id: uuid.UUID, ranges: Sequence[TimeOffSpec], *,
                 now: datetime | None = None) -> TimeOffView:
    """Replace the mentor's time off. Periods already over are not kept; overlapping ones are refused (422)."""
    now = now or utcnow()
    profile = _own_profile(db, actor, profile_id)
    zone = ZoneInfo(profile.timezone)
    periods = sorted(((_instant(r.start, zone), _instant(r.end, zone) if r.end else None, r.note.strip())
                      for r in ranges), key=lambda p: p[0])
    for start, end, _note in periods:
        if end is not None and end <= start:
            raise InvalidInput("time off must end after it starts", start=start.isoformat())
    for (_, earlier_end, _n), (later_start, _e, _m) in pairwise(periods):
        if earlier_end is None or later_start < earlier_end:
            raise InvalidInput("time off periods must not overlap", start=later_start.isoformat())
    kept = [p for p in periods if p[1] is None or p[1] > now]
    lock_mentor_schedule(db, profile.id)
    before = [(t.start_time, t.end_time) for t in _ranges(db, profile.id) if t.end_time is None or t.end_time > now]
    db.execute(delete(TimeOff).where(TimeOff.mentor_profile_id == profile.id))
    db.add_all(TimeOff(id=uuid.uuid4(), mentor_profile_id=profile.id, start_time=start, end_time=end, note=note)
               for start, end, note in kept)
    db.flush()
    declined: list[uuid.UUID] = []
    for start, end, _note in kept:
        declined += [d.id for d in bookings.settle_clashes(db, start=start, end=end or _FOREVER, now=now,
                                                            mentor_profile_id=profile.id, reason=bookings.AWAY)]
    after = [(start, end) for start, end, _note in kept]
    if before != after:
        _record_change(db, actor, profile.id, ScheduleChange.TIME_OFF, before + after)
    return _time_off_view(db, actor, profile, declined, now)


_FOREVER = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


def _ranges(db: Session, profile_id: uuid.UUID) -> list[TimeOff]:
    return list(db.scalars(select(TimeOff).where(TimeOff.mentor_profile_id == profile_id)
                           .order_by(TimeOff.start_time)))


def _time_off_view(db: Session, actor: Actor, profile: MentorProfile, declined: list[uuid.UUID], now: datetime
                   ) -> TimeOffView:
    ranges = [r for r in _ranges(db, profile.id) if r.end_time is None or r.end_time > now]
    affected: list[Booking] = []
    sessions: list[MentorshipSession] = []
    if ranges:
        affected = list(db.scalars(select(Booking).where(
            Booking.mentor_profile_id == profile.id, Booking.status == BookingStatus.ACCEPTED,
            Booking.group_session_id.is_(None), Booking.end_time > now,
            or_(*(_meets(r, Booking.start_time, Booking.end_time) for r in ranges)))
            .order_by(Booking.start_time).limit(MAX_LISTED)))
        sessions = list(db.scalars(select(MentorshipSession).where(
            MentorshipSession.mentor_profile_id == profile.id, MentorshipSession.kind == ListingKind.GROUP,
            MentorshipSession.status.in_(LIVE),
            or_(*(_meets(r, MentorshipSession.start_time, MentorshipSession.end_time) for r in ranges)))
            .order_by(MentorshipSession.start_time).limit(MAX_LISTED)))
    return TimeOffView(profile.timezone, ranges, name_bookings(db, affected), name_sessions(db, actor, sessions),
                       declined)


def _meets(period: TimeOff, start: InstrumentedAttribute[datetime], end: InstrumentedAttribute[datetime]
           ) -> ColumnElement[bool]:
    """SQL: [start, end) meets the period."""
    if period.end_time is None:
        return end > period.start_time
    return and_(start < period.end_time, end > period.start_time)


def _record_change(db: Session, actor: Actor, profile_id: uuid.UUID, change: ScheduleChange,
                   periods: Sequence[tuple[datetime, datetime | None]]) -> None:
    """``schedule.changed`` over the span the change touched (without end when a period has none)."""
    ends = [end for _start, end in periods]
    record(db, EventType.SCHEDULE_CHANGED, schedule_payload(
        profile_id, change, min(start for start, _end in periods),
        None if None in ends else max(end for end in ends if end is not None)), actor=str(actor))


# --- date overrides ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverrideSpec:
    day: date
    hours: Hours  # none: not available that date


def get_date_overrides(db: Session, actor: Actor, profile_id: uuid.UUID, *, now: datetime | None = None
                       ) -> OverridesView:
    profile = _own_profile(db, actor, profile_id)
    return OverridesView(profile.timezone, _overrides(db, profile, now or utcnow()), [])


def _overrides(db: Session, profile: MentorProfile, now: datetime) -> list[DateOverride]:
    today = now.astimezone(ZoneInfo(profile.timezone)).date()
    return list(db.scalars(select(DateOverride).where(DateOverride.mentor_profile_id == profile.id,
                                                      DateOverride.day >= today).order_by(DateOverride.day)))


def set_date_overrides(db: Session, actor: Actor, profile_id: uuid.UUID, overrides: Sequence[OverrideSpec], *,
                       now: datetime | None = None) -> OverridesView:
    """Replace the mentor's date overrides (dates before today, in the mentor's timezone, are not kept). Pending
    requests on a date whose new hours no longer hold them are declined by the system."""
    now = now or utcnow()
    profile = _own_profile(db, actor, profile_id)
    zone = ZoneInfo(profile.timezone)
    today = now.astimezone(zone).date()
    days = [o.day for o in overrides]
    if len(set(days)) != len(days):
        raise InvalidInput("give each date once")
    for override in overrides:
        ordered = sorted(override.hours)
        for (_s, earlier_end), (later_start, _e) in pairwise(ordered):
            if later_start < earlier_end:
                raise InvalidInput("the hours of one date must not overlap", date=override.day.isoformat())
    lock_mentor_schedule(db, profile.id)
    before = {o.day: tuple((s, e) for s, e in o.hours) for o in _overrides(db, profile, now)}
    after = {o.day: tuple(sorted(o.hours)) for o in overrides if o.day >= today}
    db.execute(delete(DateOverride).where(DateOverride.mentor_profile_id == profile.id))
    db.add_all(DateOverride(id=uuid.uuid4(), mentor_profile_id=profile.id, day=day, hours=[list(h) for h in hours])
               for day, hours in sorted(after.items()))
    db.flush()
    declined = _decline_outside(db, profile, after, now)
    changed = sorted(day for day in set(before) | set(after) if before.get(day) != after.get(day))
    if changed:
        _record_change(db, actor, profile.id, ScheduleChange.DATE_OVERRIDES,
                       [(_day_start(changed[0], zone), _day_start(changed[-1] + timedelta(days=1), zone))])
    return OverridesView(profile.timezone, _overrides(db, profile, now), declined)


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)


def _decline_outside(db: Session, profile: MentorProfile, overrides: dict[date, Hours], now: datetime
                     ) -> list[uuid.UUID]:
    """Decline the mentor's pending requests on an overridden date that its hours no longer hold."""
    if not overrides:
        return []
    zone = ZoneInfo(profile.timezone)
    first, last = min(overrides), max(overrides)
    drafts = db.scalars(select(Booking).where(
        Booking.mentor_profile_id == profile.id, Booking.status == BookingStatus.DRAFT,
        Booking.start_time >= _day_start(first, zone), Booking.start_time < _day_start(last + timedelta(days=1), zone))
        .order_by(Booking.id).with_for_update().execution_options(populate_existing=True)).all()
    outside = [d for d in drafts if d.status == BookingStatus.DRAFT
               and (day := d.start_time.astimezone(zone).date()) in overrides
               and not fits_hours(overrides[day], zone, d.start_time, d.end_time)]
    bookings.decline_by_system(db, outside, now=now, reason=bookings.HOURS_CHANGED)
    return [d.id for d in outside]
