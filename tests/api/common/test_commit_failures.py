"""A request's commit is part of its unit of work: when the commit fails, the client gets the
error the domain mapping gives it, never a success or a bare 500, and nothing is published.

The failures are real commit-time ones: a DEFERRABLE INITIALLY DEFERRED constraint (and a
deferred constraint trigger) that PostgreSQL checks only at COMMIT. The savepoint per test
never commits, so these tests commit for real (``committed``) and drop what they add.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from api import create_app
from infra import live_publish
from infra.config import get_settings
from models import Booking, BookingStatus, OutboxEvent
from outbox import publisher
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory

SchemaChange = Callable[[tuple[str, ...]], None]
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)

# Every outbox event must name an aggregate listed in commit_guard, checked only at COMMIT.
_DEFERRED_FOREIGN_KEY = (
    "CREATE TABLE commit_guard (id uuid PRIMARY KEY)",
    ("ALTER TABLE outbox_events ADD CONSTRAINT fk_outbox_events_commit_guard FOREIGN KEY (aggregate_id) "
     "REFERENCES commit_guard (id) DEFERRABLE INITIALLY DEFERRED NOT VALID"),
)
# Any booking update fails at COMMIT as a serialization failure would.
_DEFERRED_SERIALIZATION_FAILURE = (
    ("CREATE FUNCTION commit_guard_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
     "RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure'; END $$"),
    ("CREATE CONSTRAINT TRIGGER commit_guard_refuse AFTER UPDATE ON bookings "
     "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION commit_guard_refuse()"),
)
_DROP = (
    "ALTER TABLE outbox_events DROP CONSTRAINT IF EXISTS fk_outbox_events_commit_guard",
    "DROP TABLE IF EXISTS commit_guard",
    "DROP TRIGGER IF EXISTS commit_guard_refuse ON bookings",
    "DROP FUNCTION IF EXISTS commit_guard_refuse()",
)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What the after-commit publisher sent to the broker and to the live stream."""
    sent: list[object] = []
    monkeypatch.setattr(publisher, "publish", lambda _app, dispatches, _request_id, **_options: sent.extend(dispatches)
                        or len(dispatches))
    monkeypatch.setattr(live_publish, "publish", sent.extend)
    return sent


def _draft(seed: Session) -> tuple[Caller, uuid.UUID]:
    listing = ListingFactory()
    mentee = UserFactory()
    booking = BookingFactory(listing=listing, mentee_user_id=mentee.id, start_time=START, price_cents=5000)
    seed.commit()
    return as_caller(listing.mentor_profile.user), booking.id


@pytest.fixture
def schema_change(committed: sessionmaker[Session]) -> Iterator[SchemaChange]:
    """Apply DDL for real (the app's sessions must see it); dropped again after the test."""
    def apply(statements: tuple[str, ...]) -> None:
        with committed() as db:
            for statement in statements:
                db.execute(text(statement))
            db.commit()

    yield apply
    apply(_DROP)


def _booking_and_events(committed: sessionmaker[Session], booking_id: uuid.UUID) -> tuple[str, int]:
    with committed() as db:
        status = db.scalar(select(Booking.status).where(Booking.id == booking_id))
        events = len(db.scalars(select(OutboxEvent.id).where(OutboxEvent.aggregate_id == booking_id)).all())
    return str(status), events


def _accept(seed: Session, committed: sessionmaker[Session]) -> tuple[TestResponse, uuid.UUID]:
    """A mentor's accept of a fresh draft, through an app on ``committed`` sessions."""
    mentor, booking_id = _draft(seed)
    app = create_app(get_settings(), session_factory=committed)
    return app.test_client().post(f"/api/v1/bookings/{booking_id}/accept", headers=mentor.headers), booking_id


def test_constraint_violated_at_commit_is_a_409_and_publishes_nothing(
    seed: Session, committed: sessionmaker[Session], schema_change: SchemaChange, published: list[object]
) -> None:
    schema_change(_DEFERRED_FOREIGN_KEY)

    response, booking_id = _accept(seed, committed)

    assert response.status_code == 409, response.get_json()
    assert "nothing was saved" in response.get_json()["message"]
    assert _booking_and_events(committed, booking_id) == (BookingStatus.DRAFT, 0)
    assert published == []


def test_serialization_failure_at_commit_is_a_retryable_409_and_publishes_nothing(
    seed: Session, committed: sessionmaker[Session], schema_change: SchemaChange, published: list[object]
) -> None:
    schema_change(_DEFERRED_SERIALIZATION_FAILURE)

    response, booking_id = _accept(seed, committed)

    assert response.status_code == 409, response.get_json()
    assert response.headers["Retry-After"] == "1"
    assert _booking_and_events(committed, booking_id) == (BookingStatus.DRAFT, 0)
    assert published == []


def test_the_same_accept_commits_and_publishes_without_the_guard(
    seed: Session, committed: sessionmaker[Session], published: list[object]
) -> None:
    response, booking_id = _accept(seed, committed)

    assert response.status_code == 200, response.get_json()
    assert _booking_and_events(committed, booking_id) == (BookingStatus.ACCEPTED, 1)
    assert published


@pytest.mark.xdist_group("recovery")  # a time bound: one after another with the recovery tests (tests/conftest.py)
def test_a_request_waiting_too_long_for_a_lock_answers_503_with_retry_after_and_saves_nothing(
        seed: Session, committed: sessionmaker[Session]) -> None:
    # The API's own engine (DB_LOCK_TIMEOUT_MS): an accept behind a transaction holding the mentor's schedule lock
    # gives up after the timeout instead of holding a thread and a connection.
    import dataclasses

    from workflows.scheduling.commitments import lock_mentor_schedule

    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    seed.commit()
    app = create_app(dataclasses.replace(get_settings(), db_lock_timeout_ms=300))
    http = app.test_client()
    draft = http.post("/api/v1/bookings", headers=mentee.headers, json={
        "listing_id": str(listing.id), "start_time": START.isoformat()}).get_json()
    holder = committed()
    try:
        lock_mentor_schedule(holder, listing.mentor_profile_id)  # held until the end of this transaction
        answer = http.post(f"/api/v1/bookings/{draft['id']}/accept", headers=mentor.headers)
    finally:
        holder.rollback()
        holder.close()
    assert answer.status_code == 503, answer.get_json()
    assert answer.headers["Retry-After"] == "2"
    assert "waited too long" in answer.get_json()["message"]
    with committed() as db:
        assert db.get_one(Booking, uuid.UUID(draft["id"])).status == BookingStatus.DRAFT
    assert http.post(f"/api/v1/bookings/{draft['id']}/accept", headers=mentor.headers).status_code == 200
