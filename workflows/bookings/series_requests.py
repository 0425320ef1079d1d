"""A mentee's request of a series: its weekly times in the mentor's zone (a time that does not exist there, or is
taken, left out), each checked as a single request would be, previewed, then asked for at once with its bundle's
credits. The mentor's answer is ``workflows.bookings.series``."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Booking, BookingSeries, BookingStatus, BundlePurchase, CreditStatus, Listing
from models.bookings.series import MAX_OCCURRENCES
from models.enums import SeriesStatus
from workflows import questions
from workflows.actors import Actor
from workflows.bookings import limits as request_limits
from workflows.bookings import requests
from workflows.bookings import series as series_flow
from workflows.bookings.bundles import reserve_credit
from workflows.bookings.series import series_payload
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, InvalidInput, NotFound
from workflows.events import EventType, record
from workflows.scheduling import checks
from workflows.scheduling import rules as scheduling
from workflows.scheduling.commitments import lock_mentor_schedule, mentee_commitments
from workflows.scheduling.hours import Hours, weekly_hours
from workflows.scheduling.teams import assign_mentor

DROPPED = "dropped by the mentee"

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Shape:
    """What a series asks for: its first start, how often, and how many times (or until which local date)."""

    listing_id: uuid.UUID
    first_start: datetime
    every_weeks: int
    count: int | None = None
    until: date | None = None
    exclude: tuple[datetime, ...] = ()
    moves: Mapping[datetime, datetime] | None = None  # a time of the series -> the time asked for instead
    mentor_profile_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Planned:
    """One time of a series, as checked: free, or left out with the reason (and the rule, when one refused it)."""

    start: datetime
    end: datetime
    free: bool
    reason: str | None = None
    rule: str | None = None
    moved_from: datetime | None = None


def times(zone: ZoneInfo, shape: Shape) -> list[datetime]:
    """The series' starts: the first one's local wall-clock time every ``every_weeks`` weeks, ``count`` times or
    until the local date ``until`` (at most ``MAX_OCCURRENCES``; 422 beyond)."""
    if shape.every_weeks not in (1, 2):
        raise InvalidInput("a series meets every 1 or 2 weeks", field="every")
    if (shape.count is None) == (shape.until is None):
        raise InvalidInput("give either `count` or `until`", field="count")
    wall = shape.first_start.astimezone(zone).replace(tzinfo=None)
    if shape.until is not None and shape.until < wall.date():
        raise InvalidInput("`until` is before the first time", field="until")
    found: list[datetime] = []
    step = timedelta(weeks=shape.every_weeks)
    while len(found) < (shape.count or MAX_OCCURRENCES + 1):
        local = wall + step * len(found)
        if shape.until is not None and local.date() > shape.until:
            break
        found.append(local.replace(tzinfo=zone).astimezone(UTC))
    if len(found) > MAX_OCCURRENCES or (shape.count or 0) > MAX_OCCURRENCES:
        raise InvalidInput("a series has at most {max_occurrences} times: choose an earlier last date",
                           words={"max_occurrences": MAX_OCCURRENCES},
                           field="until" if shape.until else "count")
    return found


def _exists(moment: datetime, zone: ZoneInfo) -> bool:
    """Whether the local wall-clock time exists that day (not skipped by clocks going forward)."""
    local = moment.astimezone(zone)
    return local.replace(tzinfo=None).replace(tzinfo=zone).astimezone(UTC) == moment


@dataclass(frozen=True)
class _Asking:
    """Who asks whom for what: what each time of a series is checked against."""

    actor: Actor
    listing: Listing
    rules: scheduling.ListingRules
    mentor_id: uuid.UUID
    zone: ZoneInfo
    weekly: Mapping[int, Hours] | None
    now: datetime

    @classmethod
    def of(cls, db: Session, actor: Actor, shape: Shape, now: datetime, listing: Listing | None = None) -> _Asking:
        listing = listing or requests.bookable_listing(db, actor, shape.listing_id)
        rules = scheduling.ListingRules.of(listing)
        mentor = assign_mentor(db, actor, listing, rules, requested=shape.mentor_profile_id,
                               start=shape.first_start, end=shape.first_start + rules.duration, now=now)
        return cls(actor, listing, rules, mentor.id, ZoneInfo(mentor.timezone), weekly_hours(mentor.availability),
                   now)


@dataclass(frozen=True)
class _MenteeTimes:
    """What the mentee holds that a series' times must not meet, read once for all of them: their accepted bookings
    and seats, and the times of this listing they asked for already."""

    busy: list[tuple[datetime, datetime]]
    asked: set[datetime]

    @classmethod
    def of(cls, db: Session, asking: _Asking, starts: Sequence[datetime]) -> _MenteeTimes:
        if not starts:
            return cls([], set())
        mentee = asking.actor.user_id
        busy = mentee_commitments(db, mentee, min(starts), max(starts) + asking.rules.duration)
        asked = set(db.scalars(select(Booking.start_time).where(
            Booking.mentee_user_id == mentee, Booking.listing_id == asking.listing.id,
            Booking.start_time.in_(starts), Booking.status == BookingStatus.DRAFT)))
        return cls(busy, asked)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return any(begins < end and ends > start for begins, ends in self.busy)


def _plan(db: Session, asking: _Asking, shape: Shape) -> list[Planned]:
    wanted = times(asking.zone, shape)
    dropped = set(shape.exclude)
    moves = dict(shape.moves or {})
    unknown = (dropped | set(moves)) - set(wanted)
    if unknown:
        raise InvalidInput("{unknown} is not one of the series' times",
                           words={"unknown": min(unknown).isoformat()}, field="exclude")
    mine = _MenteeTimes.of(db, asking, [moves.get(start, start) for start in wanted if start not in dropped])
    planned: list[Planned] = []
    for start in wanted:
        if start in dropped:
            planned.append(Planned(start, start + asking.rules.duration, free=False, reason=DROPPED))
            continue
        asked = moves.get(start, start)
        planned.append(_check(db, asking, mine, asked, moved_from=start if asked != start else None))
    # The times asked for never meet one another, buffers included (a move could put one next to another).
    gap = timedelta(minutes=max(asking.rules.before, asking.rules.after))
    free = sorted((p for p in planned if p.free), key=lambda p: p.start)
    for earlier, later in itertools.pairwise(free):
        if later.start < earlier.end + gap:
            raise InvalidInput("two of the series' times are too close: {earlier} and {later}",
                               words={"earlier": earlier.start.isoformat(), "later": later.start.isoformat()},
                               field="moves")
    return planned


def _check(db: Session, asking: _Asking, mine: _MenteeTimes, start: datetime, *, moved_from: datetime | None
           ) -> Planned:
    """One time, checked as a single request is; never raises for a time that is not free."""
    rules, end = asking.rules, start + asking.rules.duration

    def left_out(reason: str, rule: str | None = None) -> Planned:
        return Planned(start, end, free=False, reason=reason, rule=rule, moved_from=moved_from)

    if not _exists(start, asking.zone):
        return left_out("that time does not exist that day: the clocks change", "hours")
    try:
        scheduling.check_request_time(rules, start, asking.now)
        checks.check(db, checks.Commitment(asking.mentor_id, asking.listing.id, start, end, rules.before,
                                                   rules.after, step=rules.step), weekly=asking.weekly)
    except Conflict as refusal:  # told as the mentee may read it: the mentor's private reasons as "unavailable"
        seen = scheduling.as_seen_by_others(refusal)
        return left_out(seen.message, seen.details.get("rule"))
    except BusinessRuleViolation as refusal:
        return left_out(refusal.message, refusal.details.get("rule"))
    if mine.overlaps(start, end):
        return left_out("you already have an accepted booking or a seat at that time", "mentee_busy")
    if start in mine.asked:
        return left_out("you already asked for this time", "repeat")
    return Planned(start, end, free=True, moved_from=moved_from)


def preview(db: Session, actor: Actor, shape: Shape, *, now: datetime | None = None) -> list[Planned]:
    """Every time the series would ask for, each free or left out with the reason: nothing is kept."""
    return _plan(db, _Asking.of(db, actor, shape, now or utcnow()), shape)


def request(db: Session, actor: Actor, shape: Shape, *, notes: str = "", bundle_purchase_id: uuid.UUID | None = None,
            answers: Sequence[Mapping[str, Any]] = (), now: datetime | None = None) -> BookingSeries:
    """The series, its free times each a draft booking; the times left out kept with the reason. 409 when none is
    free, when it would pass the mentee's caps, or when the bundle has too few credits (the number missing)."""
    now = now or utcnow()
    listing = requests.bookable_listing(db, actor, shape.listing_id)  # refused before the mentee's turn is taken
    kept = questions.answered(questions.form_of(db, listing.id), [dict(a) for a in answers])  # each time keeps them
    request_limits.take_turn(db, actor.user_id)
    asking = _Asking.of(db, actor, shape, now, listing)
    listing, rules, mentor_id = asking.listing, asking.rules, asking.mentor_id
    lock_mentor_schedule(db, mentor_id)  # under the lock, as a single request: an accept in flight is seen
    planned = _plan(db, asking, shape)
    free = [p for p in planned if p.free]
    if not free:
        raise Conflict("none of the series' times is free", left_out=[_left_out(p) for p in planned],
                       reason="series_no_time_free")
    request_limits.refuse_beyond_caps(db, actor.user_id, mentor_id)
    if rules.max_active is not None:
        held = checks.active_held(db, actor.user_id, mentor_id, now)
        if held + len(free) > rules.max_active:
            raise scheduling.refused(
                scheduling.Rule.ACTIVE_LIMIT, "you hold {held} upcoming bookings and requests with this mentor and may "
                "hold {max_active}: this series asks for {count} more",
                words={"held": held, "max_active": rules.max_active, "count": len(free)}, limit=rules.max_active)
    if listing.instant_booking:
        request_limits.refuse_beyond_instant_cap(db, actor.user_id, mentor_id, cap=rules.max_instant,
                                                   asking=len(free), now=now)
    if bundle_purchase_id is not None:
        _enough_credits(db, actor, bundle_purchase_id, len(free))
        for one in free:
            reserve_credit(db, actor, bundle_purchase_id, listing.id, now=now, start_time=one.start)
    series = BookingSeries(
        id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=mentor_id, mentee_user_id=actor.user_id,
        every_weeks=shape.every_weeks, first_start=shape.first_start, until=shape.until,
        occurrences=len(planned), timezone=asking.zone.key, notes=notes, bundle_purchase_id=bundle_purchase_id,
        status=SeriesStatus.REQUESTED, left_out=[_left_out(p) for p in planned if not p.free])
    db.add(series)
    db.flush()
    drafts = [Booking(
        id=uuid.uuid4(), series_id=series.id, bundle_purchase_id=bundle_purchase_id,
        credit_status=CreditStatus.HELD if bundle_purchase_id else CreditStatus.NONE, listing_id=listing.id,
        mentor_profile_id=mentor_id, mentee_user_id=actor.user_id, start_time=one.start, end_time=one.end,
        status=BookingStatus.DRAFT, price_cents=listing.price_cents, currency=listing.currency, notes=notes,
        buffer_before_minutes=rules.before, buffer_after_minutes=rules.after, instant=listing.instant_booking,
        answers=kept)
        for one in free]
    db.add_all(drafts)
    db.flush()
    record(db, EventType.BOOKING_SERIES_REQUESTED, series_payload(series, drafts), actor=str(actor))
    log.info(EventType.BOOKING_SERIES_REQUESTED, series_id=str(series.id), times=len(drafts), actor=str(actor))
    if listing.instant_booking:  # accepted now by the system, as its mentor's accept would be
        return series_flow.accept_instantly(db, series, now=now)
    return series


def _left_out(planned: Planned) -> dict[str, str | None]:
    return {"start_time": planned.start.isoformat(), "end_time": planned.end.isoformat(), "reason": planned.reason,
            "rule": planned.rule}


def _enough_credits(db: Session, actor: Actor, purchase_id: uuid.UUID, needed: int) -> None:
    purchase = db.get(BundlePurchase, purchase_id, with_for_update=True)
    if purchase is None or purchase.mentee_user_id != actor.user_id:
        raise NotFound("bundle purchase not found")
    if purchase.remaining_sessions < needed:
        missing = needed - purchase.remaining_sessions
        raise Conflict("this series needs {needed} credits and the bundle has {remaining_sessions} left: {missing} "
                       "missing",
                       words={"needed": needed, "remaining_sessions": purchase.remaining_sessions, "missing": missing},
                       missing=missing, needed=needed, reason="bundle_credits_short")
