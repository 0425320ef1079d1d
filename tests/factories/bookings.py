"""Bookings: drafts by default, or in whatever status a test writes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import factory

from models import Booking, BookingStatus
from tests.factories import Base
from tests.factories.accounts import UserFactory
from tests.factories.mentors import ListingFactory


class BookingFactory(Base):
    """A draft on a new listing, two days ahead, by a new mentee."""

    class Meta:
        model = Booking

    id = factory.LazyFunction(uuid.uuid4)
    listing = factory.SubFactory(ListingFactory)
    mentor_profile_id = factory.SelfAttribute("listing.mentor_profile_id")
    mentee_user_id = factory.LazyFunction(lambda: UserFactory().id)
    start_time = factory.LazyFunction(lambda: datetime.now(UTC) + timedelta(days=2))
    end_time = factory.LazyAttribute(lambda o: o.start_time + timedelta(hours=1))
    status = BookingStatus.DRAFT
    price_cents = 1
    currency = "USD"
