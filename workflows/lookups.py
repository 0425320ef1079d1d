"""Finding what a request names: a listing, or 404; a listing the caller owns, or 403 saying what only its
mentor may do. One wording everywhere, and one place that decides what owning a listing means."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from models import Listing
from workflows.actors import Actor
from workflows.errors import Forbidden, NotFound


def listing_or_404(db: Session, listing_id: uuid.UUID, *, lock: bool = False, options: Sequence[Any] = ()
                   ) -> Listing:
    """The listing; with ``lock``, its row locked against deletion and key changes (``FOR KEY SHARE``)."""
    listing = db.get(Listing, listing_id, options=options, with_for_update={"key_share": True} if lock else None)
    if listing is None:
        raise NotFound("listing not found")
    return listing


def own_listing(db: Session, actor: Actor, listing_id: uuid.UUID, *, to: str, lock: bool = False,
                options: Sequence[Any] = ()) -> Listing:
    """The listing if ``actor`` is its mentor; otherwise 403 "only the listing's mentor can <to>"."""
    listing = listing_or_404(db, listing_id, lock=lock, options=options)
    if actor.mentor_profile_id is None or actor.mentor_profile_id != listing.mentor_profile_id:
        raise Forbidden(f"only the listing's mentor can {to}")
    return listing
