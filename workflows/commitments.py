"""What mentors and mentees have committed to, and the lock that orders changes to a mentor's calendar.

A mentor is committed by accepted individual bookings and live (scheduled or in-progress) sessions,
group ones included; a mentee by accepted bookings, seats in group sessions included. These reads
answer "is this time taken" at request time, so an impossible request fails at once; the
exclusion constraints on ``bookings`` and ``sessions`` stay what decides under concurrency.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, select, union_all
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, ListingKind, MentorProfile, MentorshipSession, SessionStatus

LIVE = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)

# Statements built once, run with bind parameters.
# FOR NO KEY UPDATE: it conflicts with itself, not with the key-share locks that inserts referencing
# the mentor take (a batch creating the mentor's sessions, a booking request), which FOR UPDATE waits for.
_LOCK_MENTOR = (select(MentorProfile.id).where(MentorProfile.id == bindparam("mentor_profile_id"))
                .with_for_update(key_share=True))
_GROUP_SESSION_OVERLAP = select(MentorshipSession.id).where(
    MentorshipSession.mentor_profile_id == bindparam("mentor_profile_id"),
    MentorshipSession.kind == ListingKind.GROUP,
    MentorshipSession.status.in_(LIVE),
    MentorshipSession.start_time < bindparam("end"),
    MentorshipSession.end_time > bindparam("start"),
).limit(1)
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


def overlapping_group_session(db: Session, mentor_profile_id: uuid.UUID, start: datetime, end: datetime) -> bool:
    found = db.scalar(_GROUP_SESSION_OVERLAP, {"mentor_profile_id": mentor_profile_id, "start": start, "end": end})
    return found is not None


def _accepted_bookings_over(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    """A mentor's accepted individual bookings meeting [start, end) (seats are the group session's time)."""
    return (Booking.status == BookingStatus.ACCEPTED, Booking.group_session_id.is_(None),
            Booking.start_time < end, Booking.end_time > start)


def _live_sessions_over(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    return (MentorshipSession.status.in_(LIVE), MentorshipSession.start_time < end, MentorshipSession.end_time > start)


def busy_intervals(db: Session, mentor_profile_id: uuid.UUID, start: datetime, end: datetime
                   ) -> list[tuple[datetime, datetime]]:
    """The mentor's commitments meeting [start, end), in start order."""
    bookings = db.execute(select(Booking.start_time, Booking.end_time).where(
        Booking.mentor_profile_id == mentor_profile_id, *_accepted_bookings_over(start, end))).all()
    sessions = db.execute(select(MentorshipSession.start_time, MentorshipSession.end_time).where(
        MentorshipSession.mentor_profile_id == mentor_profile_id, *_live_sessions_over(start, end))).all()
    return sorted((s, e) for s, e in [*bookings, *sessions])


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
