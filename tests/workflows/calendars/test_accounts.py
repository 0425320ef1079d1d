"""A mentor's calendar account, sealed (``workflows/calendars/accounts.py``): a secret iCalendar address is kept in
the sealed credentials only, nowhere in the clear, and ``flask ops reseal-credentials`` takes out one left in the clear
by an earlier version."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from infra.config import get_settings
from models.calendars import SEALED_HREF
from tests.calendar_servers import Feed, ics, subscription_server, vevent
from tests.factories.accounts import actor_of
from tests.factories.mentors import ListingFactory
from workflows.calendars import accounts as calendar_accounts
from workflows.calendars import connections as calendar_connections
from workflows.calendars import sync as calendar_sync
from workflows.clock import utcnow


def rows_in_the_clear(db: Session) -> str:
    """Every calendar row, as the text a database dump or a read replica shows."""
    return "\n".join(db.scalars(text(
        "SELECT row_to_json(c)::text FROM calendar_connections c UNION ALL "
        "SELECT row_to_json(s)::text FROM calendar_sources s")))


def test_a_secret_address_is_kept_sealed_only(db: Session) -> None:
    actor = actor_of(ListingFactory().mentor_profile.user)
    with subscription_server(Feed(body=ics(vevent("x", utcnow())))) as url:
        secret = url.replace("/secret-address/", "/private-0a1b2c3d4e5f/")
        connection = calendar_connections.connect(db, actor, kind="ics", url=secret)
        assert calendar_sync.sync_connection(db, connection.id)  # read from the sealed address
        assert "private-0a1b2c3d4e5f" not in rows_in_the_clear(db)
        assert calendar_accounts.unseal(get_settings(), connection.credentials)["url"] == secret
        [source] = calendar_sync.sources_of(db, [connection.id])[connection.id]
        assert (source.href, source.name) == (SEALED_HREF, "127.0.0.1")


def test_resealing_takes_out_an_address_left_in_the_clear(db: Session) -> None:
    actor = actor_of(ListingFactory().mentor_profile.user)
    with subscription_server(Feed(body=ics(vevent("x", utcnow())))) as url:
        connection = calendar_connections.connect(db, actor, kind="ics", url=url)
        db.execute(text("UPDATE calendar_sources SET href = :url WHERE connection_id = :id"),
                   {"url": url, "id": connection.id})  # as an earlier version kept it
        assert "secret-address" in rows_in_the_clear(db)
        assert calendar_accounts.reseal(db, get_settings()) == 1
        assert "secret-address" not in rows_in_the_clear(db)
        assert calendar_sync.sync_connection(db, connection.id)  # read from the sealed address
