"""Revision 0060 marks the calendar feeds and webhook endpoints made before their owner's address was confirmed (or
while it still is not; an address confirmed again after a change of email says nothing of the one before), and
withdraws the invitations still pending from before a coordinator took their person off a programme. On a database
of this test's own, dropped after."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import Connection, text

from tests.conftest import alembic_config
from tests.database import scratch_database

NOW = datetime.now(UTC)


def _user(conn: Connection, email: str, verified_at: datetime | None) -> uuid.UUID:
    user_id = uuid.uuid4()
    conn.execute(text("INSERT INTO users (id, email, password_hash, display_name, email_verified_at) "
                      "VALUES (:id, :email, 'x', 'U', :verified)"), {"id": user_id, "email": email,
                                                                      "verified": verified_at})
    return user_id


def _endpoint(conn: Connection, owner: uuid.UUID, made: datetime) -> uuid.UUID:
    endpoint_id = uuid.uuid4()
    conn.execute(text("INSERT INTO webhook_endpoints (id, owner_user_id, url, secret, created_at, updated_at) "
                      "VALUES (:id, :owner, 'https://hooks.example.com/in', 's', :made, :made)"),
                 {"id": endpoint_id, "owner": owner, "made": made})
    return endpoint_id


def _invitation(conn: Connection, programme: uuid.UUID, email: str, made: datetime) -> uuid.UUID:
    invitation_id = uuid.uuid4()
    conn.execute(text("INSERT INTO programme_invitations (id, programme_id, email, role, status, token_hash, "
                      "created_at, expires_at, email_status) VALUES (:id, :programme, :email, 'mentee', 'pending', "
                      ":hash, :made, :expires, 'pending')"),
                 {"id": invitation_id, "programme": programme, "email": email, "hash": uuid.uuid4().hex,
                  "made": made, "expires": NOW + timedelta(days=7)})
    return invitation_id


def test_revision_0060_marks_what_was_made_unconfirmed_and_withdraws_invitations_from_before_a_removal() -> None:
    with scratch_database("0053") as (url, engine):
        with engine.begin() as conn:
            never = _user(conn, "never@example.com", None)
            later = _user(conn, "later@example.com", NOW - timedelta(days=1))
            moved = _user(conn, "moved@example.com", NOW - timedelta(days=1))
            squatted = _endpoint(conn, never, NOW - timedelta(days=3))
            before = _endpoint(conn, later, NOW - timedelta(days=2))
            since = _endpoint(conn, later, NOW - timedelta(hours=1))
            before_change = _endpoint(conn, moved, NOW - timedelta(days=2))
            conn.execute(text("INSERT INTO auth_events (id, kind, user_id, created_at) "
                              "VALUES (:id, 'email_changed', :user, :at)"),
                         {"id": uuid.uuid4(), "user": moved, "at": NOW - timedelta(days=1)})
            for user, made in ((never, NOW - timedelta(days=3)), (later, NOW - timedelta(hours=1))):
                conn.execute(text("INSERT INTO calendar_feeds (user_id, token_hash, created_at) "
                                  "VALUES (:user, :hash, :made)"), {"user": user, "hash": uuid.uuid4().hex,
                                                                    "made": made})
            programme = uuid.uuid4()
            conn.execute(text("INSERT INTO programmes (id, name, status) VALUES (:id, 'Cohort', 'enrolling')"),
                         {"id": programme})
            for user in (later, moved):
                conn.execute(text("INSERT INTO programme_participants (id, programme_id, user_id, role, status, "
                                  "ended_at) VALUES (:id, :programme, :user, 'mentee', 'removed', :ended)"),
                             {"id": uuid.uuid4(), "programme": programme, "user": user,
                              "ended": NOW - timedelta(days=1)})
            stale = _invitation(conn, programme, "later@example.com", NOW - timedelta(days=2))
            fresh = _invitation(conn, programme, "moved@example.com", NOW - timedelta(hours=1))  # after the removal
            other = _invitation(conn, programme, "never@example.com", NOW - timedelta(days=2))
        command.upgrade(alembic_config(url), "0060")
        with engine.connect() as conn:
            marked = dict(conn.execute(text("SELECT id, made_unconfirmed FROM webhook_endpoints")).all())
            feeds = dict(conn.execute(text("SELECT user_id, made_unconfirmed FROM calendar_feeds")).all())
            invitations = dict(conn.execute(text("SELECT id, status || '/' || email_status "
                                                 "FROM programme_invitations")).all())
    assert marked == {squatted: True, before: True, since: False, before_change: False}
    assert feeds == {never: True, later: False}
    assert invitations == {stale: "withdrawn/none", fresh: "pending/pending", other: "pending/pending"}
