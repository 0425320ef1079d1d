"""Bookings and sessions as responses show them: with their people's names, as the caller may see them."""

from __future__ import annotations

from api.database import db_session
from api.security import current_actor
from models import Booking, Listing, MentorshipSession
from workflows import bookings, listings, people
from workflows.bookings import BookingView
from workflows.listings import ListingView
from workflows.pagination import Page
from workflows.people import NamedBooking, NamedSession


def named_booking(view: BookingView) -> NamedBooking:
    return people.name_booking(db_session(), view)


def named_session(session: MentorshipSession) -> NamedSession:
    return people.name_session(db_session(), current_actor(), session)


def named_bookings(page: Page[Booking]) -> Page[NamedBooking]:
    """A page of bookings with their sessions and names, read in a few queries for the whole page."""
    db = db_session()
    session_ids = bookings.session_ids_for(db, page.items)
    views = [BookingView(b, session_ids.get(b.id)) for b in page.items]
    return Page(people.name_bookings(db, views), page.next_cursor)


def named_sessions(page: Page[MentorshipSession]) -> Page[NamedSession]:
    return Page(people.name_sessions(db_session(), current_actor(), page.items), page.next_cursor)


def seen_listing(listing: Listing) -> ListingView:
    (view,) = listings.as_seen_by(db_session(), current_actor(), [listing])
    return view


def seen_listings(page: Page[Listing]) -> Page[ListingView]:
    return Page(listings.as_seen_by(db_session(), current_actor(), page.items), page.next_cursor)
