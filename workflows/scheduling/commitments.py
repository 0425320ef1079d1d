"""What mentors and mentees have committed to, and the lock that orders changes to a mentor's calendar.

A mentor is committed by accepted individual bookings and live (scheduled or in-progress) sessions,
group ones included; a mentee by accepted bookings, seats in group sessions included. These reads
answer "is this time taken" at request time, so an impossible request fails at once; the
exclusion constraints on ``bookings`` and ``sessions`` stay what decides under concurrency.
:func:`blocked_starts` tells when a listing's mentors cannot start a session, buffers kept, for its free slots.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    DateTime,
    Integer,
    Interval,
    Select,
    Uuid,
    bindparam,
    func,
    literal_column,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from models import Booking, BookingStatus, BusyInterval, MentorProfile, MentorshipSession, SessionStatus
from models.mentors.listings import MAX_BUFFER_MINUTES

LIVE = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)
# An open interval of instants: (lower, upper), both excluded.
OpenInterval = tuple[datetime, datetime]

# Statements built once, run with bind parameters.
# FOR NO KEY UPDATE: it conflicts with itself, not with the key-share locks that inserts referencing
# the mentor take (a batch creating the mentor's sessions, a booking request), which FOR UPDATE waits for.
_LOCK_MENTOR = (select(MentorProfile.id).where(MentorProfile.id == bindparam("mentor_profile_id"))
                .with_for_update(key_share=True))
_MENTEE_OVERLAP = select(Booking.id).where(
    Booking.mentee_user_id == bindparam("mentee_user_id"),
    Booking.status == BookingStatus.ACCEPTED,
    Booking.start_time < bindparam("end"),
    Booking.end_time > bindparam("start"),
    Booking.id != bindparam("other_than"),
).limit(1)


def lock_mentor_schedule(db: Session, mentor_profile_id: uuid.UUID) -> None:
    """Serialise changes to one mentor's calendar that two tables share.

    Accepted individual bookings and group sessions live in different tables,
    each with its own exclusion constraint; this row lock makes the check
    between them race-free.
    """
    db.execute(_LOCK_MENTOR, {"mentor_profile_id": mentor_profile_id})


def _meets(start_time: InstrumentedAttribute[datetime], end_time: InstrumentedAttribute[datetime],
           start: datetime | ColumnElement[datetime], end: datetime | ColumnElement[datetime]
           ) -> ColumnElement[bool]:
    """[start_time, end_time) meets [start, end) (``start < end``), written as the exclusion constraints' range,
    so that their GiST index on (mentor, range) finds a mentor's commitments of a period directly."""
    half_open: ColumnElement[str] = literal_column("'[)'")
    return func.tstzrange(start_time, end_time, half_open).op("&&")(func.tstzrange(start, end, half_open))


def _accepted_bookings_over(start: datetime | ColumnElement[datetime], end: datetime | ColumnElement[datetime]
                            ) -> tuple[ColumnElement[bool], ...]:
    """A mentor's accepted individual bookings meeting [start, end) (seats are the group session's time).

    The status inline, as the constraint's partial index is written: a generic plan still uses it.
    """
    return (Booking.status == literal_column(f"'{BookingStatus.ACCEPTED.value}'"), Booking.group_session_id.is_(None),
            _meets(Booking.start_time, Booking.end_time, start, end))


def _live_sessions_over(start: datetime | ColumnElement[datetime], end: datetime | ColumnElement[datetime]
                        ) -> tuple[ColumnElement[bool], ...]:
    return (MentorshipSession.status.in_([literal_column(f"'{status.value}'") for status in LIVE]),
            _meets(MentorshipSession.start_time, MentorshipSession.end_time, start, end))


def _blocked_starts_statement() -> Select[int, datetime, datetime]:
    """Per group of mentors, the start times at which a session of ``duration`` would meet, for every mentor of
    the group, a commitment or its buffers, a busy time of the mentor's own calendar, or one of the mentor's other
    blocked intervals (``extra``).

    A commitment [a, b) keeping ``c.before`` and ``c.after`` minutes, against a session keeping ``before`` and
    ``after``, blocks the starts s with a - duration - max(after, c.before) < s < b + max(c.after, before): an
    open interval. The database merges each mentor's intervals (``range_agg``, open ends never joined, so a
    start where a blocked interval ends stays free) and intersects those of a group's mentors
    (``range_intersect_agg``); a mentor with nothing blocked makes the group's intersection empty.
    """
    start, end = bindparam("start", type_=DateTime(timezone=True)), bindparam("end", type_=DateTime(timezone=True))
    duration = bindparam("duration", type_=Interval)
    before, after = bindparam("before", type_=Integer), bindparam("after", type_=Integer)
    member = func.unnest(bindparam("mentor_profile_ids", type_=ARRAY(Uuid)), bindparam("groups", type_=ARRAY(Integer))
                         ).table_valued("mentor_profile_id", "grp").render_derived("member")
    extra = func.unnest(bindparam("extra_mentors", type_=ARRAY(Uuid)),
                        bindparam("extra_lower", type_=ARRAY(DateTime(timezone=True))),
                        bindparam("extra_upper", type_=ARRAY(DateTime(timezone=True)))
                        ).table_valued("mentor_profile_id", "lower", "upper").render_derived("extra")
    minutes: ColumnElement[timedelta] = literal_column("interval '1 minute'", type_=Interval)
    open_ends: ColumnElement[str] = literal_column("'()'")

    def starts(start_time: Any, end_time: Any, its_before: Any, its_after: Any) -> ColumnElement[Any]:
        return func.tstzrange(start_time - duration - func.greatest(after, its_before) * minutes,
                              end_time + func.greatest(its_after, before) * minutes, open_ends).label("starts")

    blocked = union_all(
        select(starts(Booking.start_time, Booking.end_time, Booking.buffer_before_minutes,
                      Booking.buffer_after_minutes))
        .where(Booking.mentor_profile_id == member.c.mentor_profile_id, *_accepted_bookings_over(start, end)),
        select(starts(MentorshipSession.start_time, MentorshipSession.end_time,
                      MentorshipSession.buffer_before_minutes, MentorshipSession.buffer_after_minutes))
        .where(MentorshipSession.mentor_profile_id == member.c.mentor_profile_id, *_live_sessions_over(start, end)),
        select(func.tstzrange(extra.c.lower, extra.c.upper, open_ends).label("starts"))
        .where(extra.c.mentor_profile_id == member.c.mentor_profile_id),
        # The mentor's own calendar (workflows.calendars.sync): busy, with the session's buffers kept around it.
        select(starts(BusyInterval.start_time, BusyInterval.end_time, 0, 0))
        .where(BusyInterval.mentor_profile_id == member.c.mentor_profile_id,
               _meets(BusyInterval.start_time, BusyInterval.end_time, start, end)),
    ).lateral("blocked")
    per_mentor = (
        select(member.c.grp, func.coalesce(func.range_agg(blocked.c.starts).filter(blocked.c.starts.is_not(None)),
                                           text("'{}'::tstzmultirange")).label("blocked"))
        .select_from(member).outerjoin(blocked, true())
        .group_by(member.c.mentor_profile_id, member.c.grp)
        .subquery("per_mentor")
    )
    per_group = (select(per_mentor.c.grp, func.range_intersect_agg(per_mentor.c.blocked).label("blocked"))
                 .group_by(per_mentor.c.grp).subquery("per_group"))
    ranges = func.unnest(per_group.c.blocked).table_valued("blocked").render_derived().lateral("ranges")
    lower = func.lower(ranges.c.blocked, type_=DateTime(timezone=True))
    return (select(per_group.c.grp, lower, func.upper(ranges.c.blocked, type_=DateTime(timezone=True)))
            .select_from(per_group).join(ranges, true()).order_by(per_group.c.grp, lower))


_BLOCKED_STARTS = _blocked_starts_statement()
# The largest buffer a commitment keeps: commitments this far outside a period can still block starts in it.
_WIDEST_BUFFER = timedelta(minutes=MAX_BUFFER_MINUTES)


def blocked_starts(db: Session, groups: Sequence[Sequence[uuid.UUID]], start: datetime, end: datetime,
                   duration: timedelta, *, before: int = 0, after: int = 0,
                   extra: Mapping[uuid.UUID, Sequence[OpenInterval]] | None = None) -> list[list[OpenInterval]]:
    """For each group of mentors, in start order, the open intervals of start times in [start, end) at which every
    mentor of the group is blocked: a session of ``duration``, keeping ``before`` and ``after`` minutes, would
    meet one of their commitments or its buffers, or falls in one of their ``extra`` intervals (time off, a full
    day: ``workflows.scheduling.slots``).

    Sorted and disjoint; two may touch, the instant between them being free.
    """
    ids = [mentor for group in groups for mentor in group]
    numbers = [number for number, group in enumerate(groups) for _ in group]
    found: list[list[OpenInterval]] = [[] for _ in groups]
    if not ids:
        return found
    added = [(mentor, lower, upper) for mentor, intervals in (extra or {}).items() for lower, upper in intervals]
    rows = db.execute(_BLOCKED_STARTS, {
        "mentor_profile_ids": ids, "groups": numbers, "start": start - _WIDEST_BUFFER,
        "end": end + duration + _WIDEST_BUFFER, "duration": duration, "before": before, "after": after,
        "extra_mentors": [m for m, _l, _u in added], "extra_lower": [lo for _m, lo, _u in added],
        "extra_upper": [up for _m, _l, up in added]})
    for number, lower, upper in rows:
        found[number].append((lower, upper))
    return found


def mentee_is_busy(db: Session, mentee_user_id: uuid.UUID, start: datetime, end: datetime, *,
                   other_than: uuid.UUID | None = None) -> bool:
    """Whether the mentee holds an accepted booking or a seat overlapping [start, end), ``other_than`` aside."""
    found = db.scalar(_MENTEE_OVERLAP, {"mentee_user_id": mentee_user_id, "start": start, "end": end,
                                        "other_than": other_than or uuid.UUID(int=0)})
    return found is not None


def mentee_commitments(db: Session, mentee_user_id: uuid.UUID, start: datetime, end: datetime
                       ) -> list[tuple[datetime, datetime]]:
    """The times of the mentee's accepted bookings and seats overlapping [start, end), in one read: what a series'
    times are each checked against (:func:`mentee_is_busy` for one time)."""
    return [(row.start_time, row.end_time) for row in db.execute(
        select(Booking.start_time, Booking.end_time).where(
            Booking.mentee_user_id == mentee_user_id, Booking.status == BookingStatus.ACCEPTED,
            Booking.start_time < end, Booking.end_time > start))]
