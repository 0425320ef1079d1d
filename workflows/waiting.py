"""What waits for someone: the moves of their meetings the other person asked them to answer, seats offered to them
from a waitlist (each with its deadline), their places in line, and, for a mentor, how many requests wait for their
answer. What the web app flags in its menu and lists first in My bookings.

Read in a few statements whatever the counts (at most :data:`MAX_SHOWN` of each are listed): the open moves with
their bookings, those bookings' sessions and names, the places in line with their sessions and listings, and one
count per place still waiting (its position).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from models import (
    Booking,
    BookingSeries,
    BookingStatus,
    Listing,
    MentorshipSession,
    ProposalStatus,
    RescheduleProposal,
    SeriesStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.people import NamedBooking, name_bookings
from workflows.sessions import waitlists

MAX_SHOWN = 50


@dataclass(frozen=True)
class Move:
    """An open proposal or request to move a booking, for the viewer to answer."""

    proposal: RescheduleProposal
    booking: NamedBooking
    listing_title: str
    answer_as: str  # "mentee" or "mentor"


@dataclass(frozen=True)
class Place:
    """The viewer's place in a full group session's line, or the seat it offers them."""

    entry: WaitlistEntry
    session: MentorshipSession
    listing_title: str
    position: int | None


@dataclass(frozen=True)
class Waiting:
    moves: list[Move]
    places: list[Place]
    requests_to_answer: int

    @property
    def for_mentee(self) -> int:
        """What asks the viewer to act as a mentee: moves to answer, seats offered."""
        return (sum(1 for m in self.moves if m.answer_as == "mentee")
                + sum(1 for p in self.places if p.entry.status == WaitlistStatus.OFFERED))

    @property
    def for_mentor(self) -> int:
        """What asks the viewer to act as a mentor: requests to answer, moves mentees asked for."""
        return self.requests_to_answer + sum(1 for m in self.moves if m.answer_as == "mentor")


def waiting_for(db: Session, actor: Actor, *, now: datetime | None = None) -> Waiting:
    now = now or utcnow()
    return Waiting(_moves(db, actor, now), _places(db, actor, now), _requests_to_answer(db, actor, now))


def _moves(db: Session, actor: Actor, now: datetime) -> list[Move]:
    sides = [and_(Booking.mentee_user_id == actor.user_id, RescheduleProposal.proposed_by == "mentor")]
    if actor.mentor_profile_id is not None:
        sides.append(and_(Booking.mentor_profile_id == actor.mentor_profile_id,
                          RescheduleProposal.proposed_by == "mentee"))
    rows = db.execute(
        select(RescheduleProposal, Booking, Listing.title)
        .join(Booking, Booking.id == RescheduleProposal.booking_id)
        .join(Listing, Listing.id == Booking.listing_id)
        .where(RescheduleProposal.status == ProposalStatus.OPEN, RescheduleProposal.expires_at > now, or_(*sides))
        .order_by(RescheduleProposal.expires_at, RescheduleProposal.id).limit(MAX_SHOWN)
    ).all()
    named = name_bookings(db, [booking for _, booking, _ in rows])
    return [Move(proposal, view, title, "mentor" if proposal.proposed_by == "mentee" else "mentee")
            for (proposal, _, title), view in zip(rows, named, strict=True)]


def _places(db: Session, actor: Actor, now: datetime) -> list[Place]:
    rows = db.execute(
        select(WaitlistEntry, MentorshipSession, Listing.title)
        .join(MentorshipSession, MentorshipSession.id == WaitlistEntry.session_id)
        .join(Listing, Listing.id == MentorshipSession.listing_id)
        .where(WaitlistEntry.user_id == actor.user_id,
               WaitlistEntry.status.in_([WaitlistStatus.WAITING, WaitlistStatus.OFFERED]),
               MentorshipSession.end_time > now)
        .order_by(MentorshipSession.start_time, MentorshipSession.id).limit(MAX_SHOWN)
    ).all()
    return [Place(entry, session, title, waitlists.position(db, entry)) for entry, session, title in rows]


def _requests_to_answer(db: Session, actor: Actor, now: datetime) -> int:
    """What the mentor's Requests page lists to answer: each request of one time, and each series (a programme's
    proposed pairing among them) as one, however many times it asks for."""
    if actor.mentor_profile_id is None:
        return 0
    single = select(func.count()).select_from(Booking).where(
        Booking.mentor_profile_id == actor.mentor_profile_id, Booking.status == BookingStatus.DRAFT,
        Booking.series_id.is_(None), Booking.group_session_id.is_(None), Booking.start_time > now)
    series = select(func.count()).select_from(BookingSeries).where(
        BookingSeries.mentor_profile_id == actor.mentor_profile_id, BookingSeries.status == SeriesStatus.REQUESTED)
    return int(db.scalar(select(single.scalar_subquery() + series.scalar_subquery())) or 0)
