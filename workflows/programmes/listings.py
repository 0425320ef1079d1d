"""A mentor's listing in a programme: made when they join as its mentor (and their mentor profile with it, not public,
if they had none), free of charge (the programme pays its mentors, if at all, outside the service), as long as the
programme's sessions, open far enough ahead for a whole agreement. Only the programme's participants see and book it
(``workflows.lookups``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Listing, ListingKind, MentorProfile, Programme, User
from models.mentors.listings import MAX_DAYS_AHEAD
from workflows.skills import ensure_skills

SKILL = "mentoring"
CURRENCY = "USD"


def mentor_profile(db: Session, user_id: uuid.UUID) -> MentorProfile:
    """The user's mentor profile; a new one (not public: out of the visitors' directory) if they have none."""
    profile = db.scalar(select(MentorProfile).where(MentorProfile.user_id == user_id))
    if profile is not None:
        return profile
    user = db.get_one(User, user_id)
    # No headline (none in any language): the directory of signed-in users must not tell who takes part in which
    # programme.
    profile = MentorProfile(id=uuid.uuid4(), user_id=user_id, headline="", bio="",
                            timezone=user.timezone or "UTC", public=False)
    profile.skills = ensure_skills(db, [SKILL])
    db.add(profile)
    db.flush()
    return profile


def programme_listing(db: Session, programme: Programme, user_id: uuid.UUID) -> Listing:
    """The mentor's listing in the programme, made (with their profile) the first time; active again if it was put
    away, and as long as the programme's sessions are now."""
    profile = mentor_profile(db, user_id)
    listing = db.scalar(select(Listing).where(Listing.programme_id == programme.id,
                                              Listing.mentor_profile_id == profile.id).with_for_update())
    if listing is None:
        (skill,) = ensure_skills(db, [SKILL])
        listing = Listing(id=uuid.uuid4(), programme_id=programme.id, mentor_profile_id=profile.id, skill=skill,
                          title=programme.name[:200], description=f"Sessions of the programme {programme.name}.",
                          duration_minutes=programme.session_minutes, price_cents=0, currency=CURRENCY,
                          kind=ListingKind.INDIVIDUAL, capacity=None, max_days_ahead=MAX_DAYS_AHEAD)
        db.add(listing)
        db.flush()
    listing.active = True
    listing.duration_minutes = programme.session_minutes
    return listing


def put_away(db: Session, programme_id: uuid.UUID, user_id: uuid.UUID | None = None) -> None:
    """The programme's listings taken out of use: one mentor's (who left or was taken off), or all (it closed)."""
    query = update(Listing).where(Listing.programme_id == programme_id, Listing.active.is_(True))
    if user_id is not None:
        query = query.where(Listing.mentor_profile_id.in_(select(MentorProfile.id)
                                                          .where(MentorProfile.user_id == user_id)))
    db.execute(query.values(active=False))
