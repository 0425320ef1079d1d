"""Listings taught by a team, and which mentor a booking request goes to.

A listing without members is taught by its owner alone. With members, a request may name one, or the
service chooses (round-robin in the manner of Cal.com): among the members free at that time and
within their own windows, prefer those with no pending request overlapping it, then the fewest
upcoming sessions, then the fewest pending requests at that time, then the team's order. Choosers
of one listing take turns on the listing's row, so concurrent requests see each other's drafts
and spread. The choice is a preference; the exclusion constraints decide at accept time.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session, selectinload

from models import (
    Booking,
    BookingStatus,
    InvitationStatus,
    Listing,
    ListingMember,
    MentorProfile,
    MentorshipSession,
    TeamInvitation,
)
from workflows.actors import Actor
from workflows.errors import BusinessRuleViolation, Conflict, refusal
from workflows.lookups import listing_or_404
from workflows.scheduling import checks
from workflows.scheduling import rules as scheduling
from workflows.scheduling.commitments import LIVE
from workflows.scheduling.hours import weekly_hours
from workflows.scheduling.rules import ListingRules

NOT_ON_TEAM = refusal("this mentor does not teach this listing")


@dataclass(frozen=True)
class Team:
    listing_id: uuid.UUID
    owner_mentor_profile_id: uuid.UUID
    # In the team's order; the owner alone when the listing has no members.
    members: list[MentorProfile]
    is_team: bool
    # Mentors invited who have not accepted yet (shown to the owner only: None for anyone else).
    invited: list[MentorProfile] | None = None


def teacher_ids(db: Session, listing: Listing) -> list[uuid.UUID]:
    """Who teaches the listing, in the team's order: its members, or its owner when it has none."""
    members = list(db.scalars(select(ListingMember.mentor_profile_id).where(ListingMember.listing_id == listing.id)
                              .order_by(ListingMember.position)))
    return members or [listing.mentor_profile_id]


def team_sizes(db: Session, listing_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many mentors teach each listing: its members, or 1 (its owner) when it has none."""
    counted: dict[uuid.UUID, int] = dict(db.execute(
        select(ListingMember.listing_id, func.count()).where(ListingMember.listing_id.in_(listing_ids))
        .group_by(ListingMember.listing_id)).all())
    return {listing_id: counted.get(listing_id, 1) for listing_id in listing_ids}


def profiles(db: Session, ids: Sequence[uuid.UUID]) -> list[MentorProfile]:
    """The profiles, with their windows, in the order of ``ids``."""
    found = {p.id: p for p in db.scalars(select(MentorProfile).where(MentorProfile.id.in_(ids))
                                         .options(selectinload(MentorProfile.availability)))}
    return [found[i] for i in ids if i in found]


def get_team(db: Session, listing_id: uuid.UUID, actor: Actor | None = None) -> Team:
    """Who teaches the listing; with the invitations still open when ``actor`` owns it."""
    listing = listing_or_404(db, listing_id)
    ids = teacher_ids(db, listing)
    owner = actor is not None and actor.mentor_profile_id == listing.mentor_profile_id
    return Team(listing.id, listing.mentor_profile_id, profiles(db, ids), ids != [listing.mentor_profile_id],
                pending_invitees(db, listing.id) if owner else None)


def pending_invitees(db: Session, listing_id: uuid.UUID) -> list[MentorProfile]:
    """The mentors invited to the listing's team who have not answered yet, in the team's order."""
    return list(db.scalars(
        select(MentorProfile).join(TeamInvitation, TeamInvitation.mentor_profile_id == MentorProfile.id)
        .where(TeamInvitation.listing_id == listing_id, TeamInvitation.status == InvitationStatus.PENDING)
        .order_by(TeamInvitation.position, TeamInvitation.created_at)))


def assign_mentor(db: Session, actor: Actor, listing: Listing, rules: ListingRules, *, requested: uuid.UUID | None,
                  start: datetime, end: datetime, now: datetime) -> MentorProfile:
    """The mentor a request for [start, end) goes to: the one named, or the one the service chooses.

    Refuses a mentor not teaching the listing (400). A team's choice is among the members whose rules allow the
    time (``workflows.scheduling.rules``, read without their locks: a preference, which the request then checks again
    under the chosen mentor's lock); 409 when none does, naming a rule that refused one of them.
    """
    teachers = teacher_ids(db, listing)
    if requested is not None:
        if requested not in teachers:
            raise BusinessRuleViolation(NOT_ON_TEAM)
        teachers = [requested]
    if len(teachers) == 1:
        (profile,) = profiles(db, teachers)
        if profile.user_id == actor.user_id:
            raise BusinessRuleViolation("you cannot book a session with yourself")
        return profile
    # Choosers of this listing take turns, so each sees the drafts the others made (the lock does not
    # conflict with the key-share locks that inserting bookings takes).
    db.get(Listing, listing.id, with_for_update={"key_share": True}, populate_existing=True)
    candidates = [p for p in profiles(db, teachers) if p.user_id != actor.user_id]
    free: list[MentorProfile] = []
    refusals: list[str] = []
    for profile in candidates:
        try:
            checks.check(db, checks.Commitment(profile.id, listing.id, start, end, rules.before, rules.after,
                                                       step=rules.step), weekly=weekly_hours(profile.availability))
        except Conflict as refusal:
            refusals.append(str(refusal.details.get("rule")))
            continue
        free.append(profile)
    if not free:
        if all(rule == scheduling.Rule.HOURS for rule in refusals):
            raise scheduling.refused(scheduling.Rule.HOURS, "outside the availability of every mentor of this "
                                     "listing's team")
        rule = next(rule for rule in refusals if rule != scheduling.Rule.HOURS)
        if rule in scheduling.PRIVATE:  # whose and why is the members' own business
            rule = scheduling.Rule.UNAVAILABLE
        raise Conflict("no mentor of this listing's team is free at that time", rule=rule)
    ids = [p.id for p in free]
    pending, upcoming = _pending_at(db, ids, start, end), _upcoming(db, ids, now)
    position = {member: index for index, member in enumerate(teachers)}
    return min(free, key=lambda p: (pending[p.id] > 0, upcoming[p.id], pending[p.id], position[p.id]))


def _pending_at(db: Session, ids: list[uuid.UUID], start: datetime, end: datetime) -> Counter[uuid.UUID]:
    """Draft requests per mentor overlapping [start, end)."""
    return Counter(db.scalars(select(Booking.mentor_profile_id).where(
        Booking.mentor_profile_id.in_(ids), Booking.status == BookingStatus.DRAFT,
        Booking.start_time < end, Booking.end_time > start)))


def _upcoming(db: Session, ids: list[uuid.UUID], now: datetime) -> Counter[uuid.UUID]:
    """Sessions per mentor still to come: accepted individual bookings (their session may not exist
    yet) and live group sessions."""
    bookings = select(Booking.mentor_profile_id).where(
        Booking.mentor_profile_id.in_(ids), Booking.status == BookingStatus.ACCEPTED,
        Booking.group_session_id.is_(None), Booking.start_time > now)
    groups = select(MentorshipSession.mentor_profile_id).where(
        MentorshipSession.mentor_profile_id.in_(ids), MentorshipSession.booking_id.is_(None),
        MentorshipSession.status.in_(LIVE), MentorshipSession.start_time > now)
    return Counter(db.scalars(union_all(bookings, groups)))


def listings_taught_by(db: Session, mentor_profile_id: uuid.UUID | None, listings: Sequence[Listing]) -> set[uuid.UUID]:
    """The ids of those listings the mentor teaches: their own, and those whose team they are on."""
    if mentor_profile_id is None or not listings:
        return set()
    owned = {listing.id for listing in listings if listing.mentor_profile_id == mentor_profile_id}
    others = [listing.id for listing in listings if listing.id not in owned]
    if not others:
        return owned
    return owned | set(db.scalars(select(ListingMember.listing_id).where(
        ListingMember.mentor_profile_id == mentor_profile_id, ListingMember.listing_id.in_(others))))
