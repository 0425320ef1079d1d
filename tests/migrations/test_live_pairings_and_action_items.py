"""Revision 0055 on a database made by 0053: a mentee's younger live pairing of a programme is ended (its series
still waiting withdrawn, its end recorded as ``pairing.ended`` with its handlers' rows, so the pair and the
coordinators are told), the older stays; then a mentee has at most one live pairing per programme. The items written
on completing a programme's sessions become the pairing's action items (empty ones dropped); a session outside
programmes keeps its list. On a database of this test's own, dropped after."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import alembic_config
from tests.database import scratch_database

NOW = datetime.now(UTC).replace(microsecond=0)


def _insert(conn: Connection, table: str, **values: Any) -> uuid.UUID:
    values.setdefault("id", uuid.uuid4())
    columns, names = ", ".join(values), ", ".join(f":{key}" for key in values)
    conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({names})"), values)  # noqa: S608 - the test's own names
    return uuid.UUID(str(values["id"]))


def _person(conn: Connection, name: str) -> uuid.UUID:
    return _insert(conn, "users", email=f"{name}@example.com", display_name=name.title(), password_hash="x")


def _mentor(conn: Connection, name: str, skill: uuid.UUID, programme: uuid.UUID | None
            ) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A mentor's user, profile and listing (the programme's when given)."""
    user = _person(conn, name)
    profile = _insert(conn, "mentor_profiles", user_id=user, headline="h", timezone="UTC")
    listing = _insert(conn, "listings", mentor_profile_id=profile, skill_id=skill, title="Sessions",
                      duration_minutes=60, price_cents=0, currency="EUR", kind="individual", slug=f"{name}-listing",
                      programme_id=programme)
    return user, profile, listing


def _completed(conn: Connection, listing: uuid.UUID, profile: uuid.UUID, mentee: uuid.UUID, start: datetime,
               items: str, series: uuid.UUID | None = None) -> uuid.UUID:
    booking = _insert(conn, "bookings", listing_id=listing, mentor_profile_id=profile, mentee_user_id=mentee,
                      start_time=start, end_time=start + timedelta(hours=1), status="accepted", price_cents=0,
                      currency="EUR", series_id=series)
    session = _insert(conn, "sessions", kind="individual", booking_id=booking, listing_id=listing,
                      mentor_profile_id=profile, mentee_user_id=mentee, start_time=start,
                      end_time=start + timedelta(hours=1), status="completed", started_at=start,
                      completed_at=start + timedelta(hours=1), completed_by="mentor")
    conn.execute(text("UPDATE sessions SET action_items = CAST(:items AS jsonb) WHERE id = :id"),
                 {"items": items, "id": session})
    return session


def _pairing(conn: Connection, programme: uuid.UUID, mentor: uuid.UUID, mentee: uuid.UUID, mentor_profile: uuid.UUID,
             mentee_user: uuid.UUID, listing: uuid.UUID, created: datetime, series: uuid.UUID | None,
             status: str = "proposed") -> uuid.UUID:
    return _insert(conn, "pairings", programme_id=programme, mentor_participant_id=mentor,
                   mentee_participant_id=mentee, mentor_profile_id=mentor_profile, mentee_user_id=mentee_user,
                   listing_id=listing, status=status, cadence_weeks=1, session_minutes=60, session_count=2,
                   series_id=series, created_at=created, updated_at=created)


def test_revision_0055_ends_the_younger_live_pairing_and_carries_session_items_over() -> None:
    with scratch_database("0053") as (url, engine):
        with engine.begin() as conn:
            skill = _insert(conn, "skills", name="python")
            coordinator = _person(conn, "coordinator")
            programme = _insert(conn, "programmes", name="Spring cohort", status="running")
            conn.execute(text("INSERT INTO programme_coordinators (programme_id, user_id) VALUES (:p, :u)"),
                         {"p": programme, "u": coordinator})
            ada_user, ada_profile, ada_listing = _mentor(conn, "ada", skill, programme)
            bo_user, bo_profile, bo_listing = _mentor(conn, "bo", skill, programme)
            lin = _person(conn, "lin")
            ada = _insert(conn, "programme_participants", programme_id=programme, user_id=ada_user, role="mentor",
                          status="active", capacity=2)
            bo = _insert(conn, "programme_participants", programme_id=programme, user_id=bo_user, role="mentor",
                         status="active", capacity=2)
            lin_in = _insert(conn, "programme_participants", programme_id=programme, user_id=lin, role="mentee",
                             status="active")
            # Lin's first pairing, with Ada, active, a session held with three items (one empty); the second, with
            # Bo, made later, its series still waiting for Bo.
            older = _pairing(conn, programme, ada, lin_in, ada_profile, lin, ada_listing, NOW - timedelta(days=20),
                             None, status="active")
            held = _completed(conn, ada_listing, ada_profile, lin, NOW - timedelta(days=7),
                              '["Draft the outline", "  ", "Book a room"]')
            waiting = _insert(conn, "booking_series", listing_id=bo_listing, mentor_profile_id=bo_profile,
                              mentee_user_id=lin, every_weeks=1, first_start=NOW + timedelta(days=3), occurrences=2,
                              timezone="UTC", status="requested")
            draft = _insert(conn, "bookings", listing_id=bo_listing, mentor_profile_id=bo_profile, mentee_user_id=lin,
                            start_time=NOW + timedelta(days=3), end_time=NOW + timedelta(days=3, hours=1),
                            status="draft", price_cents=0, currency="EUR", series_id=waiting)
            younger = _pairing(conn, programme, bo, lin_in, bo_profile, lin, bo_listing, NOW - timedelta(days=2),
                               waiting)
            # A session outside programmes keeps its list.
            _, solo_profile, solo_listing = _mentor(conn, "cy", skill, None)
            solo = _completed(conn, solo_listing, solo_profile, lin, NOW - timedelta(days=3), '["Read the paper", ""]')
        command.upgrade(alembic_config(url), "0055")
        with engine.connect() as conn:
            statuses = dict(conn.execute(text("SELECT id, status FROM pairings")).all())
            ended = conn.execute(text("SELECT ended_by, end_reason, ended_at FROM pairings WHERE id = :id"),
                                 {"id": younger}).one()
            series_status = conn.scalar(text("SELECT status FROM booking_series WHERE id = :id"), {"id": waiting})
            draft_status = conn.scalar(text("SELECT status FROM bookings WHERE id = :id"), {"id": draft})
            events = conn.execute(text("SELECT id, aggregate_id, payload, actor FROM outbox_events "
                                       "WHERE type = 'pairing.ended'")).all()
            handlers = sorted(conn.scalars(text(
                "SELECT handler FROM outbox_handlers WHERE status = 'pending' "
                "AND event_id IN (SELECT id FROM outbox_events WHERE type = 'pairing.ended')")))
            items = conn.execute(text("SELECT pairing_id, title, owner_user_id, session_id, due_on FROM action_items "
                                      "ORDER BY created_at")).all()
            lists = dict(conn.execute(text("SELECT id, action_items FROM sessions")).all())
        with pytest.raises(IntegrityError), engine.begin() as conn:
            _pairing(conn, programme, bo, lin_in, bo_profile, lin, bo_listing, NOW, None)
    assert statuses == {older: "active", younger: "ended"}
    assert (ended.ended_by, ended.end_reason) == ("system", "the mentee had another live pairing in this programme")
    assert ended.ended_at is not None
    assert (series_status, draft_status) == ("withdrawn", "cancelled")
    (event,) = events
    assert (event.aggregate_id, event.actor) == (younger, "system")
    assert (event.payload["status"], event.payload["mentee_user_id"], event.payload["coordinator_user_ids"]) == (
        "ended", str(lin), [str(coordinator)])
    assert handlers == ["analytics.programmes", "notifications.notify", "webhooks.fan_out"]
    assert [(row.pairing_id, row.title, row.owner_user_id, row.session_id, row.due_on) for row in items] == [
        (older, "Draft the outline", lin, held, None), (older, "Book a room", lin, held, None)]
    assert (lists[held], lists[solo]) == ([], ["Read the paper", ""])
