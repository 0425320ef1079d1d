"""Tasks on the ``calendars`` queue: mentors' own calendars read (``workflows.calendar_sync``) and written
(``workflows.calendar_writes``).

A sync talks to the calendar server outside any transaction: the plan is read in one, what changed is stored in
another, so a slow server holds no database connection and no lock. A write holds its own row's lock while it asks
the server (at most 10 s), so that two writes of one event land in order. The beat sends the connections due every 15 s,
each leased for a while so that the next beat does not send it again while it runs.
"""

from __future__ import annotations

import uuid

from workers.base import DbTask
from workers.celery_app import app
from workflows import calendar_sync, calendar_writes
from workflows.clock import utcnow


@app.task(name="calendars.sync", base=DbTask, bind=True, acks_late=True)
def sync(self: DbTask, connection_id: str) -> bool:
    """Sync one connection; ``True`` when its busy times are up to date."""
    return calendar_sync.sync_apart(self.transaction, uuid.UUID(connection_id))

@app.task(name="calendars.write", base=DbTask, bind=True, acks_late=True)
def write(self: DbTask, write_id: str) -> bool:
    """Write one session to its mentor's calendar; ``True`` when it landed (else it is tried again, backing off).
    One transaction, the write's row locked while the server is asked: two writes of one event take turns."""
    with self.transaction() as db:
        return calendar_writes.push(db, uuid.UUID(write_id))

@app.task(name="calendars.sync_due", base=DbTask, bind=True)
def sync_due(self: DbTask) -> int:
    """Send each connection whose sync is due, and each write not landed whose next attempt is, leased meanwhile."""
    now = utcnow()
    with self.transaction() as db:
        due = calendar_sync.lease_due(db, now)
        owed = calendar_writes.lease_owed(db, now)
    for connection_id in due:
        sync.delay(str(connection_id))
    for write_id in owed:
        write.delay(str(write_id))
    return len(due) + len(owed)
