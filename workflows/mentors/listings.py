"""Listings: what a mentor offers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from models import Listing, ListingKind, ListingMember, MentorProfile
from workflows import access
from workflows.actors import Actor
from workflows.errors import BusinessRuleViolation, Forbidden
from workflows.events import EventType, record
from workflows.lookups import listing_or_404, own_listing
from workflows.mentors import search
from workflows.pagination import Page, encode_cursor, paginate
from workflows.payloads import ScheduleChange, schedule_payload
from workflows.scheduling import slots, teams
from workflows.skills import ensure_skills, normalise_skill

# The scheduling rules of a listing (workflows.scheduling.rules): changing one moves its free slots.
RULE_FIELDS = frozenset({"buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes", "max_days_ahead",
                         "slot_step_minutes", "max_sessions_per_day", "max_sessions_per_week",
                         "max_active_bookings_per_mentor", "max_instant_bookings_per_mentor"})
EDITABLE_FIELDS = frozenset(
    {"title", "description", "skill", "duration_minutes", "price_cents", "currency", "capacity", "active", "location",
     "instant_booking"}
) | RULE_FIELDS


def _mentor_profile_of(db: Session, actor: Actor) -> MentorProfile:
    profile = db.execute(select(MentorProfile).where(MentorProfile.user_id == actor.user_id)).scalar_one_or_none()
    if profile is None:
        raise Forbidden("only mentors can do this: create a mentor profile first")
    return profile


def _check_capacity(kind: str, capacity: int | None) -> None:
    if kind == ListingKind.GROUP and capacity is None:
        raise BusinessRuleViolation("a group listing needs a capacity (2-500)")
    if kind == ListingKind.INDIVIDUAL and capacity is not None:
        raise BusinessRuleViolation("only group listings have a capacity")


def create_listing(
    db: Session,
    actor: Actor,
    *,
    title: str,
    description: str,
    skill: str,
    duration_minutes: int,
    price_cents: int,
    currency: str | None,
    kind: str,
    capacity: int | None,
    location: str | None = None,
    instant_booking: bool = False,
    **rules: Any,
) -> Listing:
    """A new listing of the actor's; ``rules``: any of :data:`RULE_FIELDS`."""
    profile = _mentor_profile_of(db, actor)
    _check_capacity(kind, capacity)
    (skill_row,) = ensure_skills(db, [skill])
    listing = Listing(
        id=uuid.uuid4(),
        mentor_profile_id=profile.id,
        skill=skill_row,
        title=title.strip(),
        description=description,
        duration_minutes=duration_minutes,
        price_cents=price_cents,
        currency=(currency or profile.currency).upper(),
        kind=ListingKind(kind),
        capacity=capacity,
        location=location,
        instant_booking=instant_booking,
        **{field: value for field, value in rules.items() if field in RULE_FIELDS},
    )
    db.add(listing)
    db.flush()
    return listing


def get_listing(db: Session, listing_id: uuid.UUID) -> Listing:
    return listing_or_404(db, listing_id, options=[joinedload(Listing.skill)])


# A free-slot search reads mentors' calendars: one page checks at most this many listings, and reads at most
# this many calendars (a team listing's members each count; its first listing is checked whatever its team).
FREE_SLOT_CANDIDATES = 50
FREE_SLOT_CALENDARS = 100


def list_listings(
    db: Session,
    *,
    skill: str | None,
    mentor_profile_id: uuid.UUID | None,
    active: bool | None,
    limit: int,
    cursor: str | None,
    kind: str | None = None,
    max_price_cents: int | None = None,
    has_free_slot_between: tuple[datetime, datetime] | None = None,
    q: str | None = None,
    actor: Actor | None = None,
) -> Page[Listing]:
    """Listings in creation order, filtered in SQL; with ``has_free_slot_between``, active ones with a free slot;
    with ``q``, the best ``limit`` matches, ranked (``workflows.mentors.search``), on one page. A withdrawn listing is
    its mentors' own (its owner's and its team's) and administrators': nobody else lists it, with ``active=false`` or
    without."""
    query = select(Listing).options(joinedload(Listing.skill))
    # A programme's listings are found through the programme, not listed here (their mentor's own aside).
    query = query.where(Listing.programme_id.is_(None) | (Listing.mentor_profile_id == actor.mentor_profile_id)) \
        if actor is not None and actor.mentor_profile_id is not None else query.where(Listing.programme_id.is_(None))
    if actor is not None and not access.is_admin(actor):
        teaching = select(ListingMember.listing_id).where(ListingMember.mentor_profile_id == actor.mentor_profile_id)
        query = query.where(Listing.active.is_(True) | (Listing.mentor_profile_id == actor.mentor_profile_id)
                            | Listing.id.in_(teaching)) if actor.mentor_profile_id else \
            query.where(Listing.active.is_(True))
    if skill:
        query = query.where(Listing.skill.has(name=normalise_skill(skill)))
    if mentor_profile_id:
        query = query.where(Listing.mentor_profile_id == mentor_profile_id)
    if active is not None:
        query = query.where(Listing.active.is_(active))
    if kind:
        query = query.where(Listing.kind == ListingKind(kind))
    if max_price_cents is not None:
        query = query.where(Listing.price_cents <= max_price_cents)
    if q:
        return Page(items=search.rank_listings(db, query, q, limit=limit), next_cursor=None)
    if has_free_slot_between is None:
        return paginate(db, query, Listing.created_at, Listing.id, limit=limit, cursor=cursor)
    return _with_free_slot(db, query.where(Listing.active.is_(True)), has_free_slot_between, limit=limit,
                           cursor=cursor)


def _with_free_slot(db: Session, query: Select[Any], window: tuple[datetime, datetime], *, limit: int,
                    cursor: str | None) -> Page[Listing]:
    """The page's listings with a free slot in ``window``.

    Listings are checked in order until ``limit`` are found, ``FREE_SLOT_CANDIDATES`` (or ``limit``, if
    more) are checked, or the next one would take the calendars read past ``FREE_SLOT_CALENDARS``; the
    cursor resumes after the last one checked, so a page may be short, even empty, and still have a next one.
    """
    start, end = window
    candidates: Page[Listing] = paginate(db, query, Listing.created_at, Listing.id,
                                         limit=max(limit, FREE_SLOT_CANDIDATES), cursor=cursor)
    sizes = teams.team_sizes(db, [listing.id for listing in candidates.items])
    found: list[Listing] = []
    calendars = 0
    for index, listing in enumerate(candidates.items):
        calendars += sizes[listing.id]
        if index and calendars > FREE_SLOT_CALENDARS:
            last = candidates.items[index - 1]
            return Page(found, encode_cursor(last.created_at, last.id))
        if slots.has_free_slot(db, listing, start=start, end=end):
            found.append(listing)
        if len(found) == limit and index + 1 < len(candidates.items):
            return Page(found, encode_cursor(listing.created_at, listing.id))
    return Page(found, candidates.next_cursor)


def update_listing(db: Session, actor: Actor, listing_id: uuid.UUID, changes: dict[str, Any]) -> Listing:
    listing = own_listing(db, actor, listing_id, to="change it", options=[joinedload(Listing.skill)])
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise BusinessRuleViolation("these fields cannot be changed: {unknown}",
                                    words={"unknown": ', '.join(sorted(unknown))})
    if "skill" in changes:
        (listing.skill,) = ensure_skills(db, [changes.pop("skill")])
    if "currency" in changes:
        changes["currency"] = changes["currency"].upper()
    if "capacity" in changes:
        _check_capacity(listing.kind, changes["capacity"])
    moves_slots = any(getattr(listing, field) != value for field, value in changes.items()
                      if field in RULE_FIELDS | {"duration_minutes", "active"})
    for field, value in changes.items():
        setattr(listing, field, value)
    db.flush()
    if moves_slots:
        record(db, EventType.SCHEDULE_CHANGED, schedule_payload(listing.mentor_profile_id, ScheduleChange.RULES),
               actor=str(actor))
    return listing


class LocationKind(StrEnum):
    """What anyone may know of where a listing meets: online (an https meeting URL) or in person (a place)."""

    ONLINE = "online"
    IN_PERSON = "in_person"


@dataclass(frozen=True)
class ListingView:
    """A listing as one caller sees it: the location itself only for its mentors (owner and team)."""

    listing: Listing
    location: str | None
    location_kind: LocationKind | None


def location_kind(location: str | None) -> LocationKind | None:
    if location is None:
        return None
    return LocationKind.ONLINE if location.startswith("https://") else LocationKind.IN_PERSON


def as_seen_by(db: Session, actor: Actor, listings: Sequence[Listing]) -> list[ListingView]:
    """The listings as ``actor`` sees them. Mentees learn where a session meets from the session itself."""
    taught = teams.listings_taught_by(db, actor.mentor_profile_id, listings)
    return [ListingView(listing, listing.location if listing.id in taught else None, location_kind(listing.location))
            for listing in listings]
