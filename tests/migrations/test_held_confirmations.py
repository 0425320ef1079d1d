"""Revision 0058 holds the booking confirmations an unconfirmed account was owed and never mailed, so that confirming
the address sends those of meetings still to come; nothing else changes. On a database of this test's own, dropped
after."""

from __future__ import annotations

import uuid

from alembic import command
from sqlalchemy import text

from tests.conftest import alembic_config
from tests.database import scratch_database


def test_revision_0058_holds_the_confirmations_never_mailed_to_an_unconfirmed_address() -> None:
    with scratch_database("0053") as (url, engine):
        unconfirmed, confirmed = uuid.uuid4(), uuid.uuid4()
        rows = {  # (user, type, email status, attempts): the status after
            uuid.uuid4(): (unconfirmed, "booking.accepted", "none", 0, "unconfirmed"),
            uuid.uuid4(): (unconfirmed, "booking_series.accepted", "none", 0, "unconfirmed"),
            uuid.uuid4(): (unconfirmed, "booking.declined", "none", 0, "none"),  # no invite to send
            uuid.uuid4(): (unconfirmed, "booking.accepted", "failed", 5, "failed"),
            uuid.uuid4(): (confirmed, "booking.accepted", "none", 0, "none"),
        }
        with engine.begin() as conn:
            for user, verified in ((unconfirmed, False), (confirmed, True)):
                conn.execute(text("INSERT INTO users (id, email, password_hash, display_name, email_verified_at) "
                                  "VALUES (:id, :email, 'x', 'P', CASE WHEN :verified THEN now() END)"),
                             {"id": user, "email": f"{user}@example.com", "verified": verified})
            for notification, (user, kind, status, attempts, _) in rows.items():
                conn.execute(text("INSERT INTO notifications (id, user_id, type, title, body, email_status, "
                                  "email_attempts) VALUES (:id, :user, :type, 't', 'b', :status, :attempts)"),
                             {"id": notification, "user": user, "type": kind, "status": status,
                              "attempts": attempts})
        command.upgrade(alembic_config(url), "0058")
        with engine.connect() as conn:
            after = dict(conn.execute(text("SELECT id, email_status FROM notifications")).all())
    assert after == {notification: row[-1] for notification, row in rows.items()}
