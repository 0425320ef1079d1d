"""Tasks on the ``webhooks`` queue: fan-out, one endpoint's batch of deliveries, and the due-message dispatcher.

The design (leases, one batch in flight per endpoint, retries kept in the
database) is described in ``workflows/webhooks/__init__.py``.
"""

from __future__ import annotations

import queue
import threading
import time
from types import TracebackType
from typing import Self

import structlog

from infra.config import get_settings
from models import WebhookMessageStatus
from workers.base import DbTask, session_factory
from workers.celery_app import app
from workers.metrics import WEBHOOK_ATTEMPTS
from workflows.webhooks import fanout, leases, messages, outcomes, sending

_settings = get_settings()
log = structlog.get_logger(__name__)
_Sent = tuple[sending.Delivery, sending.Outcome]


class DeliveredRecorder:
    """Records a batch's deliveries in a thread of its own while the batch goes on.

    A batch that dies (killed, out of time) keeps every delivery recorded so far, and is not
    sent again; the request path does not wait for the database. A write takes what arrives
    within ``LINGER_SECONDS`` of its first outcome, so a fast batch costs a few writes, not one
    per delivery: a worker killed while deliveries are flowing leaves at most that much
    unrecorded (sent again, same ``webhook-id``); one killed during a slow attempt, none.
    """

    LINGER_SECONDS = 0.1

    def __init__(self) -> None:
        self.recorded: set[str] = set()  # messages whose delivery is written; read once the thread is joined
        self._queue: queue.SimpleQueue[_Sent | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="webhook-outcomes", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._queue.put(None)
        self._thread.join()

    def hear(self, delivery: sending.Delivery, outcome: sending.Outcome) -> None:
        if outcome.delivered:
            self._queue.put((delivery, outcome))

    def _run(self) -> None:
        done = False
        while not done:
            batch: list[_Sent] = []
            item = self._queue.get()
            until = time.monotonic() + self.LINGER_SECONDS
            while item is not None:
                batch.append(item)
                try:
                    item = self._queue.get(timeout=max(0.0, until - time.monotonic()))
                except queue.Empty:
                    break
            done = item is None
            if not batch:
                continue
            try:
                with session_factory()() as db:
                    outcomes.record_delivered(db, batch)
                    db.commit()
                self.recorded.update(delivery.message_id for delivery, _ in batch)
            except Exception:  # the batch's own outcome transaction records these again
                log.exception("webhooks.record_delivered_failed", count=len(batch))


def outcome_label(outcome: sending.Outcome) -> str:
    """delivered, http_error (the endpoint answered non-2xx) or network_error (no answer, refused target)."""
    if outcome.delivered:
        return "delivered"
    return "http_error" if outcome.status_code is not None else "network_error"


@app.task(
    name=messages.DELIVER_TASK, base=DbTask, bind=True,
    soft_time_limit=leases.task_soft_time_limit(_settings),
    time_limit=leases.task_time_limit(_settings),
)
def deliver(self: DbTask, message_id: str) -> int:
    """Deliver ``message_id`` and its endpoint's next due messages: lease a batch (short transaction),
    POST them one by one (no transaction), record the outcomes (short transaction).

    Returns how many were delivered: 0 also when there was nothing to do (the message is not due,
    already leased or delivered, or its endpoint is disabled or busy with another batch).
    """
    settings = get_settings()
    with self.transaction() as db:
        deliveries = leases.lease_batch(db, message_id, settings=settings)
    if not deliveries:
        return 0
    with DeliveredRecorder() as recorder:
        results = sending.send_batch(deliveries, settings=settings, on_outcome=recorder.hear)
    for outcome in results:
        WEBHOOK_ATTEMPTS.labels(outcome_label(outcome)).inc()
    with self.transaction() as db:
        statuses = outcomes.record_outcomes(db, deliveries, results, settings=settings,
                                            recorded=recorder.recorded)
    return statuses.count(WebhookMessageStatus.DELIVERED)


@app.task(name="webhooks.dispatch_due", base=DbTask, bind=True)
def dispatch_due(self: DbTask) -> int:
    """Send ``webhooks.deliver`` for messages whose retry time has come or whose lease has expired."""
    with self.transaction() as db:
        return len(fanout.dispatch_due(db, settings=get_settings()))
