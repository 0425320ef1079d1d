"""Tasks on the ``sessions`` queue."""

from __future__ import annotations

import uuid

from workers.base import DbTask
from workers.celery_app import app
from workflows import sessions
from workflows.outbox import CREATE_SESSION_TASK


@app.task(name=CREATE_SESSION_TASK, base=DbTask, bind=True)
def create_from_booking(self: DbTask, booking_id: str, event_id: str | None = None) -> int:
    """Create the sessions of accepted bookings; a no-op for those that exist. Returns how many rows were done.

    The outbox sends ``event_id`` (claimed first; every due row of the handler is taken).
    ``celery -A workers call sessions.create_from_booking --args='["<booking id>"]'`` runs it by hand
    for one booking, then drains the rest.
    """
    if event_id is None:
        with self.transaction() as db:
            sessions.create_session_from_booking(db, uuid.UUID(booking_id))
    return self.drain(sessions.create_sessions_for_events, event_id)
