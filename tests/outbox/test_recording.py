"""Recording events (``outbox/recording.py``): a batch of events of one type, with a pending row per handler each,
is one statement whose events travel as one JSON document, and each payload is stored as it was given."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from models import OutboxEvent, OutboxHandler
from outbox import record_events
from outbox.registry import REGISTRY
from workflows.events import EventType

# What a payload may hold that an array's text would have to escape: quotes, backslashes, braces, commas, a
# newline, and text outside ASCII.
AWKWARD = ['say "hi"', "C:\\path\\", "{a,b}", "two\nlines", "Zoë 東京 🙂", "", "NULL"]


def test_a_batch_of_events_is_one_statement_and_keeps_each_payload_as_given(
        db: Session, connection: Connection) -> None:
    items: list[tuple[uuid.UUID, dict[str, Any]]] = [
        (uuid.uuid4(), {"text": text, "n": n, "nested": {"list": [text, n, None, True]}})
        for n, text in enumerate(AWKWARD)]
    sent: list[str] = []

    def seen(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", seen)
    try:
        written = record_events(db, EventType.SESSION_COMPLETED, items, actor="system")
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    (statement,) = [text for text in sent if "outbox" in text]
    assert "jsonb_to_recordset" in statement and "JSONB[]" not in statement  # one document, not an array of them
    assert [(e.aggregate_id, e.payload) for e in written] == items
    stored = {row.id: row for row in db.scalars(select(OutboxEvent).where(OutboxEvent.id.in_([e.id for e in written])))}
    assert [(stored[e.id].aggregate_id, stored[e.id].payload) for e in written] == items
    handlers = db.execute(select(OutboxHandler.event_id, OutboxHandler.handler)
                          .where(OutboxHandler.event_id.in_([e.id for e in written]))).all()
    expected = REGISTRY.handlers_for(EventType.SESSION_COMPLETED)
    assert sorted(handlers) == sorted((e.id, handler) for e in written for handler in expected)
