"""Tasks on the ``sessions`` queue."""

from __future__ import annotations

import uuid

import structlog

from workers.base import DbTask
from workers.celery_app import app
from workflows import sessions

log = structlog.get_logger(__name__)


@app.task(name="sessions.create_from_booking", base=DbTask, bind=True)
def create_from_booking(self: DbTask, booking_id: str, event_id: str | None = None) -> str | None:
    """Create the session of an accepted booking; a no-op when it exists.

    ``celery -A workers call sessions.create_from_booking --args='["<booking id>"]'`` runs it by hand.
    """
    with self.transaction() as db:
        created = sessions.create_session_from_booking(
            db, uuid.UUID(booking_id), event_id=uuid.UUID(event_id) if event_id else None
        )
        session_id = str(created.id) if created else None
    if session_id:
        log.info("session.created", booking_id=booking_id, session_id=session_id)
    return session_id
