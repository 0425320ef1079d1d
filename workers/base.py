"""The Task base that owns the database session and the transaction."""

from __future__ import annotations

import os
import time
import uuid
from contextlib import AbstractContextManager

import celery
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from infra.db import make_engine, make_session_factory, transaction
from infra.publish import hand_over, hold_kicks, install_publisher, look_again, publish, stop_holding_kicks
from models import OutboxEvent
from workers.celery_app import app, request_id_of
from workers.metrics import HANDLER_BATCH_SIZE
from workflows import outbox_batches
from workflows.outbox import REQUEST_ID_KEY, Dispatch
from workflows.outbox_batches import EventsWork

_factory: sessionmaker[Session] | None = None
_factory_pid: int | None = None


def session_factory() -> sessionmaker[Session]:
    """One engine per process, created lazily so forked pool children never share sockets."""
    global _factory, _factory_pid  # noqa: PLW0603 - a per-process cache
    if _factory is None or _factory_pid != os.getpid():
        settings = get_settings()
        engine = make_engine(settings.sqlalchemy_database_url, pool_size=2, application_name="mentorship-worker")
        _factory = make_session_factory(engine)
        _factory_pid = os.getpid()

        install_publisher(_factory, lambda: app)
    return _factory


#: How long one task goes on draining full batches before it leaves the rest to the kick it sent.
DRAIN_SECONDS = 5.0


class DbTask(celery.Task):  # type: ignore[type-arg]
    """Tasks take ids, open one session, call a workflow, commit once.

    Any exception rolls the transaction back; the outbox redelivers work that
    was not marked done, so a failed or killed task is retried from the database.
    """

    abstract = True

    def transaction(self) -> AbstractContextManager[Session]:
        # Work this task publishes carries the id of the request that caused it.
        return transaction(session_factory(), **{REQUEST_ID_KEY: request_id_of(self)})

    def drain(self, work: EventsWork, hint: str | None = None) -> int:
        """Do this handler's due work in batches; ``hint``'s row (the message's event) is claimed first.

        Each batch is one transaction (``workflows.outbox_batches``): claimed, done and marked together;
        a row that fails stays pending with its error and backoff while the rest commits.

        The handler's kick key stays set while this drains (its TTL starts again as this starts), so
        events committed meanwhile send no message: this task takes them. Once a batch comes back short,
        the key is deleted with the handler's missed flag, cleared before each claim: if an event found
        the key held since then, one more batch is claimed; an event committed after the delete sends a
        kick of its own (``infra.publish``). With no key set at the start, the short batch ends it. A
        burst of events thus costs a message per batch, not one per event, and an event alone one claim.
        In a busy stream, the events that came in while a batch was done go to a kick that waits
        ``HANDLER_LINGER_MS``, so that the next claim takes them with the ones that follow.
        A full batch sends a kick at once (at most one is queued per handler), so an idle worker can take
        the next batch while this one works; this task goes on for up to :data:`DRAIN_SECONDS`. Returns
        the rows done.
        """
        handler = self.name
        limit = get_settings().handler_batch
        began = time.monotonic()
        next_hint = uuid.UUID(hint) if hint else None
        done = 0
        # Held by the kick that started this task; a task sent by hand, or whose kick key has expired,
        # holds none, and no event waits on it.
        key_held = hold_kicks(self.app, handler)
        try:
            while True:
                try:
                    with self.transaction() as db:
                        events = outbox_batches.claim_due(db, handler, limit=limit, hint=next_hint)
                        # Full: the longest-waiting part took all it could (the hint's place may have gone unused).
                        full = bool(events) and len(events) >= limit - (1 if next_hint else 0)
                        if full:
                            last = events[-1]
                            stop_holding_kicks(self.app, handler)
                            publish(self.app, [Dispatch(handler, last.id, last.aggregate_id)], request_id_of(self))
                            key_held = True  # by the kick just sent
                        batch = outbox_batches.do_batch(db, handler, events, work, fatal=(SoftTimeLimitExceeded,))
                except outbox_batches.RowFailed as failed:  # its one row's work, and the claim, rolled back
                    with self.transaction() as db:
                        outbox_batches.keep_failure(db, handler, failed)
                    batch = outbox_batches.Batch(events, {failed.event_id: failed.error})
                if events:
                    HANDLER_BATCH_SIZE.labels(handler).observe(len(events))
                done += batch.done
                next_hint = None
                if full:
                    if time.monotonic() - began > DRAIN_SECONDS:
                        key_held = False  # the key is the queued kick's, which takes the rest
                        return done
                    look_again(self.app, handler)
                elif key_held:
                    key_held = False
                    released = stop_holding_kicks(self.app, handler)
                    if not released.missed:
                        return done  # no event found the key held since this batch's claim began
                    if released.busy and events and self._hand_over(handler, events[-1]):
                        return done
                    # else one more batch: see above (the delete cleared the flag, as before a claim)
                else:
                    return done
        finally:
            if key_held:  # a failure: events from now on kick again
                stop_holding_kicks(self.app, handler)

    def _hand_over(self, handler: str, last: OutboxEvent) -> bool:
        """Leave the events that came in during a busy handler's batch to a kick that waits; whether one was sent.

        Not when another publisher took the key first: its kick might yet fail to go out, so the caller
        claims them itself. The batch's last event, done, serves as the kick's hint.
        """
        return hand_over(self.app, Dispatch(handler, last.id, last.aggregate_id), request_id_of(self))
