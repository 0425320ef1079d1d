"""Mentor profiles, skills and weekly availability."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import AvailabilityWindow, MentorProfile, Skill, mentor_profile_skills
from models.mentors.mentors import ONE_PROFILE_PER_USER
from workflows.actors import Actor
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidInput, NotFound, add_or_conflict
from workflows.events import EventType, record
from workflows.mentors import search
from workflows.pagination import Page, paginate
from workflows.payloads import ScheduleChange, schedule_payload
from workflows.skills import ensure_skills, normalise_skill


@dataclass(frozen=True)
class WindowSpec:
    weekday: int
    start_minute: int
    end_minute: int


# A profile is shown with its owner's display name, its skills and its windows, in one round trip per kind.
_SHOWN = (joinedload(MentorProfile.user), selectinload(MentorProfile.skills), selectinload(MentorProfile.availability))
LIMIT_FIELDS = frozenset({"max_sessions_per_day", "max_sessions_per_week"})
EDITABLE_FIELDS = frozenset({"headline", "bio", "timezone", "skills", "avatar_url", "public", "embed_origins",
                             "currency"}) | LIMIT_FIELDS


def create_mentor_profile(
    db: Session, actor: Actor, *, headline: str, bio: str, timezone: str, skills: Sequence[str],
    avatar_url: str | None = None, currency: str = "USD",
) -> MentorProfile:
    profile = MentorProfile(
        id=uuid.uuid4(), user_id=actor.user_id, headline=headline.strip(), bio=bio, timezone=timezone,
        avatar_url=avatar_url, currency=currency.upper(),
    )
    profile.skills = ensure_skills(db, skills)
    add_or_conflict(db, profile, {ONE_PROFILE_PER_USER: Conflict("you already have a mentor profile",
                                                                 reason="mentor_profile_exists")})
    return profile


def get_mentor_profile(db: Session, profile_id: uuid.UUID, *, must_be_public: bool = False) -> MentorProfile:
    """A listed profile (and a public one, with ``must_be_public``); a deleted account's profile is unlisted and
    answers 404."""
    profile = db.get(MentorProfile, profile_id, options=list(_SHOWN))
    if profile is None or not profile.listed or (must_be_public and not profile.public):
        raise NotFound("mentor profile not found")
    return profile


def update_mentor_profile(db: Session, actor: Actor, profile_id: uuid.UUID, changes: dict[str, Any]
                          ) -> MentorProfile:
    """Change your own profile's headline, bio, timezone, skills (replaced whole), avatar, limits, whether visitors
    see it (``public``), which sites may frame its public pages, and its new listings' currency."""
    profile = get_mentor_profile(db, profile_id)
    if profile.user_id != actor.user_id:
        raise Forbidden("only the mentor can change their profile")
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput("cannot change {unknown}", words={"unknown": ', '.join(sorted(unknown))})
    moves_slots = any(getattr(profile, field) != value for field, value in changes.items()
                      if field in LIMIT_FIELDS | {"timezone"})
    for field, value in changes.items():
        if field == "skills":
            profile.skills = ensure_skills(db, value)
        elif field == "headline":
            profile.headline = value.strip()
        elif field == "currency":
            profile.currency = value.upper()
        else:
            setattr(profile, field, value)
    db.flush()
    if moves_slots:
        record(db, EventType.SCHEDULE_CHANGED, schedule_payload(profile.id, ScheduleChange.RULES), actor=str(actor))
    return profile


def list_mentor_profiles(
    db: Session, *, skill: str | None, limit: int, cursor: str | None, q: str | None = None, public_only: bool = False
) -> Page[MentorProfile]:
    """Listed profiles in creation order, of a skill (public ones only, with ``public_only``); with ``q``, the best
    ``limit`` matches, ranked, on one page."""
    query = select(MentorProfile).where(MentorProfile.listed).options(*_SHOWN)
    if public_only:
        query = query.where(MentorProfile.public.is_(True))
    if skill:
        query = query.where(
            MentorProfile.id.in_(
                select(mentor_profile_skills.c.mentor_profile_id)
                .join(Skill, Skill.id == mentor_profile_skills.c.skill_id)
                .where(Skill.name == normalise_skill(skill))
            )
        )
    if q:
        return Page(items=search.rank_mentors(db, query, q, limit=limit), next_cursor=None)
    return paginate(db, query, MentorProfile.created_at, MentorProfile.id, limit=limit, cursor=cursor)


def set_availability(
    db: Session, actor: Actor, profile_id: uuid.UUID, windows: Sequence[WindowSpec]
) -> MentorProfile:
    """Replace the mentor's weekly windows. Windows of one day must not overlap. Pending requests outside the new
    windows stay: the mentor may still accept them (an accept checks time off and date overrides, not windows)."""
    profile = get_mentor_profile(db, profile_id)
    if profile.user_id != actor.user_id:
        raise Forbidden("only the mentor can change their availability")
    ordered = sorted(windows, key=lambda w: (w.weekday, w.start_minute))
    for before, after in pairwise(ordered):
        if before.weekday == after.weekday and after.start_minute < before.end_minute:
            raise BusinessRuleViolation(
                "availability windows of one day must not overlap", weekday=after.weekday
            )
    profile.availability.clear()
    db.flush()
    profile.availability.extend(
        AvailabilityWindow(
            id=uuid.uuid4(), weekday=w.weekday, start_minute=w.start_minute, end_minute=w.end_minute
        )
        for w in ordered
    )
    db.flush()
    record(db, EventType.SCHEDULE_CHANGED, schedule_payload(profile.id, ScheduleChange.AVAILABILITY), actor=str(actor))
    return profile
