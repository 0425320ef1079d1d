"""The worker app as ``celery -A workers`` loads it, plus the tasks the task figures are compared with."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from outbox import REGISTRY
from outbox.recording import Dispatch, pending_dispatches, redeliver_delay
from workers import app
from workers.base import session_factory

__all__ = ["CREATE_SESSIONS", "app", "floor_create", "noop", "write_event_raw"]

CREATE_SESSIONS = "sessions.create_from_booking"  # the handler the floor task stands in for
NOOP_TASK = "bench.noop"
FLOOR_CREATE_TASK = "sessions.bench_floor_create"  # routed to the sessions queue, as the real one
_SCHEDULED = "session.scheduled"


@app.task(name=NOOP_TASK)
def noop(*_args: object, **_kwargs: object) -> None:
    """Nothing: what a task costs when its work costs nothing."""


def write_event_raw(db: Session, event_type: str, aggregate_type: str, aggregate_id: uuid.UUID,
                    payload: dict[str, str]) -> uuid.UUID:
    """``outbox.record_events`` in plain SQL: the event, one pending row per handler, their dispatches."""
    event_id = uuid.uuid4()
    db.execute(text("INSERT INTO outbox_events (id, type, aggregate_type, aggregate_id, payload) "
                    "VALUES (:id, :type, :aggregate_type, :aggregate_id, CAST(:payload AS jsonb))"),
               {"id": event_id, "type": event_type, "aggregate_type": aggregate_type,
                "aggregate_id": aggregate_id, "payload": json.dumps(payload)})
    handlers = REGISTRY.handlers_for(event_type)
    db.execute(text("INSERT INTO outbox_handlers (event_id, handler, status, next_attempt_at) "
                    "SELECT :event, h, 'pending', now() + :first FROM unnest(CAST(:handlers AS text[])) h"),
               {"event": event_id, "handlers": list(handlers), "first": redeliver_delay(0)})
    pending_dispatches(db).extend(Dispatch(handler, event_id, aggregate_id) for handler in handlers)
    return event_id


@app.task(name=FLOOR_CREATE_TASK)
def floor_create(booking_id: str, event_id: str) -> bool:
    """The least a session creation must do on this stack, with no ORM and no checks.

    One transaction claims the handler row, inserts the session and writes its
    ``session.scheduled`` event with its handler row; after the commit, one
    Celery message per handler through the real publisher.
    """
    with session_factory()() as db:
        claimed = db.execute(text("UPDATE outbox_handlers SET status = 'done', done_at = now() "
                                  "WHERE event_id = :event AND handler = :handler AND status = 'pending' "
                                  "RETURNING event_id"), {"event": event_id, "handler": CREATE_SESSIONS}).first()
        if claimed is None:
            return False
        session_id = uuid.uuid4()
        db.execute(text("""
            INSERT INTO sessions (id, kind, booking_id, listing_id, mentor_profile_id, mentee_user_id,
                                  start_time, end_time, status)
            SELECT :id, 'individual', id, listing_id, mentor_profile_id, mentee_user_id, start_time, end_time,
                   'scheduled'
            FROM bookings WHERE id = :booking AND status = 'accepted'
            ON CONFLICT (booking_id) DO NOTHING
        """), {"id": session_id, "booking": booking_id})
        write_event_raw(db, _SCHEDULED, "session", session_id,
                        {"session_id": str(session_id), "booking_id": booking_id})
        db.commit()
    return True
