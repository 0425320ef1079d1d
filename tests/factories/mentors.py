"""Mentor profiles and their listings."""

from __future__ import annotations

import uuid

import factory

from models import Listing, ListingKind, MentorProfile
from tests.factories import Base, session
from tests.factories.accounts import UserFactory


class MentorProfileFactory(Base):
    class Meta:
        model = MentorProfile

    id = factory.LazyFunction(uuid.uuid4)
    user = factory.SubFactory(UserFactory)
    headline = "Backend mentor"
    bio = ""
    timezone = "UTC"


def _skill(name: str) -> object:
    from workflows.mentors.profiles import ensure_skills

    (skill,) = ensure_skills(session(), [name])
    return skill


class ListingFactory(Base):
    class Meta:
        model = Listing

    id = factory.LazyFunction(uuid.uuid4)
    mentor_profile = factory.SubFactory(MentorProfileFactory)
    skill = factory.LazyAttribute(lambda _o: _skill("python"))
    title = "Code review"
    description = ""
    duration_minutes = 60
    price_cents = 5000
    currency = "USD"
    kind = ListingKind.INDIVIDUAL.value
    capacity = None
