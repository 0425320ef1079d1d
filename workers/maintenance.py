"""Periodic upkeep on the ``maintenance`` queue. Every task is idempotent and safe to run twice at once."""

from __future__ import annotations

import structlog

from infra.config import get_settings
from outbox import relay
from outbox.publisher import broker_lost_its_queues
from workers.base import DbTask
from workers.celery_app import app
from workflows.bookings import lifecycle as bookings
from workflows.bookings import reschedules
from workflows.operations import retention
from workflows.programmes import nudges, pausing
from workflows.sessions import attendance, reminders, waitlists
from workflows.sessions import sweeps as session_sweeps

log = structlog.get_logger(__name__)


@app.task(name="maintenance.relay_outbox", base=DbTask, bind=True)
def relay_outbox(self: DbTask) -> int:
    """Redeliver outbox work not done once its redelivery time has passed, or at once if Redis lost its queues."""
    with self.transaction() as db:
        if broker_lost_its_queues(app):
            # A Redis without the marker: new (nothing was queued there), or restarted without its data. Only
            # pending work says something may have been lost; it is sent again now.
            if pending := relay.make_pending_due(db):
                log.warning("outbox.broker_lost_its_queues", pending=pending)
            else:
                log.info("outbox.broker_marked", pending=0)
        dispatches = relay.relay_due(db)
    if dispatches:
        log.info("outbox.relayed", count=len(dispatches))
    return len(dispatches)


@app.task(name="maintenance.expire_drafts", base=DbTask, bind=True)
def expire_drafts(self: DbTask) -> int:
    """Drafts whose start time has passed become expired, and so do proposals to move a booking."""
    with self.transaction() as db:
        return bookings.expire_stale_drafts(db) + reschedules.expire_proposals(db)


@app.task(name="maintenance.expire_waitlist_offers", base=DbTask, bind=True)
def expire_waitlist_offers(self: DbTask) -> int:
    """Seats offered from a waitlist and not taken in time pass to the next in line; lines of sessions that began
    close."""
    with self.transaction() as db:
        return waitlists.expire_offers(db)


@app.task(name="maintenance.confirm_attendance", base=DbTask, bind=True)
def confirm_attendance(self: DbTask) -> int:
    """Absences found on one side's word, undisputed past their window, become final: credits and fees move."""
    with self.transaction() as db:
        return attendance.confirm_due(db)


@app.task(name="maintenance.mark_missed", base=DbTask, bind=True)
def mark_missed(self: DbTask) -> int:
    """Sessions never started by end + grace become missed."""
    with self.transaction() as db:
        return session_sweeps.mark_missed_sessions(db)


@app.task(name="maintenance.auto_complete", base=DbTask, bind=True)
def auto_complete(self: DbTask) -> int:
    """Sessions forgotten in progress are completed by the system."""
    with self.transaction() as db:
        return session_sweeps.auto_complete_sessions(db)


@app.task(name="maintenance.prune_history", base=DbTask, bind=True)
def prune_history(self: DbTask) -> dict[str, int]:
    """Remove history past its retention: at most ``RETENTION_MAX_BATCHES`` batches per kind, one transaction each.

    A backlog larger than one run allows is taken by the next runs; a short run never holds a long transaction.
    """
    settings = get_settings()
    removed: dict[str, int] = {}
    for target in retention.TARGETS:
        removed[target.name] = 0
        for _ in range(settings.retention_max_batches):
            with self.transaction() as db:
                count = target.prune_batch(db, settings)
            removed[target.name] += count
            if count < settings.retention_batch_size:
                break
    if any(removed.values()):
        log.info("retention.pruned", **removed)
    return removed


@app.task(name="maintenance.send_reminders", base=DbTask, bind=True)
def send_reminders(self: DbTask) -> int:
    """Each participant of a session is reminded once per ``REMINDER_OFFSETS`` offset before it starts."""
    with self.transaction() as db:
        return reminders.send_due_reminders(db)


@app.task(name="maintenance.send_nudges", base=DbTask, bind=True)
def send_nudges(self: DbTask) -> int:
    """The programmes' reminders due now, each once."""
    with self.transaction() as db:
        return nudges.send_due(db)


@app.task(name="maintenance.resume_pairings", base=DbTask, bind=True)
def resume_pairings(self: DbTask) -> int:
    """Paused pairings whose day to go on has come are resumed by the system (one that cannot is told why)."""
    with self.transaction() as db:
        return pausing.resume_due(db)
