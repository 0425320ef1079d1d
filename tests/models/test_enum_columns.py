"""Status columns hold their StrEnum's values as text and read back as members."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, CreditStatus, EmailStatus, Notification
from tests.factories.accounts import UserFactory
from tests.factories.bookings import BookingFactory


def test_statuses_are_stored_as_their_values_and_read_back_as_members(db: Session) -> None:
    booking = BookingFactory(status=BookingStatus.ACCEPTED)
    note = Notification(user_id=UserFactory().id, type="t", title="t", body="b", email_status=EmailStatus.PENDING)
    db.add(note)
    db.flush()
    stored = db.execute(text("SELECT status, credit_status FROM bookings WHERE id = :id"), {"id": booking.id}).one()
    assert tuple(stored) == ("accepted", "none")
    db.expire_all()
    assert db.get(Booking, booking.id).status is BookingStatus.ACCEPTED
    assert db.get(Booking, booking.id).credit_status is CreditStatus.NONE
    assert db.scalar(select(Notification.email_status).where(Notification.id == note.id)) is EmailStatus.PENDING


def test_a_status_outside_the_enum_is_refused_before_the_database(db: Session) -> None:
    with pytest.raises(StatementError, match="bogus"):
        db.scalar(select(Booking.id).where(Booking.status == "bogus"))
