"""Tasks on the ``analytics`` queue."""

from __future__ import annotations

from workers.base import DbTask
from workers.celery_app import app
from workflows import analytics


@app.task(name="analytics.record", base=DbTask, bind=True)
def record(self: DbTask, event_id: str) -> bool:
    """Count a session outcome in the mentor's statistics (once per event)."""
    return self.run_handler(event_id, analytics.handle_event)
