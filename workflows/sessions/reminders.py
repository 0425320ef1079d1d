"""Reminders before a session: at each of ``REMINDER_OFFSETS``, every participant is told once.

Run by beat (``maintenance.send_reminders``). For each offset, the scheduled sessions whose reminder
time has passed and that have not started yet are locked (``SKIP LOCKED``: two beats share the work);
one ``session_reminders`` row per (session, participant, offset) is inserted with ``ON CONFLICT DO
NOTHING``, and only the people whose row this transaction inserted get their notification (and email),
in the same transaction. The ``session.reminder`` event (webhooks) is recorded by the transaction that
inserted the mentor's row, so it too goes out once per (session, offset).

A reminder whose time passed while a nearer one is already due is skipped: a session booked an hour
before its start gets the one-hour reminder, not the 24-hour one as well.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import Listing, ListingKind, MentorProfile, MentorshipSession, SessionReminder, SessionStatus
from workflows import wording
from workflows.clock import utcnow
from workflows.events import EventType, record, view_for
from workflows.inbox import notify_user
from workflows.language import text
from workflows.payloads import SessionReminderPayload, session_payload
from workflows.roles import Role
from workflows.sessions.lifecycle import group_participants

log = structlog.get_logger(__name__)

_REMINDERS = cast(Table, SessionReminder.__table__)
REMINDER = wording.notice("session.reminder", "Reminder: {title}",
                          "Your session {listing} starts in {left}, at {when}.")
LESS_THAN_A_MINUTE = text("words.less_than_a_minute", "less than a minute")


@dataclass(frozen=True)
class Participant:
    user_id: uuid.UUID
    role: Role


def due_windows(offsets: Sequence[timedelta]) -> list[tuple[timedelta, timedelta]]:
    """Each offset with the nearer one that supersedes it: (offset, next smaller offset or zero)."""
    ordered = sorted(offsets, reverse=True)
    return [(offset, ordered[i + 1] if i + 1 < len(ordered) else timedelta(0)) for i, offset in enumerate(ordered)]


def _due_sessions(db: Session, now: datetime, offset: timedelta, nearer: timedelta, limit: int
                  ) -> list[MentorshipSession]:
    """Scheduled sessions inside this offset's window whose mentor has not had this reminder, locked."""
    mentor_told = (
        select(SessionReminder.session_id)
        .join(MentorProfile, MentorProfile.user_id == SessionReminder.user_id)
        .where(SessionReminder.session_id == MentorshipSession.id,
               SessionReminder.offset_seconds == int(offset.total_seconds()),
               MentorProfile.id == MentorshipSession.mentor_profile_id)
        .exists()
    )
    return list(db.scalars(
        select(MentorshipSession)
        .where(MentorshipSession.status == SessionStatus.SCHEDULED,
               MentorshipSession.start_time > now + nearer,
               MentorshipSession.start_time <= now + offset,
               ~mentor_told)
        .order_by(MentorshipSession.start_time, MentorshipSession.id)
        .limit(limit)
        .with_for_update(of=MentorshipSession, skip_locked=True)
    ))


def participants_of(db: Session, session: MentorshipSession) -> list[Participant]:
    """The mentor, and the one mentee or every seat holder of a group session."""
    mentor = db.scalar(select(MentorProfile.user_id).where(MentorProfile.id == session.mentor_profile_id))
    people = [Participant(mentor, Role.MENTOR)] if mentor is not None else []
    if session.kind == ListingKind.GROUP:
        people.extend(Participant(mentee, Role.MENTEE) for mentee in group_participants(db, session.id))
    elif session.mentee_user_id is not None:
        people.append(Participant(session.mentee_user_id, Role.MENTEE))
    return people


def _claim(db: Session, session_id: uuid.UUID, offset_seconds: int, people: Sequence[Participant]) -> set[uuid.UUID]:
    """Insert the reminder rows; the users whose row this transaction inserted (the others were told already)."""
    if not people:
        return set()
    rows = [{"session_id": session_id, "user_id": person.user_id, "offset_seconds": offset_seconds}
            for person in people]
    statement = insert(_REMINDERS).values(rows).on_conflict_do_nothing().returning(_REMINDERS.c.user_id)
    return set(db.scalars(statement))


def in_words(offset: timedelta) -> dict[str, Any]:
    """``24 hours``, ``1 hour``, ``30 minutes``, ``45 seconds`` (a word of a message: in the reader's language)."""
    seconds = int(offset.total_seconds())
    unit, size = next((unit, size) for unit, size in (("hour", 3600), ("minute", 60), ("second", 1))
                      if seconds % size == 0)
    count = seconds // size
    return wording.duration(count, unit)


def time_left_in_words(left: timedelta) -> dict[str, Any]:
    """The time until a session, to the nearest hour (from an hour on) or minute: a reminder sent late
    (the session was booked inside the offset) says how long is really left, not the offset."""
    seconds = max(0.0, left.total_seconds())
    minutes = round(seconds / 60)
    if minutes >= 60:  # noqa: PLR2004 - an hour
        return in_words(timedelta(hours=round(seconds / 3600)))
    return in_words(timedelta(minutes=minutes)) if minutes else wording.phrase(LESS_THAN_A_MINUTE)


def _remind(db: Session, session: MentorshipSession, offset: timedelta, now: datetime) -> int:
    offset_seconds = int(offset.total_seconds())
    people = participants_of(db, session)
    claimed = _claim(db, session.id, offset_seconds, people)
    if not claimed:
        return 0
    mentees = [p.user_id for p in people if p.role == Role.MENTEE] if session.kind == ListingKind.GROUP else []
    mentor = next((p.user_id for p in people if p.role == Role.MENTOR), None)
    payload: SessionReminderPayload = {**session_payload(session, mentees),
                                       "offset_seconds": offset_seconds}
    event = record(db, EventType.SESSION_REMINDER, payload, actor=Role.SYSTEM.value) if mentor in claimed else None
    title, mentor_timezone = db.execute(
        select(Listing.title, MentorProfile.timezone)
        .join(MentorProfile, MentorProfile.id == Listing.mentor_profile_id)
        .where(Listing.id == session.listing_id)
    ).one()
    # The start is written for each reader when read: in their zone and locale then, else in the mentor's zone.
    words = {"title": title, "listing": wording.quoted(title), "left": time_left_in_words(session.start_time - now),
             "when": wording.at(session.start_time, mentor_timezone)}
    for person in people:
        if person.user_id not in claimed:
            continue
        notify_user(db, person.user_id, type_=EventType.SESSION_REMINDER, said=REMINDER, words=words,
                    event_id=event.id if event is not None else None,
                    data={"event_type": EventType.SESSION_REMINDER, "resource": view_for(payload, person.role)})
    log.info("session.reminded", session_id=str(session.id), offset_seconds=offset_seconds, told=len(claimed))
    return len(claimed)


def send_due_reminders(db: Session, *, now: datetime | None = None, limit: int = 200) -> int:
    """Tell every participant of each due session, once per offset; at most ``limit`` sessions per offset.

    Returns how many reminders (one per participant and offset) this call sent.
    """
    now = now or utcnow()
    sent = 0
    for offset, nearer in due_windows(get_settings().reminder_offsets):
        for session in _due_sessions(db, now, offset, nearer, limit):
            sent += _remind(db, session, offset, now)
    db.flush()
    return sent
