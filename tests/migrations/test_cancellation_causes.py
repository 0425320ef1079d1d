"""Revision 0056 corrects the cancellations written before causes were recorded, on a database made by 0053: a
pairing's pause, end, or a participant's removal or leave that cancelled a series' sessions (told by the events of
that one transaction) is recorded as the one who made it, with its cause; a moved meeting's old session is the
system's move; any other keeps who it said, its cause unknown. The dashboard's weeks are counted again. On a database
of this test's own, dropped after."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import Connection, text

from tests.conftest import alembic_config
from tests.database import scratch_database

WEEK = datetime(2031, 3, 3, tzinfo=UTC)  # a Monday


def _insert(conn: Connection, table: str, **values: Any) -> uuid.UUID:
    if table not in {"programme_tallies", "programme_weeks"}:
        values.setdefault("id", uuid.uuid4())
    values = {key: json.dumps(value) if isinstance(value, dict) else value for key, value in values.items()}
    columns, params = ", ".join(values), ", ".join(f":{name}" for name in values)
    conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), values)  # noqa: S608 - the test's names
    return uuid.UUID(str(values.get("id", values.get("programme_id"))))


class Old:
    """A programme's rows as 0053 wrote them."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        mentor = _insert(conn, "users", email="m@example.com", display_name="M")
        self.mentor_user = mentor
        self.profile = _insert(conn, "mentor_profiles", user_id=mentor, headline="h", timezone="UTC")
        skill = _insert(conn, "skills", name="go")
        self.programme = _insert(conn, "programmes", name="Spring", status="running")
        self.listing = _insert(conn, "listings", mentor_profile_id=self.profile, skill_id=skill, title="Mentoring",
                               duration_minutes=60, price_cents=0, currency="EUR", kind="individual", slug="m-1",
                               programme_id=self.programme)
        _insert(conn, "programme_tallies", programme_id=self.programme)
        _insert(conn, "programme_weeks", programme_id=self.programme, week=WEEK.date(), cancelled_by_mentee=5)

    def series(self, mentee: uuid.UUID, *, cancelled_from: datetime | None) -> uuid.UUID:
        return _insert(self.conn, "booking_series", listing_id=self.listing, mentor_profile_id=self.profile,
                       mentee_user_id=mentee, every_weeks=1, first_start=WEEK, occurrences=4, timezone="UTC",
                       status="accepted", cancelled_from=cancelled_from, cancelled_by="mentee")

    def session(self, mentee: uuid.UUID, day: int, *, series: uuid.UUID | None, cancelled_at: datetime,
                cancelled_by: str = "mentee", booking_status: str = "cancelled") -> uuid.UUID:
        start = WEEK + timedelta(days=day, hours=9)
        booking = _insert(self.conn, "bookings", listing_id=self.listing, mentor_profile_id=self.profile,
                          mentee_user_id=mentee, start_time=start, end_time=start + timedelta(hours=1),
                          status=booking_status, price_cents=0, currency="EUR", series_id=series)
        return _insert(self.conn, "sessions", kind="individual", booking_id=booking, listing_id=self.listing,
                       mentor_profile_id=self.profile, mentee_user_id=mentee, start_time=start,
                       end_time=start + timedelta(hours=1), status="cancelled", cancelled_at=cancelled_at,
                       cancelled_by=cancelled_by, programme_id=self.programme)

    def event(self, kind: str, about: uuid.UUID, at: datetime, actor: str, **payload: Any) -> None:
        _insert(self.conn, "outbox_events", type=kind, aggregate_type=kind.partition(".")[0], aggregate_id=about,
                payload=payload, actor=actor, created_at=at)

    def moved_by_pairing(self, mentee: uuid.UUID, moment: datetime, move: str, actor: str, ended_by: str | None,
                         beside: str | None) -> tuple[uuid.UUID, uuid.UUID]:
        """A series' sessions cancelled from ``moment`` by a pairing's ``move``, in one transaction's events."""
        series = self.series(mentee, cancelled_from=moment)
        session = self.session(mentee, 1, series=series, cancelled_at=moment)
        began = moment - timedelta(milliseconds=40)  # the transaction's start: every event's created_at
        self.event("booking_series.cancelled", series, began, f"user:{mentee}", cancelled_from=moment.isoformat())
        pair = {"programme_id": str(self.programme), "mentor_profile_id": str(self.profile),
                "mentee_user_id": str(mentee), "ended_by": ended_by}
        self.event(move, uuid.uuid4(), began, actor, **pair)
        if beside is not None:
            self.event(beside, uuid.uuid4(), began, actor, programme_id=str(self.programme))
        return series, session


def test_revision_0056_names_who_cancelled_and_why_from_the_pairings_events() -> None:
    with scratch_database("0053") as (url, engine):
        with engine.begin() as conn:
            old = Old(conn)
            mentees = [_insert(conn, "users", email=f"e{n}@example.com", display_name=f"E{n}") for n in range(5)]
            coordinator = f"user:{uuid.uuid4()}"
            moment = WEEK - timedelta(days=3)
            paused = old.moved_by_pairing(mentees[0], moment, "pairing.paused", coordinator, None, None)
            by_mentee = old.moved_by_pairing(mentees[1], moment + timedelta(hours=1), "pairing.paused",
                                             f"user:{mentees[1]}", None, None)
            removed = old.moved_by_pairing(mentees[2], moment + timedelta(hours=2), "pairing.ended", coordinator,
                                           "coordinator", "enrolment.removed")
            left = old.moved_by_pairing(mentees[3], moment + timedelta(hours=3), "pairing.ended",
                                        f"user:{mentees[3]}", "mentee", "enrolment.left")
            ended = old.moved_by_pairing(mentees[4], moment + timedelta(hours=4), "pairing.ended",
                                         f"admin:{uuid.uuid4()}", "admin", None)
            alone = old.session(mentees[0], 2, series=None, cancelled_at=moment, cancelled_by="mentor")
            moved = old.session(mentees[1], 3, series=None, cancelled_at=moment, cancelled_by="system",
                                booking_status="rescheduled")
            # A series cancelled at the same moment as no pairing's move: its cause stays unknown.
            unknown_series = old.series(mentees[2], cancelled_from=moment + timedelta(hours=5))
            unknown = old.session(mentees[2], 4, series=unknown_series, cancelled_at=moment + timedelta(hours=5))
            old.event("booking_series.cancelled", unknown_series, moment + timedelta(hours=5), f"user:{mentees[2]}",
                      cancelled_from=(moment + timedelta(hours=5)).isoformat())
        command.upgrade(alembic_config(url), "0056")
        with engine.connect() as conn:
            told = {row.id: (row.cancelled_by, row.cancel_cause) for row in conn.execute(text(
                "SELECT id, cancelled_by, cancel_cause FROM sessions"))}
            series_by = dict(conn.execute(text("SELECT id, cancelled_by FROM booking_series")).all())
            week = conn.execute(text(
                "SELECT cancelled_by_mentor, cancelled_by_mentee, cancelled_by_coordinator, cancelled_by_admin, "
                "cancelled_by_system FROM programme_weeks")).one()
    assert told == {paused[1]: ("coordinator", "pause"), by_mentee[1]: ("mentee", "pause"),
                    removed[1]: ("coordinator", "removal"), left[1]: ("mentee", "leave"), ended[1]: ("admin", "end"),
                    alone: ("mentor", None), moved: ("system", "reschedule"), unknown: ("mentee", None)}
    assert (series_by[paused[0]], series_by[removed[0]], series_by[unknown_series]) == ("coordinator", "coordinator",
                                                                                        "mentee")
    # Counted again by who, the move left out: every cancellation of that week.
    assert tuple(week) == (1, 3, 2, 1, 0)
