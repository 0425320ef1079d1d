"""Tasks on the ``reviews`` queue."""

from __future__ import annotations

from workers.base import DbTask
from workers.celery_app import app
from workflows import reviews
from workflows.outbox import UNLOCK_REVIEWS_TASK


@app.task(name=UNLOCK_REVIEWS_TASK, base=DbTask, bind=True)
def unlock(self: DbTask, event_id: str | None = None) -> int:
    """Completed sessions make their mentees eligible to review (once per event).

    ``event_id`` is claimed first; every due row of the handler is taken.
    """
    return self.drain(reviews.handle_events, event_id)
