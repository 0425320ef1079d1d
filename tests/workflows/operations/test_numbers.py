"""The platform's numbers (``workflows/operations/numbers.py``) against rows whose times are set by hand, in a window
of their own (years ahead, so no other row falls in it): each figure is the one counted by hand, and each query is
served by its index."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from models import AuthEvent, AuthEventKind, BookingStatus
from tests.factories.bookings import BookingFactory
from tests.factories.sessions import SessionFactory
from workflows.errors import InvalidInput
from workflows.operations.numbers import platform_numbers

NOW = datetime(2040, 1, 10, 15, 0, tzinfo=UTC)


def requested(at: datetime, status: BookingStatus, *, waited: timedelta | None = None,
              session_after: timedelta | None = None) -> None:
    booking = BookingFactory(status=status, created_at=at, decided_at=at + waited if waited is not None else None)
    if session_after is not None:
        SessionFactory(booking=booking, created_at=at + (waited or timedelta()) + session_after)


def test_each_figure_is_the_one_counted_by_hand(db: Session) -> None:
    day = NOW - timedelta(days=1)
    requested(day, BookingStatus.ACCEPTED, waited=timedelta(hours=1), session_after=timedelta(seconds=2))
    requested(day, BookingStatus.ACCEPTED, waited=timedelta(hours=3), session_after=timedelta(seconds=4))
    requested(NOW - timedelta(hours=1), BookingStatus.ACCEPTED, waited=timedelta(minutes=30))  # no session yet
    requested(day, BookingStatus.DECLINED, waited=timedelta(minutes=5))
    requested(day, BookingStatus.EXPIRED)
    requested(NOW - timedelta(days=5), BookingStatus.DECLINED)  # before the window
    db.add(AuthEvent(id=uuid.uuid4(), kind=AuthEventKind.SIGN_IN_FAILED, created_at=day))
    db.flush()

    found = platform_numbers(db, days=3, now=NOW)

    assert [(d.day, d.sessions) for d in found.sessions_per_day] == [
        (date(2040, 1, 8), 0), (date(2040, 1, 9), 2), (date(2040, 1, 10), 0)]
    assert (found.bookings_requested, found.bookings_accepted, found.bookings_became_sessions) == (5, 3, 2)
    assert found.conversion == 0.4
    assert found.requested_to_accepted.count == 3 and found.requested_to_accepted.median_seconds == 3600
    assert found.accepted_to_scheduled.count == 2 and found.accepted_to_scheduled.median_seconds == 3
    refusals = {r.rule: r.count for r in found.refusals}
    assert refusals["booking_declined"] == 1 and refusals["booking_expired"] == 1
    assert refusals["sign_in_failed"] == 1 and refusals["locked_out"] == 0


def test_an_empty_window_has_no_rate_and_the_window_is_bounded(db: Session) -> None:
    found = platform_numbers(db, days=1, now=NOW + timedelta(days=400))
    assert found.conversion is None and found.requested_to_accepted.median_seconds is None
    for days in (0, 91):
        with pytest.raises(InvalidInput):
            platform_numbers(db, days=days, now=NOW)


@pytest.mark.parametrize(("table", "index", "method"), [("bookings", "ix_bookings_created", "brin"),
                                                         ("sessions", "ix_sessions_created", "brin"),
                                                         ("auth_events", "ix_auth_events_created", "btree")])
def test_each_window_is_read_through_an_index(db: Session, table: str, index: str, method: str) -> None:
    """Bookings and sessions have a BRIN index on created_at (their rows come in that order; a block range's summary
    costs their inserts next to nothing); on an empty table the planner may prefer another index with created_at,
    so the plan is held to any index, and the index to its method."""
    db.execute(text("SET LOCAL enable_seqscan = off"))  # a small table would be scanned: ask what the plan can use
    plan = db.execute(text(f"EXPLAIN SELECT count(*) FROM {table} WHERE created_at >= :since"),  # noqa: S608
                      {"since": NOW}).scalars().all()
    assert any("Index" in line for line in plan) and not any("Seq Scan" in line for line in plan), plan
    definition = db.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :index"), {"index": index})
    assert definition is not None and f"USING {method} (created_at" in definition, definition
