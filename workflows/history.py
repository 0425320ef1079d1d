"""The history of a booking, a session, a series or a programme: its outbox events in order, as the people who
may see it read them.

The outbox is the record: every change of a booking or session writes one event in the same transaction.
A timeline shows each event's type, when it happened and the part its actor took (mentor, mentee, admin
or the system), never the actor's id, so a group session's mentees do not learn each other's ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from models import (
    Announcement,
    AttendanceDispute,
    Booking,
    MatchRun,
    MentorProfile,
    OutboxEvent,
    Pairing,
    PairingGoal,
    PairingStep,
    ProgrammeParticipant,
    RescheduleProposal,
    User,
    WaitlistEntry,
)
from workflows import access
from workflows.actors import ADMIN_ACTOR_PREFIX, Actor
from workflows.bookings.lifecycle import get_visible_booking
from workflows.bookings.series import get_series
from workflows.errors import Forbidden, NotFound
from workflows.events import EventType, participants
from workflows.pagination import Page, paginate
from workflows.programmes import access as programme_access
from workflows.programmes import history_lines
from workflows.roles import Role
from workflows.sessions.lifecycle import get_visible_session

USER_ACTOR_PREFIX = "user:"
ADMIN = Role.ADMIN.value


@dataclass(frozen=True)
class TimelineEntry:
    id: uuid.UUID
    type: str
    actor: str
    at: datetime
    summary: str | None = None  # a programme's: the event in a sentence naming its people


def booking_timeline(db: Session, actor: Actor, booking_id: uuid.UUID, *, limit: int, cursor: str | None
                     ) -> Page[TimelineEntry]:
    """A booking's events, oldest first (its participants and admins; 404 for anyone else): its own, its proposals
    to move it, its series' when it is one time of a series, and, when a move replaced it, the
    ``booking.rescheduled`` of the booking that followed."""
    booking = get_visible_booking(db, actor, booking_id)
    proposals = list(db.scalars(select(RescheduleProposal.id).where(RescheduleProposal.booking_id == booking_id)))
    successor = db.scalar(select(Booking.id).where(Booking.rescheduled_from_booking_id == booking_id))
    followed = and_(OutboxEvent.aggregate_id == successor, OutboxEvent.type == EventType.BOOKING_RESCHEDULED.value) \
        if successor is not None else None
    series = [booking.series_id] if booking.series_id else []
    return _timeline(db, [booking_id, *proposals, *series], limit=limit, cursor=cursor, also=followed)


def series_timeline(db: Session, actor: Actor, series_id: uuid.UUID, *, limit: int, cursor: str | None
                    ) -> Page[TimelineEntry]:
    """A series' own events (requested, answered, cancelled), oldest first: its participants and admins."""
    get_series(db, actor, series_id)
    return _timeline(db, [series_id], limit=limit, cursor=cursor)


def session_timeline(db: Session, actor: Actor, session_id: uuid.UUID, *, limit: int, cursor: str | None
                     ) -> Page[TimelineEntry]:
    """A session's events and, for an individual session, its booking's, oldest first (participants and admins), with
    its attendance disputes and a group's absent seats (``booking.no_show``): a group's mentee sees their own seat's
    only; its mentor also sees its line (``waitlist.*``)."""
    session = get_visible_session(db, actor, session_id)
    aggregates = [session.id] + ([session.booking_id] if session.booking_id else [])
    everyone = access.sees_every_seat(actor, session) or session.booking_id is not None
    seats = select(Booking.id).where(Booking.group_session_id == session.id)
    if not everyone:
        seats = seats.where(Booking.mentee_user_id == actor.user_id)
    disputes = list(db.scalars(select(AttendanceDispute.id).where(AttendanceDispute.session_id == session.id,
                                                                  AttendanceDispute.booking_id.in_(seats)
                                                                  if session.booking_id is None else true())))
    absent = and_(OutboxEvent.type == EventType.BOOKING_NO_SHOW.value, OutboxEvent.aggregate_id.in_(seats)) \
        if session.booking_id is None else None
    # A group session's line, for its mentor and admins: seats offered, given, and offers that ran out.
    line = list(db.scalars(select(WaitlistEntry.id).where(WaitlistEntry.session_id == session.id))) \
        if session.booking_id is None and everyone else []
    return _timeline(db, [*aggregates, *disputes, *line], limit=limit, cursor=cursor, also=absent)


def programme_timeline(db: Session, actor: Actor, programme_id: uuid.UUID, *, limit: int, cursor: str | None,
                       asked: str | None = None) -> Page[TimelineEntry]:
    """A programme's events, its enrolments', its pairings' and their goals' and plan steps', its match runs' and its
    announcements', oldest first: its coordinators and admins (403 for its participants, 404 for anyone else); each
    line in the locale ``asked`` (a client's), else the reader's own."""
    programme_access.may_read(db, actor, programme_id)
    enrolments = OutboxEvent.aggregate_id.in_(select(ProgrammeParticipant.id)
                                              .where(ProgrammeParticipant.programme_id == programme_id))
    its_pairings = select(Pairing.id).where(Pairing.programme_id == programme_id)
    its_goals = select(PairingGoal.id).where(PairingGoal.pairing_id.in_(its_pairings))
    its_steps = select(PairingStep.id).where(PairingStep.pairing_id.in_(its_pairings))
    its_runs = select(MatchRun.id).where(MatchRun.programme_id == programme_id)
    its_announcements = select(Announcement.id).where(Announcement.programme_id == programme_id)
    query = select(OutboxEvent).where(or_(
        OutboxEvent.aggregate_id == programme_id, enrolments, OutboxEvent.aggregate_id.in_(its_pairings),
        OutboxEvent.aggregate_id.in_(its_goals), OutboxEvent.aggregate_id.in_(its_steps),
        OutboxEvent.aggregate_id.in_(its_runs),
        OutboxEvent.aggregate_id.in_(its_announcements)))
    page: Page[OutboxEvent] = paginate(db, query, OutboxEvent.created_at, OutboxEvent.id, limit=limit,
                                       cursor=cursor)
    events = history_lines.folded(page.items)
    mentors, names = _mentor_users(db, events), history_lines.Names(db, events)
    locale = asked or db.scalar(select(User.locale).where(User.id == actor.user_id))
    return Page([TimelineEntry(event.id, event.type, _part(event, mentors), event.created_at,
                               history_lines.line(event, names, locale)) for event in events], page.next_cursor)


def mentor_timeline(db: Session, actor: Actor, profile_id: uuid.UUID, *, limit: int, cursor: str | None
                    ) -> Page[TimelineEntry]:
    """The changes of a mentor's schedule (``schedule.changed``), oldest first: the mentor's own (403 for others)."""
    profile = db.get(MentorProfile, profile_id)
    if profile is None or not profile.listed:
        raise NotFound("mentor profile not found")
    if profile.user_id != actor.user_id:
        raise Forbidden("only the mentor can read their schedule's history")
    return _timeline(db, [profile_id], limit=limit, cursor=cursor)


def _timeline(db: Session, aggregate_ids: Sequence[uuid.UUID], *, limit: int, cursor: str | None,
              also: ColumnElement[bool] | None = None) -> Page[TimelineEntry]:
    mine = OutboxEvent.aggregate_id.in_(aggregate_ids)
    query = select(OutboxEvent).where(or_(mine, also) if also is not None else mine)
    page: Page[OutboxEvent] = paginate(db, query, OutboxEvent.created_at, OutboxEvent.id, limit=limit,
                                       cursor=cursor)
    mentors = _mentor_users(db, page.items)
    return Page([TimelineEntry(event.id, event.type, _part(event, mentors), event.created_at)
                 for event in page.items], page.next_cursor)


def _mentor_users(db: Session, events: Sequence[OutboxEvent]) -> dict[uuid.UUID, uuid.UUID]:
    profile_ids = {p for p in (participants(e.payload).mentor_profile_id for e in events) if p is not None}
    if not profile_ids:
        return {}
    rows = db.execute(select(MentorProfile.id, MentorProfile.user_id).where(MentorProfile.id.in_(profile_ids)))
    return {row.id: row.user_id for row in rows}


def _part(event: OutboxEvent, mentor_users: dict[uuid.UUID, uuid.UUID]) -> str:
    """The part the event's actor took in it."""
    recorded = event.actor or Role.SYSTEM.value
    if recorded.startswith(ADMIN_ACTOR_PREFIX):
        return ADMIN
    if not recorded.startswith(USER_ACTOR_PREFIX):
        return recorded if recorded in {role.value for role in Role} else Role.SYSTEM.value
    try:
        user_id = uuid.UUID(recorded.removeprefix(USER_ACTOR_PREFIX))
    except ValueError:
        return Role.SYSTEM.value
    people = participants(event.payload)
    mentor = people.mentor_profile_id
    role = people.role_of(user_id, mentor if mentor is not None and mentor_users.get(mentor) == user_id else None)
    return role.value if role is not None else ADMIN
