"""What mentors and mentees have committed to, and the lock that orders changes to a mentor's calendar.

A mentor is committed by accepted individual bookings and live (scheduled or in-progress) sessions,
group ones included; a mentee by accepted bookings, seats in group sessions included. These reads
answer "is this time taken" at request time, so an impossible request fails at once; the
exclusion constraints on ``bookings`` and ``sessions`` stay what decides under concurrency.
:func:`blocked_starts` tells when a listing's mentors cannot start a session, buffers kept, for its free slots.
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
    true,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from models import Booking, BookingStatus, MentorProfile, MentorshipSession, SessionStatus
from models.listings import MAX_BUFFER_MINUTES

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


def _blocked_starts_statement() -> Select[uuid.UUID, datetime, datetime]:
    """Per mentor, the start times at which a session of ``duration`` would meet a commitment or its buffers.

    A commitment [a, b) keeping ``c.before`` and ``c.after`` minutes, against a session keeping ``before`` and
    ``after``, blocks the starts s with a - duration - max(after, c.before) < s < b + max(c.after, before): an
    open interval. The database merges each mentor's intervals (``range_agg``, open ends never joined, so a
    start where a blocked interval ends stays free).
    """
    start, end = bindparam("start", type_=DateTime(timezone=True)), bindparam("end", type_=DateTime(timezone=True))
    duration = bindparam("duration", type_=Interval)
    before, after = bindparam("before", type_=Integer), bindparam("after", type_=Integer)
    member = func.unnest(bindparam("mentor_profile_ids", type_=ARRAY(Uuid))
                         ).table_valued("mentor_profile_id").render_derived("member")
    commitments = union_all(
        select(Booking.start_time, Booking.end_time, Booking.buffer_before_minutes.label("before"),
               Booking.buffer_after_minutes.label("after"))
        .where(Booking.mentor_profile_id == member.c.mentor_profile_id, *_accepted_bookings_over(start, end)),
        select(MentorshipSession.start_time, MentorshipSession.end_time, MentorshipSession.buffer_before_minutes,
               MentorshipSession.buffer_after_minutes)
        .where(MentorshipSession.mentor_profile_id == member.c.mentor_profile_id, *_live_sessions_over(start, end)),
    ).lateral("commitment")
    minutes: ColumnElement[timedelta] = literal_column("interval '1 minute'", type_=Interval)
    starts = func.tstzrange(commitments.c.start_time - duration - func.greatest(after, commitments.c.before) * minutes,
                            commitments.c.end_time + func.greatest(commitments.c.after, before) * minutes,
                            literal_column("'()'"))
    per_mentor = (
        select(member.c.mentor_profile_id, func.range_agg(starts).label("blocked"))
        .select_from(member).join(commitments, true())
        .group_by(member.c.mentor_profile_id)
        .subquery("per_mentor")
    )
    ranges = func.unnest(per_mentor.c.blocked).table_valued("blocked").render_derived().lateral("ranges")
    lower = func.lower(ranges.c.blocked, type_=DateTime(timezone=True))
    return (select(per_mentor.c.mentor_profile_id, lower, func.upper(ranges.c.blocked, type_=DateTime(timezone=True)))
            .select_from(per_mentor).join(ranges, true()).order_by(per_mentor.c.mentor_profile_id, lower))


_BLOCKED_STARTS = _blocked_starts_statement()
# The largest buffer a commitment keeps: commitments this far outside a period can still block starts in it.
_WIDEST_BUFFER = timedelta(minutes=MAX_BUFFER_MINUTES)


def blocked_starts(db: Session, mentor_profile_ids: Sequence[uuid.UUID], start: datetime, end: datetime,
                   duration: timedelta, *, before: int = 0, after: int = 0) -> dict[uuid.UUID, list[OpenInterval]]:
    """For each mentor, the open intervals of start times in [start, end) at which a session of ``duration``,
    keeping ``before`` and ``after`` minutes, would meet one of their commitments or its buffers.

    Sorted and disjoint; two may touch, the instant between them being free.
    """
    found: dict[uuid.UUID, list[OpenInterval]] = {mentor: [] for mentor in mentor_profile_ids}
    if not found:
        return found
    rows = db.execute(_BLOCKED_STARTS, {"mentor_profile_ids": list(found), "start": start - _WIDEST_BUFFER,
                                        "end": end + duration + _WIDEST_BUFFER, "duration": duration,
                                        "before": before, "after": after})
    for mentor, lower, upper in rows:
        found[mentor].append((lower, upper))
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
