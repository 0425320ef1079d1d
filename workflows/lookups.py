"""Finding what a request names: a listing, or 404; a listing the caller owns, or 403 saying what only its
mentor may do; a listing the caller may see (a programme's is its people's only). One wording everywhere, and one
place that decides what owning, and seeing, a listing means."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from models import (
    Listing,
    Pairing,
    PairingStatus,
    ParticipantStatus,
    Programme,
    ProgrammeCoordinator,
    ProgrammeParticipant,
)
from workflows import access
from workflows.actors import Actor
from workflows.errors import BusinessRuleViolation, Forbidden, NotFound


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
        raise Forbidden("only the listing's mentor can {to}", words={"to": to})
    if listing.programme_id is not None:  # its terms (free, its length, no questions, team or bundles) are its own
        raise BusinessRuleViolation("a programme's listing keeps the programme's terms: you cannot {to}",
                                    words={"to": to})
    return listing


def in_programme_of(db: Session, actor: Actor, listing: Listing) -> bool:
    """Whether the actor may see the listing: any listing outside a programme; a programme's to its mentor, its
    active participants, its coordinators and administrators."""
    if listing.programme_id is None or access.is_admin(actor) or listing.mentor_profile_id == actor.mentor_profile_id:
        return True
    return bool(db.scalar(select(or_(
        exists().where(ProgrammeParticipant.programme_id == listing.programme_id,
                       ProgrammeParticipant.user_id == actor.user_id,
                       ProgrammeParticipant.status == ParticipantStatus.ACTIVE),
        exists().where(ProgrammeCoordinator.programme_id == listing.programme_id,
                       ProgrammeCoordinator.user_id == actor.user_id)))))


def visible_listing(db: Session, actor: Actor, listing_id: uuid.UUID, *, options: Sequence[Any] = ()) -> Listing:
    """The listing if the actor may see it (:func:`in_programme_of`); 404 otherwise, as for no listing at all."""
    listing = listing_or_404(db, listing_id, options=options)
    if not in_programme_of(db, actor, listing):
        raise NotFound("listing not found")
    return listing


def books_within_pairing(db: Session, actor: Actor, listing: Listing) -> bool:
    """Whether the actor may book a programme's listing: anyone who sees it, unless the programme keeps its mentees'
    sessions to their pairing (``mentees_book_outside`` off); then a mentee books their own pairing's mentor only."""
    programme = db.get(Programme, listing.programme_id) if listing.programme_id is not None else None
    if programme is None or programme.mentees_book_outside or access.is_admin(actor):
        return True
    return bool(db.scalar(select(exists().where(
        Pairing.programme_id == programme.id, Pairing.mentee_user_id == actor.user_id,
        Pairing.listing_id == listing.id, Pairing.status != PairingStatus.ENDED))))
