"""What mentors and mentees have committed to, and the lock that orders changes to a mentor's calendar.

A mentor is committed by accepted individual bookings and live (scheduled or in-progress) sessions,
group ones included; a mentee by accepted bookings, seats in group sessions included. These reads
answer "is this time taken" at request time, so an impossible request fails at once; the
exclusion constraints on ``bookings`` and ``sessions`` stay what decides under concurrency.
:func:`blocked_starts` tells when a listing's mentors cannot start a session, for its free slots.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

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

from models import Booking, BookingStatus, MentorProfile, MentorshipSession, SessionStatus

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
    """Per group of mentors, the start times at which each of them has a commitment meeting [s, s + duration).

    A commitment [a, b) meets [s, s + duration) when a - duration < s < b: an open interval of starts. The
    database merges each mentor's intervals (``range_agg``, open ends never joined, so a start at a
    commitment's end stays free) and intersects those of a group's mentors (``range_intersect_agg``);
    a mentor with no commitment makes the group's intersection empty.
    """
    start, end = bindparam("start", type_=DateTime(timezone=True)), bindparam("end", type_=DateTime(timezone=True))
    duration = bindparam("duration", type_=Interval)
    member = func.unnest(bindparam("mentor_profile_ids", type_=ARRAY(Uuid)), bindparam("groups", type_=ARRAY(Integer))
                         ).table_valued("mentor_profile_id", "grp").render_derived("member")
    commitments = union_all(
        select(Booking.mentor_profile_id, Booking.start_time, Booking.end_time)
        .where(Booking.mentor_profile_id == member.c.mentor_profile_id, *_accepted_bookings_over(start, end)),
        select(MentorshipSession.mentor_profile_id, MentorshipSession.start_time, MentorshipSession.end_time)
        .where(MentorshipSession.mentor_profile_id == member.c.mentor_profile_id, *_live_sessions_over(start, end)),
    ).lateral("commitment")
    starts = func.tstzrange(commitments.c.start_time - duration, commitments.c.end_time, literal_column("'()'"))
    per_mentor = (
        select(member.c.grp, func.coalesce(func.range_agg(starts).filter(commitments.c.start_time.is_not(None)),
                                           text("'{}'::tstzmultirange")).label("blocked"))
        .select_from(member).outerjoin(commitments, true())
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


def blocked_starts(db: Session, groups: Sequence[Sequence[uuid.UUID]], start: datetime, end: datetime,
                   duration: timedelta) -> list[list[OpenInterval]]:
    """For each group of mentors, in start order, the open intervals of start times in which every mentor of
    the group is committed for some part of [s, s + duration), counting commitments meeting [start, end).

    Sorted and disjoint; two may touch, the instant between them being free.
    """
    ids = [mentor for group in groups for mentor in group]
    numbers = [number for number, group in enumerate(groups) for _ in group]
    found: list[list[OpenInterval]] = [[] for _ in groups]
    if not ids:
        return found
    rows = db.execute(_BLOCKED_STARTS, {"mentor_profile_ids": ids, "groups": numbers, "start": start, "end": end,
                                        "duration": duration})
    for number, lower, upper in rows:
        found[number].append((lower, upper))
    return found


def busy_mentors(db: Session, mentor_profile_ids: Collection[uuid.UUID], start: datetime, end: datetime
                 ) -> set[uuid.UUID]:
    """Those of the mentors with a commitment overlapping [start, end)."""
    if not mentor_profile_ids:
        return set()
    ids = list(mentor_profile_ids)
    bookings = select(Booking.mentor_profile_id).where(Booking.mentor_profile_id.in_(ids),
                                                       *_accepted_bookings_over(start, end))
    sessions = select(MentorshipSession.mentor_profile_id).where(MentorshipSession.mentor_profile_id.in_(ids),
                                                                 *_live_sessions_over(start, end))
    return set(db.scalars(union_all(bookings, sessions)))


def mentee_is_busy(db: Session, mentee_user_id: uuid.UUID, start: datetime, end: datetime) -> bool:
    """Whether the mentee holds an accepted booking or a seat overlapping [start, end)."""
    found = db.scalar(_MENTEE_OVERLAP, {"mentee_user_id": mentee_user_id, "start": start, "end": end})
    return found is not None
