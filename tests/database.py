"""What tests read of the database itself: the statements code sends, every row of every table, and the events
workflows recorded; and a refused call undone as the API undoes it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from infra.config import sqlalchemy_url
from models import Base, Notification, OutboxEvent
from tests.conftest import SERVER_URL, alembic_config
from workflows.errors import DomainError
from workflows.inbox import Shown, shown


@contextmanager
def counting(connection: Connection) -> Iterator[Callable[[], int]]:
    """The number of statements sent on ``connection`` inside the block, so far."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield lambda: len(statements)
    finally:
        event.remove(connection, "before_cursor_execute", count)


def plans(connection: Connection, fragment: str) -> list[tuple[int, int]]:
    """(generic, custom) plans made so far for each statement ``connection`` prepared that contains ``fragment``.

    psycopg prepares a statement at its fifth run on a connection; PostgreSQL then plans it for its values five
    times, and from then on reuses one generic plan unless that plan looks dearer than one made for the values.
    """
    rows = connection.exec_driver_sql("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                                      "WHERE strpos(statement, %(fragment)s) > 0", {"fragment": fragment})
    return [(generic, custom) for generic, custom in rows]


def fingerprint(db: Session) -> dict[str, list[str]]:
    """Every row of every table."""
    return {table.name: sorted(repr(tuple(row)) for row in db.execute(select(table)))
            for table in Base.metadata.sorted_tables}


def events_of(db: Session, *aggregate_ids: uuid.UUID) -> list[tuple[str, str | None]]:
    """The (type, actor) of every event recorded about these bookings, sessions or reviews, sorted."""
    rows = db.execute(select(OutboxEvent.type, OutboxEvent.actor).where(OutboxEvent.aggregate_id.in_(aggregate_ids)))
    return sorted((event_type, actor) for event_type, actor in rows)


def event_types_of(db: Session, *aggregate_ids: uuid.UUID) -> list[str]:
    """The types of every event recorded about these aggregates, sorted: events of one transaction share its
    timestamp, so their order of writing is not in the table."""
    return [event_type for event_type, _actor in events_of(db, *aggregate_ids)]


def payloads_of(db: Session, event_type: str) -> list[dict[str, Any]]:
    """The payloads of every event of this type, in the order they were recorded."""
    return [event.payload for event in db.scalars(select(OutboxEvent).where(OutboxEvent.type == event_type)
                                                  .order_by(OutboxEvent.created_at, OutboxEvent.id))]


def notifications_read(db: Session, *where: Any) -> list[Shown]:
    """The notifications meeting the conditions, oldest first, as each reader reads them now."""
    return shown(db, db.scalars(select(Notification).where(*where)
                                .order_by(Notification.created_at, Notification.id)).all())


def refused(db: Session, error: type[DomainError], call: Callable[[], object]) -> DomainError:
    """Make the call, which the domain must refuse with ``error``, and undo what it wrote before refusing, as the
    API does (a rollback to before the call); the error, to read its message and details."""
    with pytest.raises(error) as caught, db.begin_nested():
        call()
    return caught.value


@contextmanager
def scratch_database(revision: str) -> Iterator[tuple[str, Engine]]:
    """A database of the test's own, built by Alembic up to ``revision``: its URL (to upgrade it further) and an
    engine on it; dropped after, whatever happens."""
    name = f"mentorship_migration_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sqlalchemy_url(SERVER_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(sqlalchemy_url(url))
    try:
        command.upgrade(alembic_config(url), revision)
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
