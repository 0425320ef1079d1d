"""What tests read of the database itself: the statements code sends, and every row of every table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from models import Base


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


def fingerprint(db: Session) -> dict[str, list[str]]:
    """Every row of every table."""
    return {table.name: sorted(repr(tuple(row)) for row in db.execute(select(table)))
            for table in Base.metadata.sorted_tables}
