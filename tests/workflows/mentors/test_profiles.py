"""Mentor profiles, skills and weekly availability (``workflows/mentors/profiles.py``), called directly: one profile per
user, changed by its owner only, skills by their normalised name, and windows of a day that never overlap."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import MentorProfile
from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.mentors import MentorProfileFactory
from workflows import skills
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidInput, NotFound
from workflows.mentors import profiles as mentors
from workflows.mentors.profiles import WindowSpec

MONDAY, TUESDAY = 0, 1


def test_a_user_has_one_mentor_profile(db: Session) -> None:
    user = UserFactory()
    profile = mentors.create_mentor_profile(db, actor_of(user), headline="  Backend  ", bio="", timezone="UTC",
                                            skills=["Python", "python "])
    assert (profile.headline, [s.name for s in profile.skills]) == ("Backend", ["python"])
    error = refused(db, Conflict, lambda: mentors.create_mentor_profile(
        db, actor_of(user), headline="Again", bio="", timezone="UTC", skills=[]))
    assert error.message == "you already have a mentor profile"
    assert db.scalars(select(MentorProfile.id).where(MentorProfile.user_id == user.id)).all() == [profile.id]


def test_only_its_owner_changes_a_profile_and_only_its_editable_fields(db: Session) -> None:
    profile = MentorProfileFactory()
    owner = actor_of(profile.user)
    mentors.update_mentor_profile(db, owner, profile.id, {"headline": " Data ", "skills": ["SQL"], "bio": "Hi"})
    assert (profile.headline, profile.bio, [s.name for s in profile.skills]) == ("Data", "Hi", ["sql"])
    stranger = refused(db, Forbidden, lambda: mentors.update_mentor_profile(
        db, actor_of(UserFactory()), profile.id, {"bio": "mine now"}))
    assert stranger.message == "only the mentor can change their profile"
    unknown = refused(db, InvalidInput, lambda: mentors.update_mentor_profile(
        db, owner, profile.id, {"user_id": str(uuid.uuid4()), "listed": False}))
    assert unknown.message == "cannot change listed, user_id"


def test_an_unlisted_profile_is_not_found(db: Session) -> None:
    profile = MentorProfileFactory(listed=False)
    error = refused(db, NotFound, lambda: mentors.get_mentor_profile(db, profile.id))
    assert error.message == "mentor profile not found"


def test_windows_replace_the_old_ones_and_may_touch_but_not_overlap_on_one_day(db: Session) -> None:
    profile = MentorProfileFactory()
    owner = actor_of(profile.user)
    mentors.set_availability(db, owner, profile.id, [WindowSpec(MONDAY, 600, 720), WindowSpec(TUESDAY, 0, 60)])
    touching = [WindowSpec(MONDAY, 720, 780), WindowSpec(MONDAY, 540, 720), WindowSpec(TUESDAY, 540, 720)]
    mentors.set_availability(db, owner, profile.id, touching)
    assert [(w.weekday, w.start_minute, w.end_minute) for w in profile.availability] == [
        (MONDAY, 540, 720), (MONDAY, 720, 780), (TUESDAY, 540, 720)]
    error = refused(db, BusinessRuleViolation, lambda: mentors.set_availability(
        db, owner, profile.id, [WindowSpec(TUESDAY, 540, 720), WindowSpec(TUESDAY, 719, 800)]))
    assert (error.message, error.details) == ("availability windows of one day must not overlap", {"weekday": TUESDAY})
    db.expire_all()
    assert len(db.get_one(MentorProfile, profile.id).availability) == 3


def test_only_its_owner_sets_a_profiles_windows(db: Session) -> None:
    profile = MentorProfileFactory()
    error = refused(db, Forbidden, lambda: mentors.set_availability(
        db, actor_of(UserFactory()), profile.id, [WindowSpec(MONDAY, 0, 60)]))
    assert error.message == "only the mentor can change their availability"


def test_profiles_are_found_by_a_skill_whatever_its_spelling(db: Session) -> None:
    profile = MentorProfileFactory()
    name = f"data {uuid.uuid4().hex[:8]}"  # a skill no other test's profile has
    profile.skills = skills.ensure_skills(db, [name])
    db.flush()
    for spelling, found in ((name, [profile.id]), (f"  {name.upper().replace(' ', '   ')} ", [profile.id]),
                            (f"{name}x", [])):
        page = mentors.list_mentor_profiles(db, skill=spelling, limit=10, cursor=None)
        assert [p.id for p in page.items] == found, spelling
