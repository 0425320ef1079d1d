"""Tasks on the ``reviews`` queue."""

from __future__ import annotations

from workers.base import DbTask
from workers.celery_app import app
from workflows import reviews


@app.task(name="reviews.unlock", base=DbTask, bind=True)
def unlock(self: DbTask, event_id: str) -> bool:
    """A completed session makes its mentees eligible to review (once per event)."""
    return self.run_handler(event_id, reviews.handle_event)
