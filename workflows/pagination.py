"""Keyset pagination with opaque cursors: cost does not grow with the page number.

The page sizes live here: every list takes 1 to ``MAX_PAGE_SIZE`` items a page,
``DEFAULT_PAGE_SIZE`` when the caller does not say (api/common/schemas.py reads both).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, Uuid, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from workflows.errors import InvalidInput

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def contains(text: str) -> str:
    """A LIKE pattern matching values that contain ``text`` as typed (its ``%``, ``_`` and ``\\`` taken literally,
    PostgreSQL's default escape being the backslash): a list's search."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def encode_cursor(sort_value: datetime, row_id: uuid.UUID | str) -> str:
    raw = json.dumps([sort_value.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, uuid_ids: bool = True) -> tuple[datetime, uuid.UUID | str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_text, id_text = json.loads(raw)
        return datetime.fromisoformat(sort_text), uuid.UUID(id_text) if uuid_ids else str(id_text)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("invalid cursor") from exc


def paginate(
    db: Session,
    query: Select[T],
    sort_column: InstrumentedAttribute[datetime],
    id_column: InstrumentedAttribute[uuid.UUID] | InstrumentedAttribute[str],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> Page[T]:
    """One page of ``query`` ordered by (sort_column, id), after ``cursor``."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput("a page holds 1 to {max_page_size} items", words={"max_page_size": MAX_PAGE_SIZE})
    if cursor:
        after = decode_cursor(cursor, uuid_ids=isinstance(id_column.type, Uuid))
        key = tuple_(sort_column, id_column)
        query = query.where(key < after if descending else key > after)
    order: list[Any] = (
        [sort_column.desc(), id_column.desc()] if descending else [sort_column.asc(), id_column.asc()]
    )
    rows = list(db.execute(query.order_by(*order).limit(limit + 1)).scalars().unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, sort_column.key), getattr(last, id_column.key))
    return Page(items=rows, next_cursor=next_cursor)
