"""The platform's numbers for its admins, over the last ``days`` days (UTC): sessions created per day, how many
booking requests became sessions, how long the steps between took, and what was refused, by rule.

Everything is counted from durable rows, so every process answers alike and a restart loses nothing. Refusals are
the ones rows keep: requests a mentor declined or left to expire, failed sign-ins (wrong password, or a disabled
account), lock-outs and reused refresh tokens. A request refused at the door (an overlap, too little notice, a
limit) writes no row: ``/metrics`` counts those per route and status only, as operators see them.

Each query is bounded to the window by an index on ``created_at`` (``ix_bookings_created``,
``ix_sessions_created``, ``ix_auth_events_created``); three queries in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Date, Float, case, cast, extract, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from models import AuthEvent, AuthEventKind, Booking, BookingStatus, MentorshipSession
from workflows.clock import utcnow
from workflows.errors import InvalidInput

MAX_DAYS = 90
# Refusals the rows keep, by rule: what the count is of.
REFUSAL_RULES = {
    "booking_declined": "booking requests the mentor declined",
    "booking_expired": "booking requests left unanswered until they expired",
    AuthEventKind.SIGN_IN_FAILED.value: "sign-ins refused (a wrong password, or a disabled account)",
    AuthEventKind.LOCKED_OUT.value: "sign-ins refused by the lock-out after repeated failures",
    AuthEventKind.REFRESH_REUSED.value: "refresh tokens presented again after use (their sign-in ended)",
}
_AUTH_REFUSALS = (AuthEventKind.SIGN_IN_FAILED, AuthEventKind.LOCKED_OUT, AuthEventKind.REFRESH_REUSED)


@dataclass(frozen=True)
class DayCount:
    day: date
    sessions: int


@dataclass(frozen=True)
class Durations:
    """How long a step took, in seconds, over the ``count`` times it was taken in the window."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class Refusals:
    rule: str
    description: str
    count: int


@dataclass(frozen=True)
class PlatformNumbers:
    days: int
    since: datetime
    until: datetime
    sessions_per_day: list[DayCount]
    bookings_requested: int
    bookings_accepted: int
    bookings_became_sessions: int
    conversion: float | None
    requested_to_accepted: Durations
    accepted_to_scheduled: Durations
    refusals: list[Refusals]


def _seconds(later: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
             earlier: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None]) -> ColumnElement[float]:
    return cast(extract("epoch", later - earlier), Float)


def _durations(count: int | None, median: float | None, p90: float | None) -> Durations:
    return Durations(int(count or 0), float(median) if median is not None else None,
                     float(p90) if p90 is not None else None)


def platform_numbers(db: Session, *, days: int, now: datetime | None = None) -> PlatformNumbers:
    """The numbers of the last ``days`` days (1 to ``MAX_DAYS``), today's so far included."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("days is 1 to {max_days}", words={"max_days": MAX_DAYS}, field="days")
    until = now or utcnow()
    first_day = until.astimezone(UTC).date() - timedelta(days=days - 1)
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)

    day = cast(func.timezone("UTC", MentorshipSession.created_at), Date)
    per_day: dict[date, int] = dict(db.execute(
        select(day, func.count()).where(MentorshipSession.created_at >= since).group_by(day)).all())

    # One-to-one requests of the window (a group seat never becomes a session of its own), each with its session.
    had_session = MentorshipSession.id.is_not(None)
    accepted = or_(had_session, Booking.status == BookingStatus.ACCEPTED)
    waited = case((accepted & ~Booking.instant & Booking.decided_at.is_not(None),
                   _seconds(Booking.decided_at, Booking.created_at)))
    scheduled = case((had_session & Booking.decided_at.is_not(None),
                      _seconds(MentorshipSession.created_at, Booking.decided_at)))
    row = db.execute(
        select(func.count(), func.count().filter(accepted), func.count(MentorshipSession.id),
               func.count().filter(Booking.status == BookingStatus.DECLINED),
               func.count().filter(Booking.status == BookingStatus.EXPIRED),
               func.count(waited), func.percentile_cont(0.5).within_group(waited),
               func.percentile_cont(0.9).within_group(waited),
               func.count(scheduled), func.percentile_cont(0.5).within_group(scheduled),
               func.percentile_cont(0.9).within_group(scheduled))
        .select_from(Booking).outerjoin(MentorshipSession, MentorshipSession.booking_id == Booking.id)
        .where(Booking.created_at >= since, Booking.group_session_id.is_(None))
    ).one()
    requested, accepted_count, became, declined, expired = (int(value) for value in row[:5])

    auth: dict[AuthEventKind, int] = dict(db.execute(
        select(AuthEvent.kind, func.count()).where(AuthEvent.created_at >= since, AuthEvent.kind.in_(_AUTH_REFUSALS))
        .group_by(AuthEvent.kind)).all())
    counts = {"booking_declined": declined, "booking_expired": expired,
              **{kind.value: int(auth.get(kind, 0)) for kind in _AUTH_REFUSALS}}
    return PlatformNumbers(
        days=days, since=since, until=until,
        sessions_per_day=[DayCount(first_day + timedelta(days=offset), int(per_day.get(first_day + timedelta(
            days=offset), 0))) for offset in range(days)],
        bookings_requested=requested, bookings_accepted=accepted_count, bookings_became_sessions=became,
        conversion=round(became / requested, 4) if requested else None,
        requested_to_accepted=_durations(*row[5:8]), accepted_to_scheduled=_durations(*row[8:11]),
        refusals=[Refusals(rule, REFUSAL_RULES[rule], counts[rule]) for rule in REFUSAL_RULES])
