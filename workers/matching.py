"""Match runs and their publication, on the ``matching`` queue: one at a time (concurrency 1 in the Procfile and
compose), each run within ``MATCH_RUN_SECONDS``, so a run never takes the booking workflow's workers."""

from __future__ import annotations

import uuid

from infra.config import get_settings
from outbox import enqueue_after_commit
from workers.base import DbTask
from workers.celery_app import app
from workflows.clock import utcnow
from workflows.matching import drafts, execution, runs

_LIMIT = get_settings().match_run_seconds


@app.task(name=runs.RUN_TASK, base=DbTask, bind=True, soft_time_limit=_LIMIT, time_limit=_LIMIT + 30)
def run_match(self: DbTask, run_id: str) -> str:
    """Carry out a run (``workflows.matching.execution.execute``)."""
    return execution.execute(self.transaction, uuid.UUID(run_id))


@app.task(name=drafts.PUBLISH_TASK, base=DbTask, bind=True)
def publish_drafts(self: DbTask, programme_id: str) -> int:
    """Propose a programme's drafts being published, each in a transaction of its own; after a batch, hand the rest
    to a new task (no task runs long)."""
    for done in range(drafts.PUBLISH_BATCH):
        with self.transaction() as db:
            if not drafts.publish_one(db, uuid.UUID(programme_id)):
                return done
    with self.transaction() as db:
        enqueue_after_commit(db, drafts.PUBLISH_TASK, programme_id)
    return drafts.PUBLISH_BATCH


@app.task(name="matching.sweep", base=DbTask, bind=True)
def sweep(self: DbTask) -> int:
    """Send again the runs whose message or worker was lost, and the publications left unfinished."""
    with self.transaction() as db:
        due = execution.overdue(db, utcnow())
        for run_id in due:
            enqueue_after_commit(db, runs.RUN_TASK, str(run_id))
        programmes = drafts.publishing(db)
        for programme_id in programmes:
            enqueue_after_commit(db, drafts.PUBLISH_TASK, str(programme_id))
    return len(due) + len(programmes)
