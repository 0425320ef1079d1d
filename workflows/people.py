"""Bookings and sessions as responses show them: with their session and their people's names, as each viewer
may see them (the schemas of ``api/`` name what routes return through these).

A booking or session names its mentor (by mentor profile id) and its mentee (by user id), each with
their display name. A group session names its participants to its mentor only; its mentees see the
seat count, never each other. Emails never leave ``/me``.

Names are read in at most two queries for a whole page (mentors and mentees, seats), never one per row;
a session's default meeting place (its listing's location) in one more, and a page's pending requests'
competitors (other people's requests for the same mentor and time) in one more.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ARRAY, Uuid, and_, bindparam, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from infra.config import get_settings
from infra.sql import statuses
from models import (
    ActionItem,
    AttendanceDispute,
    Booking,
    BookingSeries,
    BookingStatus,
    Listing,
    ListingKind,
    MentorProfile,
    MentorshipSession,
    NoShow,
    Pairing,
    Programme,
    Review,
    SessionStatus,
    User,
    WaitlistEntry,
    WaitlistStatus,
)
from workflows import access
from workflows.actors import Actor
from workflows.errors import NotFound
from workflows.roles import Role

UNKNOWN = "Unknown user"


@dataclass(frozen=True)
class Person:
    """Someone as others see them: the mentor's id is their mentor profile id, a mentee's their user id."""

    id: uuid.UUID
    display_name: str


@dataclass(frozen=True)
class NamedBooking:
    booking: Booking
    session_id: uuid.UUID | None
    mentor: Person
    mentee: Person
    competing_requests: int = 0


@dataclass(frozen=True)
class SeriesPairing:
    """The programme pairing whose sessions a series asks for: its mentor answers the programme's proposal."""

    id: uuid.UUID
    programme_id: uuid.UUID
    programme_name: str
    asked_by_mentee: bool = False  # the mentee asked this mentor (a programme whose mentees choose)


@dataclass(frozen=True)
class NamedSeries:
    series: BookingSeries
    times: list[Booking]  # in start order
    mentor: Person
    mentee: Person
    pairing: SeriesPairing | None = None


@dataclass(frozen=True)
class NamedSession:
    session: MentorshipSession
    mentor: Person
    mentee: Person | None  # individual sessions only
    participants: list[Person] | None  # group sessions, and only for their mentor
    listing_location: str | None = None  # where the listing's sessions meet by default
    reviewed: bool | None = None  # completed sessions the viewer attended as a mentee: whether they reviewed it
    attendance: list[Attendee] = field(default_factory=list)  # who checked in, and who was found absent
    seats_offered: int = 0  # a group session's seats held for people in its line (workflows.sessions.waitlists)
    action_items: list[str] | None = None  # the pairing's items it raised, when it is a programme's session


_MENTORS_AND_USERS = union_all(
    select(literal("mentor").label("kind"), MentorProfile.id, User.display_name)
    .join(User, User.id == MentorProfile.user_id)
    .where(MentorProfile.id == func.any(bindparam("mentor_ids", type_=ARRAY(Uuid)))),
    select(literal("user").label("kind"), User.id, User.display_name)
    .where(User.id == func.any(bindparam("user_ids", type_=ARRAY(Uuid)))),
)


def display_names(db: Session, user_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """The users' display names by id (a deleted account's, or an unknown id's, missing), in one query; none asked,
    none read."""
    known = {one for one in user_ids if one is not None}
    return dict(db.execute(select(User.id, User.display_name).where(User.id.in_(known))).all()) if known else {}


def names(db: Session, mentor_profile_ids: Iterable[uuid.UUID], user_ids: Iterable[uuid.UUID] = ()
          ) -> tuple[dict[uuid.UUID, Person], dict[uuid.UUID, Person]]:
    """Mentors by mentor profile id and users by user id, each with their display name, in one query."""
    mentors, users = set(mentor_profile_ids), set(user_ids)
    found: dict[str, dict[uuid.UUID, Person]] = {"mentor": {}, "user": {}}
    if mentors or users:
        for kind, key, name in db.execute(_MENTORS_AND_USERS, {"mentor_ids": list(mentors), "user_ids": list(users)}):
            found[kind][key] = Person(key, name)
    return found["mentor"], found["user"]


def _named(people: dict[uuid.UUID, Person], key: uuid.UUID) -> Person:
    return people.get(key) or Person(key, UNKNOWN)


def name_series(db: Session, records: Sequence[BookingSeries], times: Mapping[uuid.UUID, list[Booking]]
                ) -> list[NamedSeries]:
    """The series with their times (series id -> its bookings in start order), their people's names and the
    programme pairing each asks sessions for (if any): two queries for a page."""
    mentors, mentees = names(db, (s.mentor_profile_id for s in records), (s.mentee_user_id for s in records))
    pairings = {series_id: SeriesPairing(pairing_id, programme_id, name, by == mentee)
                for series_id, pairing_id, programme_id, name, by, mentee
                in db.execute(select(Pairing.series_id, Pairing.id, Pairing.programme_id, Programme.name,
                                     Pairing.proposed_by_user_id, Pairing.mentee_user_id)
                              .join(Programme, Programme.id == Pairing.programme_id)
                              .where(Pairing.series_id.in_([s.id for s in records]))).all()} if records else {}
    return [NamedSeries(s, times[s.id], _named(mentors, s.mentor_profile_id), _named(mentees, s.mentee_user_id),
                        pairings.get(s.id)) for s in records]


_MAY_HAVE_A_SESSION = frozenset({BookingStatus.ACCEPTED, BookingStatus.CANCELLED})


def session_ids_for(db: Session, bookings: Sequence[Booking], *, sessions_made: bool = True
                    ) -> dict[uuid.UUID, uuid.UUID]:
    """booking id -> its session: the group session of a seat, else the session made from it (only an
    accepted booking has one, or a booking cancelled with its session). Without ``sessions_made``, none
    has been made from these bookings yet (the transaction deciding them has not committed): no lookup."""
    seats = {b.id: b.group_session_id for b in bookings if b.group_session_id is not None}
    individual = [b.id for b in bookings
                  if sessions_made and b.group_session_id is None and b.status in _MAY_HAVE_A_SESSION]
    if not individual:
        return seats
    rows = db.execute(
        select(MentorshipSession.booking_id, MentorshipSession.id).where(MentorshipSession.booking_id.in_(individual))
    ).all()
    return {**seats, **{booking_id: session_id for booking_id, session_id in rows if booking_id is not None}}


def name_bookings(db: Session, bookings: Sequence[Booking], *, sessions_made: bool = True) -> list[NamedBooking]:
    """The bookings with their sessions and their people's names: two queries at most for a page, one
    without ``sessions_made`` (a decision's answer: its session is made after it commits)."""
    session_ids = session_ids_for(db, bookings, sessions_made=sessions_made)
    mentors, mentees = names(db, (b.mentor_profile_id for b in bookings), (b.mentee_user_id for b in bookings))
    competing = competing_requests(db, [b.id for b in bookings if b.status == BookingStatus.DRAFT])
    return [NamedBooking(b, session_ids.get(b.id), _named(mentors, b.mentor_profile_id),
                         _named(mentees, b.mentee_user_id), competing.get(b.id, 0)) for b in bookings]


_COMPETING = statuses("""
    SELECT d.id, count(*) FROM bookings d
    JOIN bookings o ON o.mentor_profile_id = d.mentor_profile_id AND o.status = :draft
         AND o.start_time < d.end_time AND o.end_time > d.start_time AND o.mentee_user_id <> d.mentee_user_id
    WHERE d.id = ANY(:ids) AND d.status = :draft
    GROUP BY d.id
""", draft=BookingStatus.DRAFT)


def competing_requests(db: Session, draft_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """For each pending request, how many other people's pending requests ask its mentor for an overlapping
    time: those its accept would decline (``workflows.bookings.lifecycle``). One query for a page; none
    without a pending request."""
    if not draft_ids:
        return {}
    return dict(db.execute(_COMPETING, {"ids": list(draft_ids)}).all())


def seat_holders(db: Session, session_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Person]]:
    """Each group session's mentees holding a seat, in the order they joined; of a cancelled session,
    those whose seats its cancellation ended (the rule of ``workflows.sessions.lifecycle``' ``_holds_seat``)."""
    if not session_ids:
        return {}
    rows = db.execute(
        select(Booking.group_session_id, User.id, User.display_name)
        .join(User, User.id == Booking.mentee_user_id)
        .join(MentorshipSession, MentorshipSession.id == Booking.group_session_id)
        .where(Booking.group_session_id.in_(session_ids),
               or_(Booking.status == BookingStatus.ACCEPTED,
                   and_(Booking.status == BookingStatus.CANCELLED,
                        MentorshipSession.status == SessionStatus.CANCELLED)))
        .order_by(Booking.created_at, Booking.id)
    ).all()
    seats: dict[uuid.UUID, list[Person]] = {session_id: [] for session_id in session_ids}
    for session_id, user_id, name in rows:
        if session_id is not None:  # always, by the WHERE clause
            seats[session_id].append(Person(user_id, name))
    return seats


def name_sessions(db: Session, actor: Actor, sessions: Sequence[MentorshipSession]) -> list[NamedSession]:
    """The sessions as ``actor`` sees them: participants of the group sessions they mentor, no one else's."""
    mentors, mentees = names(db, (s.mentor_profile_id for s in sessions),
                             (s.mentee_user_id for s in sessions if s.mentee_user_id is not None))
    mentored = [s.id for s in sessions if s.kind == ListingKind.GROUP
                and actor.mentor_profile_id is not None and s.mentor_profile_id == actor.mentor_profile_id]
    seats = seat_holders(db, mentored)
    locations = listing_locations(db, {s.listing_id for s in sessions if s.meeting_url is None})
    attended = [s.id for s in sessions if s.status == SessionStatus.COMPLETED
                and s.mentor_profile_id != actor.mentor_profile_id]
    reviewed = set(db.scalars(select(Review.session_id).where(
        Review.session_id.in_(attended), Review.mentee_user_id == actor.user_id))) if attended else set()
    present = attendance_of(db, actor, list(sessions), {key: person.display_name for key, person in mentors.items()})
    groups = [s.id for s in sessions if s.kind == ListingKind.GROUP]
    offered = dict(db.execute(select(WaitlistEntry.session_id, func.count()).where(
        WaitlistEntry.session_id.in_(groups), WaitlistEntry.status == WaitlistStatus.OFFERED)
        .group_by(WaitlistEntry.session_id)).all()) if groups else {}
    items = _pairing_items(db, [s.id for s in sessions if s.mentee_user_id is not None])
    return [
        NamedSession(s, _named(mentors, s.mentor_profile_id),
                     _named(mentees, s.mentee_user_id) if s.mentee_user_id is not None else None,
                     seats.get(s.id), locations.get(s.listing_id),
                     (s.id in reviewed) if s.id in attended else None, present[s.id], offered.get(s.id, 0),
                     items.get(s.id))
        for s in sessions
    ]


def _pairing_items(db: Session, session_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The pairing's action items each session raised, in the order written (``workflows.sessions.pairing_items``):
    what its ``action_items`` field shows, one query for a page."""
    shown: dict[uuid.UUID, list[str]] = {}
    if session_ids:
        for session_id, title in db.execute(select(ActionItem.session_id, ActionItem.title)
                                            .where(ActionItem.session_id.in_(session_ids))
                                            .order_by(ActionItem.created_at, ActionItem.id)):
            if session_id is not None:
                shown.setdefault(session_id, []).append(title)
    return shown


_LOCATIONS = select(Listing.id, Listing.location).where(
    Listing.id == func.any(bindparam("listing_ids", type_=ARRAY(Uuid))), Listing.location.is_not(None))


def listing_locations(db: Session, listing_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The listings' locations, where set: one query for a page."""
    if not listing_ids:
        return {}
    rows = db.execute(_LOCATIONS, {"listing_ids": list(listing_ids)}).all()
    return {listing_id: location for listing_id, location in rows if location is not None}


def session_participants(db: Session, actor: Actor, session_id: uuid.UUID) -> list[Person]:
    """The mentees of a session, by name, for its mentor only (404 for anyone else): an individual session's
    mentee, or a group session's seat holders in the order they joined."""
    session = db.get(MentorshipSession, session_id)
    if session is None or actor.mentor_profile_id is None or session.mentor_profile_id != actor.mentor_profile_id:
        raise NotFound("session not found")
    if session.mentee_user_id is not None:
        return [_named(names(db, (), [session.mentee_user_id])[1], session.mentee_user_id)]
    return seat_holders(db, [session.id])[session.id]


@dataclass(frozen=True)
class Attendee:
    """One participant's attendance: ``id`` is the mentor's profile or the mentee's user; a mentee's also says
    who was found absent from their meeting, what it cost them, and the state of a dispute of it."""

    role: str
    id: uuid.UUID
    display_name: str
    checked_in_at: datetime | None
    booking_id: uuid.UUID | None = None
    no_show: str | None = None
    no_show_fee_cents: int | None = None
    credit_status: str | None = None
    disputable_until: datetime | None = None
    dispute_status: str | None = None
    no_show_final: bool | None = None  # a finding is final once undisputed past its window, or decided


def attendance_of(db: Session, actor: Actor, sessions: list[MentorshipSession], mentor_names: dict[uuid.UUID, str]
                  ) -> dict[uuid.UUID, list[Attendee]]:
    """Each session's attendance as the actor may see it: its mentor and administrators see everyone; a mentee, the
    mentor and themself. One query for a page; in a page of several sessions, a group session's seats are left out
    for its mentor (``GET /sessions/{id}`` lists them), so a page never reads every seat of every session."""
    if not sessions:
        return {}
    individual = {s.booking_id: s.id for s in sessions if s.booking_id is not None}
    everyone = [s.id for s in sessions if s.booking_id is None and len(sessions) == 1
                and access.sees_every_seat(actor, s)]
    groups = [s.id for s in sessions if s.booking_id is None]
    seats = (Booking.group_session_id.in_(groups) & (Booking.status == BookingStatus.ACCEPTED)
             & (Booking.group_session_id.in_(everyone) | (Booking.mentee_user_id == actor.user_id)))
    rows = db.execute(
        select(Booking, User.display_name, AttendanceDispute.status)
        .join(User, User.id == Booking.mentee_user_id)
        .outerjoin(AttendanceDispute, AttendanceDispute.booking_id == Booking.id)
        .where(Booking.id.in_(list(individual)) | seats)
        .order_by(Booking.created_at, Booking.id)
    ).all()
    window = timedelta(hours=get_settings().no_show_dispute_hours)
    found: dict[uuid.UUID, list[Attendee]] = {
        s.id: [Attendee(Role.MENTOR.value, s.mentor_profile_id, mentor_names.get(s.mentor_profile_id, ""),
                        s.mentor_checked_in_at)] for s in sessions}
    for booking, name, dispute in rows:
        session_id = individual.get(booking.id) or booking.group_session_id
        assert session_id is not None
        attributed = booking.no_show in (NoShow.MENTEE, NoShow.MENTOR)
        found[session_id].append(Attendee(
            Role.MENTEE.value, booking.mentee_user_id, name, booking.checked_in_at, booking.id,
            booking.no_show.value if booking.no_show else None, booking.no_show_fee_cents,
            booking.credit_status.value if booking.bundle_purchase_id else None,
            booking.no_show_at + window if attributed and booking.no_show_at and dispute is None
            and booking.no_show_confirmed_at is None else None,
            dispute.value if dispute is not None else None,
            (booking.no_show_confirmed_at is not None) if booking.no_show is not None else None))
    return found
