"""Periodic upkeep on the ``maintenance`` queue. Every task is idempotent and safe to run twice at once."""

from __future__ import annotations

import structlog

from workers.base import DbTask
from workers.celery_app import app
from workflows import outbox

log = structlog.get_logger(__name__)


@app.task(name="maintenance.relay_outbox", base=DbTask, bind=True)
def relay_outbox(self: DbTask) -> int:
    """Redeliver outbox work not done once its redelivery time has passed."""
    with self.transaction() as db:
        dispatches = outbox.relay_due(db)
    if dispatches:
        log.info("outbox.relayed", count=len(dispatches))
    return len(dispatches)
