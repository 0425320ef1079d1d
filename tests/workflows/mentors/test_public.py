"""What visitors see (``workflows/mentors/public.py``): public mentors only, their active listings, and the times a
visitor could book, as anyone sees them. The routes and pages over it are
``tests/api/public/test_public_pages.py``'s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from models import Listing, ListingKind
from models.mentors.listings import slug_for
from tests.database import refused
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from tests.factories.sessions import GroupSessionFactory
from workflows.errors import NotFound
from workflows.mentors import public
from workflows.scheduling import slots

WEEK = timedelta(days=7)


def tomorrow() -> datetime:
    return (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def test_a_mentor_is_private_until_they_make_their_profile_public(db: Session) -> None:
    listing = ListingFactory()
    profile = listing.mentor_profile
    assert profile.public is False
    refused(db, NotFound, lambda: public.public_mentor(db, profile.id))
    refused(db, NotFound, lambda: public.public_listing(db, listing.slug))
    assert profile not in public.public_mentors(db, skill=None, q=None, limit=50, cursor=None).items
    profile.public = True
    assert public.public_mentor(db, profile.id) is profile
    assert public.public_listing(db, listing.slug) is listing
    assert profile in public.public_mentors(db, skill=None, q=None, limit=50, cursor=None).items
    assert public.public_listings(db, profile) == [listing]


@pytest.mark.parametrize("hide", ["withdrawn listing", "deleted account"])
def test_a_withdrawn_listing_and_a_deleted_account_are_not_public(db: Session, hide: str) -> None:
    listing = ListingFactory(mentor_profile=MentorProfileFactory(public=True))
    if hide == "withdrawn listing":
        listing.active = False
    else:
        listing.mentor_profile.listed = False
    db.flush()
    refused(db, NotFound, lambda: public.public_listing(db, listing.slug))
    if hide == "withdrawn listing":
        assert public.public_listings(db, listing.mentor_profile) == []
    else:
        refused(db, NotFound, lambda: public.public_mentor(db, listing.mentor_profile.id))


def test_a_one_to_one_listings_public_times_are_its_free_slots(db: Session) -> None:
    listing = ListingFactory(mentor_profile=MentorProfileFactory(public=True))
    start = tomorrow()
    shown = public.public_times(db, listing, start=start, end=start + WEEK)
    free = slots.free_slots(db, listing.id, start=start, end=start + WEEK)
    assert [(t.start_time, t.end_time, t.seats_left) for t in shown] == [(s.start_time, s.end_time, None) for s in free]
    assert len(shown) == 7 * 24  # no windows: any hour, an hour long


def test_a_group_listings_public_times_are_its_sessions_with_seats_left(db: Session) -> None:
    listing = ListingFactory(mentor_profile=MentorProfileFactory(public=True), kind=ListingKind.GROUP.value,
                             capacity=3)
    start = tomorrow()
    open_one = GroupSessionFactory(listing=listing, start_time=start + timedelta(hours=10), seats_taken=1)
    GroupSessionFactory(listing=listing, start_time=start + timedelta(hours=12), seats_taken=3)  # full
    GroupSessionFactory(listing=listing, start_time=start + WEEK + timedelta(hours=1))  # past the range
    shown = public.public_times(db, listing, start=start, end=start + WEEK)
    assert [(t.start_time, t.seats_left) for t in shown] == [(open_one.start_time, 2)]


def test_a_slug_is_the_titles_words_in_ascii_and_a_random_part(db: Session) -> None:
    made = slug_for("Système design — interview!")
    assert made.startswith("systeme-design-interview-") and len(made) == len("systeme-design-interview-") + 8
    assert slug_for("日本語の相談").isalnum()  # no ASCII word: the random part alone
    assert slug_for("Code review") != slug_for("Code review")
    listing = ListingFactory(title="Code review")
    assert db.get_one(Listing, listing.id).slug.startswith("code-review-")
