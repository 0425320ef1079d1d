"""The database's own guarantees, independent of the application code."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, Listing, MentorshipSession
from tests.conftest import alembic_config
from tests.factories.accounts import UserFactory
from tests.factories.mentors import ListingFactory

START = datetime(2030, 1, 7, 10, tzinfo=UTC)


def test_alembic_check_finds_no_drift(database_url: str) -> None:
    command.check(alembic_config(database_url))


def _booking(listing: Listing, mentee_id: uuid.UUID, start: datetime, status: str) -> Booking:
    return Booking(
        id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
        mentee_user_id=mentee_id, start_time=start, end_time=start + timedelta(hours=1), status=status,
        price_cents=100, currency="USD",
    )


def test_exclusion_constraint_refuses_overlapping_accepted_bookings(db: Session) -> None:
    listing = ListingFactory()
    mentee = UserFactory()
    db.add(_booking(listing, mentee.id, START, BookingStatus.ACCEPTED))
    db.flush()
    # Drafts may overlap; touching intervals are not an overlap.
    db.add(_booking(listing, mentee.id, START + timedelta(minutes=30), BookingStatus.DRAFT))
    db.add(_booking(listing, mentee.id, START + timedelta(hours=1), BookingStatus.ACCEPTED))
    db.flush()
    savepoint = db.begin_nested()
    db.add(_booking(listing, UserFactory().id, START + timedelta(minutes=30), BookingStatus.ACCEPTED))
    with pytest.raises(IntegrityError, match="ex_bookings_mentor_accepted_overlap"):
        db.flush()
    savepoint.rollback()
    # Another mentor, with another mentee, at the same time is fine.
    db.add(_booking(ListingFactory(), UserFactory().id, START, BookingStatus.ACCEPTED))
    db.flush()


def test_a_mentee_never_holds_two_overlapping_accepted_bookings_seats_included(db: Session) -> None:
    mentee = UserFactory()
    db.add(_booking(ListingFactory(), mentee.id, START, BookingStatus.ACCEPTED))
    db.flush()
    # Drafts with other mentors may overlap it, and an adjacent accepted booking is fine.
    db.add(_booking(ListingFactory(), mentee.id, START + timedelta(minutes=30), BookingStatus.DRAFT))
    db.add(_booking(ListingFactory(), mentee.id, START + timedelta(hours=1), BookingStatus.ACCEPTED))
    db.flush()
    savepoint = db.begin_nested()
    db.add(_booking(ListingFactory(), mentee.id, START + timedelta(minutes=30), BookingStatus.ACCEPTED))
    with pytest.raises(IntegrityError, match="ex_bookings_mentee_accepted_overlap"):
        db.flush()
    savepoint.rollback()
    group = ListingFactory(kind="group", capacity=5)
    session = MentorshipSession(id=uuid.uuid4(), kind="group", listing_id=group.id,
                                mentor_profile_id=group.mentor_profile_id, start_time=START - timedelta(minutes=30),
                                end_time=START + timedelta(minutes=30), capacity=5)
    db.add(session)
    db.flush()
    seat = _booking(group, mentee.id, session.start_time, BookingStatus.ACCEPTED)
    seat.group_session_id = session.id
    db.begin_nested()
    db.add(seat)
    with pytest.raises(IntegrityError, match="ex_bookings_mentee_accepted_overlap"):
        db.flush()


def test_one_session_per_booking(db: Session) -> None:
    listing = ListingFactory()
    booking = _booking(listing, UserFactory().id, START, BookingStatus.ACCEPTED)
    db.add(booking)
    db.flush()

    def session_row() -> MentorshipSession:
        return MentorshipSession(
            id=uuid.uuid4(), kind="individual", booking_id=booking.id, listing_id=listing.id,
            mentor_profile_id=listing.mentor_profile_id, mentee_user_id=booking.mentee_user_id,
            start_time=booking.start_time, end_time=booking.end_time,
        )

    db.add(session_row())
    db.flush()
    savepoint = db.begin_nested()
    db.add(session_row())
    with pytest.raises(IntegrityError, match="uq_sessions_booking_id"):
        db.flush()
    savepoint.rollback()


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("UPDATE listings SET duration_minutes = 10", "ck_listings_duration_range"),
        ("UPDATE listings SET price_cents = -1", "ck_listings_price_non_negative"),
        ("UPDATE listings SET kind = 'group', capacity = 1", "ck_listings_capacity_by_kind"),
        ("UPDATE listings SET currency = 'eur'", "ck_listings_currency_iso"),
        ("UPDATE users SET email = 'UPPER@EXAMPLE.COM'", "ck_users_email_lower_case"),
    ],
)
def test_check_constraints(db: Session, statement: str, constraint: str) -> None:
    ListingFactory()
    with pytest.raises(IntegrityError, match=constraint), db.begin_nested():
        db.execute(text(statement))


def test_migrations_run_with_lock_and_statement_timeouts(capsys: pytest.CaptureFixture[str]) -> None:
    command.upgrade(alembic_config("postgresql://postgres@127.0.0.1/offline"), "head", sql=True)
    sql = capsys.readouterr().out
    assert sql.index("SET lock_timeout = '5s'") < sql.index("CREATE TABLE")
    assert "SET statement_timeout = '120s'" in sql
