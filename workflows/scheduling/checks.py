"""The one check every path that commits a mentor makes, under the mentor's schedule lock: one statement reads
the nearest commitment within the buffers, time off, the date's override, the mentor's own calendar and the
limits' counts, and the rules of ``workflows.scheduling.rules`` judge it; at an accept, the pending requests it
would clash with come back locked in the same statement."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import TextClause
from sqlalchemy.orm import Session

from infra.sql import statuses
from models import BookingStatus, ListingKind, SessionStatus
from models.mentors.listings import MAX_BUFFER_MINUTES, MAX_DURATION_MINUTES
from workflows.errors import Conflict, refusal
from workflows.scheduling.hours import Hours, fits_hours
from workflows.scheduling.rules import ListingRules, Rule, local_day, refused
from workflows.wording import span

# The statuses and kinds the statements below name, written in as literals (``infra.sql.statuses``).
_FIXED = {"accepted": BookingStatus.ACCEPTED, "draft": BookingStatus.DRAFT, "scheduled": SessionStatus.SCHEDULED,
          "in_progress": SessionStatus.IN_PROGRESS, "cancelled": SessionStatus.CANCELLED,
          "group_kind": ListingKind.GROUP}


def _sql(sql: str) -> TextClause:
    return statuses(sql, **{name: value for name, value in _FIXED.items() if re.search(rf":{name}\b", sql)})


# The mentor's commitment nearest to [start, end) within the buffers, if any: accepted individual bookings
# (each with the buffers it copied) and live sessions (a group session's are its listing's). Found through
# the exclusion constraints' GiST indexes by widening the range by the largest buffer; ``overlaps`` tells a
# plain overlap from one inside a buffer.
_COMMITMENTS = """
    SELECT c.start_time, c.end_time, c.start_time < :end AND c.end_time > :start AS overlaps,
           greatest(c.after, :before) AS gap_before, greatest(:after, c.before) AS gap_after
    FROM (SELECT start_time, end_time, buffer_before_minutes AS before, buffer_after_minutes AS after
          FROM bookings WHERE mentor_profile_id = :mentor AND status = :accepted AND group_session_id IS NULL
          AND id <> :booking AND tstzrange(start_time, end_time, '[)') && tstzrange(:wide_start, :wide_end, '[)')
          UNION ALL
          SELECT start_time, end_time, buffer_before_minutes, buffer_after_minutes FROM sessions
          WHERE mentor_profile_id = :mentor AND status IN (:scheduled, :in_progress) AND id <> :session
          AND tstzrange(start_time, end_time, '[)') && tstzrange(:wide_start, :wide_end, '[)')) c
    WHERE c.start_time < :end + make_interval(mins => greatest(:after, c.before))
      AND c.end_time + make_interval(mins => greatest(c.after, :before)) > :start
    ORDER BY c.start_time < :end AND c.end_time > :start DESC, c.start_time LIMIT 1
"""


_CHECK_SQL = """
    SELECT m.timezone, n.start_time, n.end_time, n.overlaps, n.gap_before, n.gap_after, t.start_time, t.end_time,
           o.hours, m.max_sessions_per_day, m.max_sessions_per_week, l.max_sessions_per_day,
           l.max_sessions_per_week, cal.busy{clashes}
    FROM mentor_profiles m JOIN listings l ON l.id = :listing
    LEFT JOIN LATERAL ({commitments}) n ON true
    LEFT JOIN LATERAL (SELECT start_time, end_time FROM time_off WHERE mentor_profile_id = :mentor
                       AND start_time < :end AND (end_time IS NULL OR end_time > :start)
                       ORDER BY start_time LIMIT 1) t ON true
    LEFT JOIN LATERAL (SELECT true AS busy FROM busy_intervals WHERE mentor_profile_id = :mentor
                       AND tstzrange(start_time, end_time, '[)') && tstzrange(:start - make_interval(mins => :before),
                                                                         :end + make_interval(mins => :after), '[)')
                       LIMIT 1) cal ON true
    LEFT JOIN date_overrides o ON o.mentor_profile_id = m.id
        AND o.day = CAST(CAST(:start AS timestamptz) AT TIME ZONE m.timezone AS date)
    WHERE m.id = :mentor
"""


_CHECK = _sql(_CHECK_SQL.format(commitments=_COMMITMENTS, clashes=""))


# At an accept, the same, and the pending requests that can no longer be accepted once it is, locked (they are
# settled: ``workflows.bookings.lifecycle.settle_clashes``): the mentor's within the buffers, the mentee's overlapping.
_CHECK_AND_CLASHES = _sql(_CHECK_SQL.format(commitments=_COMMITMENTS, clashes=""",
    ARRAY (SELECT b.id FROM bookings b WHERE b.status = :draft AND b.id <> :booking
           AND ((b.mentor_profile_id = :mentor AND b.start_time > :earliest - :widen
                 AND b.start_time < :wide_end
                 AND b.start_time < :end + make_interval(mins => greatest(:after, b.buffer_before_minutes))
                 AND b.end_time + make_interval(mins => greatest(b.buffer_after_minutes, :before)) > :start)
                OR (b.mentee_user_id = :mentee AND b.start_time > :earliest AND b.start_time < :end
                    AND b.end_time > :start))
           ORDER BY b.id FOR UPDATE)"""))


# Accepts of many times at once (a series'): the same check per time, each time's row in order.
_PER_TIME = {r":start\b": "q.s", r":end\b": "q.e", r":booking\b": "q.b", r":wide_start\b": "(q.s - :widen)",
             r":wide_end\b": "(q.e + :widen)", r":earliest\b": "(q.s - :longest)"}


_EACH_TIME = """
    SELECT q.n, r.* FROM unnest(CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]), CAST(:bookings AS uuid[]))
        WITH ORDINALITY AS q(s, e, b, n)
    CROSS JOIN LATERAL ({check}) r ORDER BY q.n
"""


_CHECK_ACCEPTS = _sql(_EACH_TIME.format(check=functools.reduce(
    lambda sql, swap: re.sub(swap[0], swap[1], sql), _PER_TIME.items(), str(_CHECK_AND_CLASHES.text))))


# Sessions of the mentor starting in [week_start, week_end), and in the day, in all and of the listing: accepted
# individual bookings and group sessions not cancelled (kept, done or missed, they happened that day).
_COUNTS = _sql("""
    SELECT count(*) FILTER (WHERE c.start_time >= :day_start AND c.start_time < :day_end),
           count(*),
           count(*) FILTER (WHERE c.listing_id = :listing AND c.start_time >= :day_start AND c.start_time < :day_end),
           count(*) FILTER (WHERE c.listing_id = :listing)
    FROM (SELECT start_time, listing_id FROM bookings WHERE mentor_profile_id = :mentor AND status = :accepted
          AND group_session_id IS NULL AND id <> :booking
          AND tstzrange(start_time, end_time, '[)') && tstzrange(:week_start, :week_end, '[)')
          UNION ALL
          SELECT start_time, listing_id FROM sessions WHERE mentor_profile_id = :mentor AND kind = :group_kind
          AND status <> :cancelled AND id <> :session
          AND tstzrange(start_time, end_time, '[)') && tstzrange(:week_start, :week_end, '[)')) c
    WHERE c.start_time >= :week_start AND c.start_time < :week_end
""")


_NONE = uuid.UUID(int=0)


_WIDEN = timedelta(minutes=MAX_BUFFER_MINUTES)


LONGEST = timedelta(minutes=MAX_DURATION_MINUTES)


@dataclass(frozen=True)
class Commitment:
    """What a check is about: a time of a mentor, the listing it is of, and the buffers it keeps."""

    mentor_profile_id: uuid.UUID
    listing_id: uuid.UUID
    start: datetime
    end: datetime
    before: int
    after: int
    booking_id: uuid.UUID | None = None  # the booking being accepted (not counted against itself)
    session_id: uuid.UUID | None = None
    mentee_user_id: uuid.UUID | None = None  # at an accept: whose requests are settled by it
    step: timedelta | None = None  # a request's: it must start on the listing's slot grid (as free slots are)


def check(db: Session, commitment: Commitment, *, weekly: Mapping[int, Hours] | None = None,
          at_accept: bool = False, hours: bool = True, settles: bool = False) -> list[uuid.UUID]:
    """Refuse (409, naming the rule) a time that breaks one of the mentor's rules; with ``settles`` (an accept, a
    move), return the pending requests it will settle (locked). The caller holds the mentor's schedule lock.

    ``weekly``: the mentor's windows, checked on a request (a date's override in their stead); at an accept only
    a date override is (the mentor answering a request inside their windows agreed to it); ``hours=False`` for a
    group session the mentor schedules themself.
    """
    start, end = commitment.start, commitment.end
    row = tuple(db.execute(_CHECK_AND_CLASHES if settles else _CHECK, {
        "mentor": commitment.mentor_profile_id, "listing": commitment.listing_id, "start": start, "end": end,
        "before": commitment.before, "after": commitment.after, "wide_start": start - _WIDEN,
        "wide_end": end + _WIDEN, "booking": commitment.booking_id or _NONE,
        "session": commitment.session_id or _NONE, "mentee": commitment.mentee_user_id or _NONE,
        "earliest": start - LONGEST, "widen": _WIDEN,
    }).one())
    return _judge(db, commitment, row, weekly=weekly, at_accept=at_accept, hours=hours, settles=settles)


def check_accepts(db: Session, commitments: Sequence[Commitment]) -> list[list[uuid.UUID] | Conflict]:
    """:func:`check` of accepts (``at_accept``, ``settles``) of one mentor's times of one listing with the same
    buffers and mentee, in one query: for each, the pending requests it will settle, or the refusal. The times must
    be far enough apart that none can break a rule for another (a series' weeks)."""
    if not commitments:
        return []
    first = commitments[0]
    rows = db.execute(_CHECK_ACCEPTS, {
        "mentor": first.mentor_profile_id, "listing": first.listing_id, "before": first.before,
        "after": first.after, "session": _NONE, "mentee": first.mentee_user_id or _NONE, "widen": _WIDEN,
        "longest": LONGEST, "starts": [c.start for c in commitments], "ends": [c.end for c in commitments],
        "bookings": [c.booking_id or _NONE for c in commitments]}).all()
    judged: list[list[uuid.UUID] | Conflict] = []
    for commitment, row in zip(commitments, rows, strict=True):
        try:
            judged.append(_judge(db, commitment, tuple(row)[1:], weekly=None, at_accept=True, hours=True,
                                 settles=True))
        except Conflict as refusal:
            judged.append(refusal)
    return judged


def _judge(db: Session, commitment: Commitment, row: tuple[Any, ...], *, weekly: Mapping[int, Hours] | None,
           at_accept: bool, hours: bool, settles: bool) -> list[uuid.UUID]:
    """What :data:`_CHECK`'s row says of the commitment: the clashes to settle, or the refusal."""
    start, end = commitment.start, commitment.end
    clashes: list[uuid.UUID] = []
    if settles:
        *fields, clashes = row
        row = tuple(fields)
    (timezone, near_start, near_end, overlaps, gap_before, gap_after, off_start, off_end, override,
     mentor_day, mentor_week, listing_day, listing_week, calendar_busy) = row
    zone = ZoneInfo(timezone)
    if off_start is not None:
        if off_end is None:
            raise refused(Rule.TIME_OFF, "the mentor is away then ({timezone}) until further notice",
                          words={"timezone": timezone})
        raise refused(Rule.TIME_OFF, "the mentor is away then ({timezone}) until {until}",
                      words={"timezone": timezone, "until": f"{off_end.astimezone(zone):%Y-%m-%d %H:%M}"},
                      away_until=off_end.isoformat())
    if calendar_busy:  # what the event is stays the mentor's
        raise refused(Rule.CALENDAR, "the mentor's calendar is busy then")
    if hours:
        day_hours = tuple((s, e) for s, e in override) if override is not None else \
            None if at_accept or weekly is None else weekly.get(start.astimezone(zone).weekday(), ())
        if not fits_hours(day_hours, zone, start, end):
            outside = refusal("outside that date's hours (hours are in {timezone})") if override is not None else \
                refusal("outside the mentor's availability (hours are in {timezone})")
            raise refused(Rule.HOURS, outside, words={"timezone": timezone}, timezone=timezone)
        if commitment.step is not None and not at_accept:
            _on_grid(day_hours, zone, start, end, commitment.step)
    if near_start is not None:
        if overlaps:
            raise refused(Rule.BUSY, "the mentor already has an accepted booking or a session at that time")
        gap = gap_before if near_end <= start else gap_after
        raise refused(Rule.BUFFER, "too close to another of the mentor's sessions: they keep {gap} minutes between "
                      "sessions", words={"gap": gap}, buffer_minutes=gap)
    limits = {Rule.DAY_LIMIT: (mentor_day, listing_day), Rule.WEEK_LIMIT: (mentor_week, listing_week)}
    if any(value is not None for pair in limits.values() for value in pair):
        _check_counts(db, commitment, zone, limits)
    return list(clashes)


def _on_grid(hours: Hours | None, zone: ZoneInfo, start: datetime, end: datetime, step: timedelta) -> None:
    """Refuse a start that is not one of the listing's slots: every ``step`` from the opening of the hours it falls
    in, in the mentor's local time (from local midnight when they take any time), as ``workflows.scheduling.slots``
    offers them. A time between two slots tells nothing a page of slots does not."""
    local = start.astimezone(zone)
    minute = local.hour * 60 + local.minute
    length = int((end - start).total_seconds() // 60)
    every = int(step.total_seconds() // 60)
    openings = [0] if hours is None else [first for first, last in hours if first <= minute and minute + length <= last]
    if local.second or local.microsecond or not any((minute - first) % every == 0 for first in openings):
        first = openings[0] if openings else 0
        raise refused(Rule.SLOT_GRID, "requests start on this listing's slots: every {step} from {start} ({zone})",
                      words={"step": span(step), "start": f"{first // 60:02d}:{first % 60:02d}", "zone": zone.key},
                      step_minutes=every)


def _check_counts(db: Session, commitment: Commitment, zone: ZoneInfo,
                  limits: Mapping[Rule, tuple[int | None, int | None]]) -> None:
    start = commitment.start
    day = start.astimezone(zone).date()
    day_start, day_end = local_day(day, zone)
    monday = day - timedelta(days=day.weekday())
    week_start, week_end = local_day(monday, zone)[0], local_day(monday + timedelta(days=7), zone)[0]
    day_all, week_all, day_listing, week_listing = db.execute(_COUNTS, {
        "mentor": commitment.mentor_profile_id, "listing": commitment.listing_id,
        "booking": commitment.booking_id or _NONE, "session": commitment.session_id or _NONE,
        "day_start": day_start, "day_end": day_end, "week_start": week_start, "week_end": week_end}).one()
    counted = {Rule.DAY_LIMIT: (day_all, day_listing), Rule.WEEK_LIMIT: (week_all, week_listing)}
    for rule, (mentor_limit, listing_limit) in limits.items():
        in_all, in_listing = counted[rule]
        mentor_full, listing_full = _FULL[rule]
        if mentor_limit is not None and in_all >= mentor_limit:
            raise refused(rule, mentor_full, words={"limit": mentor_limit}, limit=mentor_limit)
        if listing_limit is not None and in_listing >= listing_limit:
            raise refused(rule, listing_full, words={"limit": listing_limit}, limit=listing_limit)


# A full day or week: the mentor's own limit, and the listing's.
_FULL = {
    Rule.DAY_LIMIT: (refusal("the mentor takes at most {limit} sessions a day, and that day is full"),
                     refusal("this listing has at most {limit} sessions a day with a mentor, and that day is full")),
    Rule.WEEK_LIMIT: (refusal("the mentor takes at most {limit} sessions a week, and that week is full"),
                      refusal("this listing has at most {limit} sessions a week with a mentor, and that week is "
                              "full")),
}


_ACTIVE = _sql("SELECT count(*) FROM bookings WHERE mentee_user_id = :mentee AND mentor_profile_id = :mentor "
               "AND status IN (:draft, :accepted) AND start_time > :now")


def check_mentee(db: Session, rules: ListingRules, mentee_user_id: uuid.UUID, mentor_profile_id: uuid.UUID,
                 now: datetime) -> None:
    """Refuse one more active booking (pending or accepted, still to come) with a mentor beyond the listing's
    or the service's ``max_active_bookings_per_mentor``. The caller holds the mentee's turn."""
    if rules.max_active is None:
        return
    held = active_held(db, mentee_user_id, mentor_profile_id, now)
    if held >= rules.max_active:
        raise refused(Rule.ACTIVE_LIMIT, "you hold {held} upcoming bookings and requests with this mentor, the most "
                                         "allowed: wait until one has taken place, or cancel one",
                      words={"held": held}, limit=rules.max_active)


def active_held(db: Session, mentee_user_id: uuid.UUID, mentor_profile_id: uuid.UUID, now: datetime) -> int:
    """The mentee's active bookings with the mentor: pending or accepted, still to come."""
    return int(db.scalar(_ACTIVE, {"mentee": mentee_user_id, "mentor": mentor_profile_id, "now": now}) or 0)
