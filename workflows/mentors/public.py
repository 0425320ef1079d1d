"""What visitors without an account see: mentors who made their profile public, those mentors' active listings and
the listings' free times. Nothing else: no mentee, no request, no location, no email.

A mentor is private by default (``MentorProfile.public``); a private mentor, a withdrawn listing and a deleted
account are not found here, whoever asks.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Listing, ListingKind, MentorProfile
from models.mentors.listings import SLUG_PATTERN
from workflows.errors import NotFound
from workflows.mentors import profiles
from workflows.pagination import Page
from workflows.scheduling import slots
from workflows.sessions import group

# A public profile shows at most this many listings, newest first; a group listing at most this many sessions a range.
MAX_LISTINGS_SHOWN = 50
MAX_GROUP_TIMES = 100
# Whose pages visitors see: a mentor who chose to be public and has not deleted their account.
PUBLIC_MENTOR = MentorProfile.public.is_(True) & MentorProfile.listed.is_(True)


@dataclass(frozen=True)
class PublicTime:
    """A time a visitor may book: a free slot of a one-to-one listing, or a group session with seats left."""

    start_time: datetime
    end_time: datetime
    seats_left: int | None = None


def public_mentors(db: Session, *, skill: str | None, q: str | None, limit: int, cursor: str | None
                   ) -> Page[MentorProfile]:
    """The directory of public mentors, as :func:`profiles.list_mentor_profiles` finds them."""
    return profiles.list_mentor_profiles(db, skill=skill, q=q, limit=limit, cursor=cursor, public_only=True)


@dataclass(frozen=True)
class PublicMentorPage:
    """A public mentor with their active listings; reads as the profile otherwise."""

    profile: MentorProfile
    listings: list[Listing]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.profile, name)


def public_mentor(db: Session, profile_id: uuid.UUID) -> MentorProfile:
    return profiles.get_mentor_profile(db, profile_id, must_be_public=True)


def public_mentor_page(db: Session, profile_id: uuid.UUID) -> PublicMentorPage:
    """A public mentor and their active listings (404 for any other mentor)."""
    profile = public_mentor(db, profile_id)
    return PublicMentorPage(profile, public_listings(db, profile))


def public_listings(db: Session, profile: MentorProfile) -> list[Listing]:
    """A public mentor's active listings (those they own), newest first."""
    return list(db.scalars(
        select(Listing).options(joinedload(Listing.skill))
        .where(Listing.mentor_profile_id == profile.id, Listing.active.is_(True), Listing.programme_id.is_(None))
        .order_by(Listing.created_at.desc(), Listing.id).limit(MAX_LISTINGS_SHOWN)))


def checked_slug(slug: str) -> str:
    """``slug`` if it is shaped as listings' slugs are; else 404 before any query (a NUL byte never reaches the
    database)."""
    if not re.fullmatch(SLUG_PATTERN, slug):
        raise NotFound("no public listing has this address")
    return slug


def public_listing(db: Session, slug: str) -> Listing:
    """The active listing of a public mentor with this slug; 404 for any other."""
    listing = db.scalars(
        select(Listing).options(joinedload(Listing.skill), joinedload(Listing.mentor_profile)
                                .joinedload(MentorProfile.user))
        .join(MentorProfile, MentorProfile.id == Listing.mentor_profile_id)
        .where(Listing.slug == slug, Listing.active.is_(True), Listing.programme_id.is_(None), PUBLIC_MENTOR)
    ).one_or_none()
    if listing is None:
        raise NotFound("no public listing has this address")
    return listing


def public_times(db: Session, listing: Listing, *, start: datetime, end: datetime) -> list[PublicTime]:
    """The times in [start, end) a visitor could book: a one-to-one listing's free slots (as anyone sees them, not as
    a signed-in viewer does), a group listing's sessions with a seat left (the first :data:`MAX_GROUP_TIMES`)."""
    if listing.kind == ListingKind.GROUP:
        found = group.find_group_sessions(db, listing_id=listing.id, start_from=start, start_to=end,
                                          limit=MAX_GROUP_TIMES, cursor=None)
        return [PublicTime(s.start_time, s.end_time, s.seats_left) for s in found.items if s.seats_left > 0]
    return [PublicTime(slot.start_time, slot.end_time) for slot in slots.free_slots(db, listing.id, start=start,
                                                                                     end=end)]


def indexed(db: Session, *, limit: int) -> tuple[list[uuid.UUID], list[str]]:
    """What search engines may index: the public mentors' ids, then their active listings' slugs, oldest first,
    ``limit`` in all."""
    mentors = list(db.scalars(select(MentorProfile.id).where(PUBLIC_MENTOR).order_by(MentorProfile.created_at)
                              .limit(limit)))
    slugs = list(db.scalars(select(Listing.slug).join(MentorProfile, MentorProfile.id == Listing.mentor_profile_id)
                            .where(PUBLIC_MENTOR, Listing.active.is_(True), Listing.programme_id.is_(None))
                            .order_by(Listing.created_at)
                            .limit(limit - len(mentors))))
    return mentors, slugs
