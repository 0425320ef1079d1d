"""Tasks on the ``webhooks`` queue: fan-out, one endpoint's batch of deliveries, and the due-message dispatcher.

The design (leases, one batch in flight per endpoint, retries kept in the
database) is described in ``workflows/webhook_delivery.py``.
"""

from __future__ import annotations

from workers.base import DbTask
from workers.celery_app import app
from workers.metrics import WEBHOOK_ATTEMPTS
from workflows import webhook_delivery
from workflows.config import get_settings

_settings = get_settings()


def outcome_label(outcome: webhook_delivery.Outcome) -> str:
    """delivered, http_error (the endpoint answered non-2xx) or network_error (no answer, refused target)."""
    if outcome.delivered:
        return "delivered"
    return "http_error" if outcome.status_code is not None else "network_error"


@app.task(name="webhooks.fan_out", base=DbTask, bind=True)
def fan_out(self: DbTask, event_id: str) -> bool:
    """One message per endpoint that may see the event (once per event), each delivered after commit."""
    return self.run_handler(event_id, webhook_delivery.handle_event)


@app.task(
    name="webhooks.deliver", base=DbTask, bind=True,
    soft_time_limit=webhook_delivery.task_soft_time_limit(_settings),
    time_limit=webhook_delivery.task_time_limit(_settings),
)
def deliver(self: DbTask, message_id: str) -> int:
    """Deliver ``message_id`` and its endpoint's next due messages: lease a batch (short transaction),
    POST them one by one (no transaction), record the outcomes (short transaction).

    Returns how many were delivered: 0 also when there was nothing to do (the message is not due,
    already leased or delivered, or its endpoint is disabled or busy with another batch).
    """
    settings = get_settings()
    with self.transaction() as db:
        deliveries = webhook_delivery.lease_batch(db, message_id, settings=settings)
    if not deliveries:
        return 0
    outcomes = webhook_delivery.send_batch(deliveries, settings=settings)
    for outcome in outcomes:
        WEBHOOK_ATTEMPTS.labels(outcome_label(outcome)).inc()
    with self.transaction() as db:
        statuses = webhook_delivery.record_outcomes(db, deliveries, outcomes, settings=settings)
    return statuses.count(webhook_delivery.DELIVERED)


@app.task(name="webhooks.dispatch_due", base=DbTask, bind=True)
def dispatch_due(self: DbTask) -> int:
    """Send ``webhooks.deliver`` for messages whose retry time has come or whose lease has expired."""
    with self.transaction() as db:
        return len(webhook_delivery.dispatch_due(db))
