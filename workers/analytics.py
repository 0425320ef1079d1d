"""Tasks on the ``analytics`` queue."""

from __future__ import annotations

from workers.base import DbTask
from workers.celery_app import app
from workflows import analytics
from workflows.outbox import RECORD_ANALYTICS_TASK


@app.task(name=RECORD_ANALYTICS_TASK, base=DbTask, bind=True)
def record(self: DbTask, event_id: str | None = None) -> int:
    """Count session outcomes in the mentors' statistics (once per event).

    ``event_id`` is claimed first; every due row of the handler is taken.
    """
    return self.drain(analytics.handle_events, event_id)
