"""The one check of a mentor's commitments (``workflows/scheduling/checks.py``), called directly: a series' accept
checks all its times in one statement (``check_accepts``, the single check's SQL rewritten per time), and finds what
one check per time finds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from models import BookingStatus
from tests.database import counting
from tests.factories.accounts import UserFactory
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from workflows.errors import Conflict
from workflows.scheduling import checks

START = datetime(2031, 4, 7, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
WEEK = timedelta(weeks=1)


def _verdict(found: list | Conflict) -> object:
    return ("refused", found.details["rule"]) if isinstance(found, Conflict) else ("settles", sorted(found))


def test_a_series_accept_checks_every_time_in_one_statement_and_finds_what_one_check_each_finds(
        db: Session, connection: Connection) -> None:
    listing = ListingFactory()
    mentee = UserFactory()
    # Week 2 is taken by another accepted booking; week 3 has a pending request of someone else (settled by it).
    BookingFactory(listing=listing, status=BookingStatus.ACCEPTED, start_time=START + 2 * WEEK)
    pending = BookingFactory(listing=listing, status=BookingStatus.DRAFT, start_time=START + 3 * WEEK)
    db.flush()
    for count in (4, 12):
        commitments = [checks.Commitment(listing.mentor_profile_id, listing.id, START + n * WEEK,
                                         START + n * WEEK + HOUR, 0, 0, mentee_user_id=mentee.id)
                       for n in range(count)]
        with counting(connection) as statements:
            together = checks.check_accepts(db, commitments)
            assert statements() == 1, count
        one_by_one: list[list | Conflict] = []
        with counting(connection) as statements:
            for commitment in commitments:
                try:
                    one_by_one.append(checks.check(db, commitment, at_accept=True, settles=True))
                except Conflict as refusal:
                    one_by_one.append(refusal)
            assert statements() == count
        assert [_verdict(found) for found in together] == [_verdict(found) for found in one_by_one]
        assert _verdict(together[2]) == ("refused", "busy")
        assert _verdict(together[3]) == ("settles", [pending.id])


def test_the_statuses_are_written_into_the_statement_as_the_partial_indexes_are(
        db: Session, connection: Connection) -> None:
    """The source names each status by its enum; the server receives the literal, so its plans (generic ones too)
    use the partial indexes written with it."""
    listing = ListingFactory()
    db.flush()
    sent: list[str] = []

    def keep(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", keep)
    try:
        checks.check_accepts(db, [checks.Commitment(listing.mentor_profile_id, listing.id, START, START + HOUR, 0, 0)])
    finally:
        event.remove(connection, "before_cursor_execute", keep)
    (statement,) = sent
    assert "status = 'accepted'" in statement and "status IN ('scheduled', 'in_progress')" in statement
    assert "b.status = 'draft'" in statement and ":accepted" not in statement and "%(accepted)s" not in statement
