"""Revision 0037 takes a subscription's address out of ``calendar_sources.href`` on a database made by 0036 that held
it in the clear (its sealed credentials keep it). On a database of this test's own, dropped after."""

from __future__ import annotations

import uuid

from alembic import command
from sqlalchemy import text

from tests.conftest import alembic_config
from tests.database import scratch_database


def test_revision_0037_takes_a_subscriptions_address_out_of_the_clear() -> None:
    with scratch_database("0036") as (url, engine):
        user, profile, ics, caldav = (uuid.uuid4() for _ in range(4))
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, email, password_hash, display_name) "
                              "VALUES (:id, 'm@example.com', 'x', 'M')"), {"id": user})
            conn.execute(text("INSERT INTO mentor_profiles (id, user_id, headline, timezone) "
                              "VALUES (:id, :user, 'h', 'UTC')"), {"id": profile, "user": user})
            for connection, kind, href in ((ics, "ics", "https://calendar.example.com/private-abc/basic.ics"),
                                           (caldav, "caldav", "https://dav.example.com/u/work/")):
                conn.execute(text("INSERT INTO calendar_connections (id, mentor_profile_id, kind, host, credentials) "
                                  "VALUES (:id, :profile, :kind, 'example.com', 'sealed')"),
                             {"id": connection, "profile": profile, "kind": kind})
                conn.execute(text("INSERT INTO calendar_sources (id, connection_id, mentor_profile_id, href, name) "
                                  "VALUES (:id, :connection, :profile, :href, 'c')"),
                             {"id": uuid.uuid4(), "connection": connection, "profile": profile, "href": href})
        command.upgrade(alembic_config(url), "0037")
        with engine.connect() as conn:
            hrefs = dict(conn.execute(text("SELECT connection_id, href FROM calendar_sources")).all())
    # A CalDAV calendar's address stays: it is no secret without the account's password.
    assert hrefs == {ics: "sealed", caldav: "https://dav.example.com/u/work/"}
