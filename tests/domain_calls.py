"""What the workflow tests do again and again, as the API would ask the domain: a booking request, its accept."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from models import Booking, Listing, MentorProfile, User
from tests.factories.accounts import UserFactory, actor_of
from workflows import wording
from workflows.bookings import lifecycle as bookings
from workflows.bookings import requests


def request(db: Session, mentee: User | None, listing: Listing, start: datetime, **options: object) -> Booking:
    """A booking request by ``mentee`` (a new user when ``None``) for ``listing`` at ``start``; ``options`` as the
    domain takes them (``now``, ``note``, ``mentor_profile_id``, …)."""
    return requests.request_booking(db, actor_of(mentee or UserFactory()), listing_id=listing.id, start_time=start,
                                    **options)  # type: ignore[arg-type]


def accept(db: Session, booking: Booking, **options: object) -> object:
    """The booking accepted by its mentor."""
    mentor = db.get_one(MentorProfile, booking.mentor_profile_id).user
    return bookings.accept_booking(db, actor_of(mentor), booking.id, **options)  # type: ignore[arg-type]


def notice(title: str, body: str) -> wording.Notice:
    """A notification's words for a test that tells someone something of its own (a key of its own, in English
    only: the catalogues hold the service's texts, not a test's)."""
    key = "test." + hashlib.sha256(f"{title}\0{body}".encode()).hexdigest()[:16]
    return wording.notice(key, title, body)
