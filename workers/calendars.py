"""Tasks on the ``calendars`` queue: mentors' own calendars read (``workflows.calendars.sync``) and written
(``workflows.calendars.writes``).

Both talk to the calendar server outside any transaction: what to do is leased in one short transaction, what came of
it recorded in another, so a slow server holds no database connection and no lock. The beat sends the syncs due and
the writes owed every 15 s, each leased so that no other sends it while it runs.
"""

from __future__ import annotations

import uuid

from workers.base import DbTask
from workers.celery_app import app
from workflows.calendars import sync as calendar_sync
from workflows.calendars import writes as calendar_writes
from workflows.clock import utcnow


@app.task(name="calendars.sync", base=DbTask, bind=True, acks_late=True)
def sync(self: DbTask, connection_id: str, lease_id: str | None = None) -> bool:
    """Sync one connection under its lease (one no longer this sync's is not run); ``True`` when its busy times are
    up to date."""
    return calendar_sync.sync_apart(self.transaction, uuid.UUID(connection_id),
                                    lease_id=uuid.UUID(lease_id) if lease_id else None)


@app.task(name="calendars.write", base=DbTask, bind=True, acks_late=True)
def write(self: DbTask, write_id: str) -> bool:
    """Write one session to its mentor's calendar; ``True`` when it landed (else it is tried again, backing off)."""
    return calendar_writes.push_apart(self.transaction, uuid.UUID(write_id))


@app.task(name="calendars.sync_due", base=DbTask, bind=True)
def sync_due(self: DbTask) -> int:
    """Send each connection whose sync is due, and each write not landed whose next attempt is, leased meanwhile."""
    now = utcnow()
    with self.transaction() as db:
        due = calendar_sync.lease_due(db, now)
        owed = calendar_writes.lease_owed(db, now)
    for connection_id, lease_id in due:
        sync.delay(str(connection_id), str(lease_id))
    for write_id in owed:
        write.delay(str(write_id))
    return len(due) + len(owed)
