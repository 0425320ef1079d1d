"""Finding a listing (``workflows/lookups.py``): 404 for one that does not exist, 403 naming what only its mentor may
do for anyone else, the listing itself for its mentor."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.mentors import ListingFactory
from workflows.errors import Forbidden, NotFound
from workflows.lookups import listing_or_404, own_listing


def test_a_listing_is_found_or_404_and_owned_by_its_mentor_alone(db: Session) -> None:
    listing = ListingFactory()
    db.flush()
    assert listing_or_404(db, listing.id, lock=True) is listing
    assert refused(db, NotFound, lambda: listing_or_404(db, uuid.uuid4())).message == "listing not found"
    mentor = actor_of(listing.mentor_profile.user)
    assert own_listing(db, mentor, listing.id, to="change it") is listing
    for stranger in (actor_of(UserFactory()), actor_of(ListingFactory().mentor_profile.user)):
        refusal = refused(db, Forbidden, lambda who=stranger: own_listing(db, who, listing.id, to="change it"))
        assert refusal.message == "only the listing's mentor can change it"
