"""A handler's task: drain its due rows in batches, holding its kick so events meanwhile send no message.

Each batch is one transaction (``outbox.batches``): claimed, done and marked together; a row that
fails stays pending with its error and backoff while the rest commits. See ``outbox/__init__.py``
for the kick protocol this takes part in.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.orm import Session

from infra.config import get_settings
from outbox import batches
from outbox.publisher import UNKNOWN, hand_over, look_again, publish, stop_holding_kicks
from outbox.recording import Dispatch
from outbox.registry import Work

#: How long one task goes on draining full batches before it leaves the rest to the kick it sent.
DRAIN_SECONDS = 5.0
#: Events come in during a short batch that make its handler's next batch wait ``HANDLER_LINGER_MS``.
STREAM_EVENTS = 2


def drain(app: Celery, handler: str, work: Work, hint: str | None, *,
          transaction: Callable[[], AbstractContextManager[Session]], request_id: str | None,
          observe: Callable[[int], None] | None = None) -> int:
    """Do ``handler``'s due work in batches; ``hint``'s row (the message's event) is claimed first. Returns the
    rows done.

    The handler's kick key, set as the kick that started this task was sent, stays set while this
    drains, so events committed meanwhile send no message: this task takes them. Once a batch comes
    back short, the key is deleted with the handler's missed set, where an event that found the key
    held is named: if one this task did not claim is there (it came after a claim began), one more
    batch is claimed; an event committed after the delete sends a kick of its own. The first claim goes
    first, with no round trip to Redis before it: an event named before it is in that claim (committed
    before the name was written), and costs nothing more. A task sent by hand (no event named) holds no
    key: the short batch ends it. A burst of events thus
    costs a message per batch, not one per event, and an event alone one claim. A full batch sends a
    kick at once (at most one is queued per handler), so an idle worker can take the next batch while
    this one works; this task goes on for up to :data:`DRAIN_SECONDS`. When :data:`STREAM_EVENTS` or more
    came in while a short batch was done (a stream), they are handed to a kick that waits
    ``HANDLER_LINGER_MS`` (its hint the batch's last event, done), so that the next claim takes them with
    the ones that follow; an event alone, or one more after it, never waits. If another publisher took the
    key first, or Redis is away, this claims them itself.
    """
    settings = get_settings()
    limit, linger = settings.handler_batch, settings.handler_linger_ms / 1000
    began = time.monotonic()
    next_hint = uuid.UUID(hint) if hint else None
    done = 0
    claimed: set[uuid.UUID] = set()  # every event this drain claimed: one the missed set names is no reason to claim
    # Held by the kick that started this task (its message names the event: the publisher's, a full batch's or the
    # relay's); a task sent by hand holds none, and no event waits on it. A key that expired before this began is
    # held by nobody, or by a newer kick: letting it go costs a kick more, never one less.
    key_held = next_hint is not None
    try:
        while True:
            try:
                with transaction() as db:
                    events = batches.claim_due(db, handler, limit=limit, hint=next_hint)
                    claimed.update(event.id for event in events)
                    # Full: the longest-waiting part took all it could (the hint's place may have gone unused).
                    full = bool(events) and len(events) >= limit - (1 if next_hint else 0)
                    if full:
                        last = events[-1]
                        stop_holding_kicks(app, handler)
                        publish(app, [Dispatch(handler, last.id, last.aggregate_id)], request_id)
                        key_held = True  # by the kick just sent
                    batch = batches.do_batch(db, handler, events, work, fatal=(SoftTimeLimitExceeded,))
            except batches.RowFailed as failed:  # its one row's work, and the claim, rolled back
                with transaction() as db:
                    batches.keep_failure(db, handler, failed)
                batch = batches.Batch(events, {failed.event_id: failed.error})
            if events and observe is not None:
                observe(len(events))
            done += batch.done
            next_hint = None
            if full:
                if time.monotonic() - began > DRAIN_SECONDS:
                    key_held = False  # the key is the queued kick's, which takes the rest
                    return done
                look_again(app, handler)
            elif key_held:
                key_held = False
                missed = stop_holding_kicks(app, handler)
                if missed is not UNKNOWN and missed <= claimed:
                    return done  # no event this drain did not claim found the key held
                # Events came in while this batch was done: a stream (two at least: one may be the next step of
                # the workflow this batch served). Its next batch waits a little so that it takes those and the
                # ones that follow together (a worker's cost is per batch, not per row).
                stream = missed is not UNKNOWN and len(missed - claimed) >= STREAM_EVENTS
                if linger and stream and events and hand_over(
                        app, Dispatch(handler, events[-1].id, events[-1].aggregate_id), request_id,
                        wait_seconds=linger):
                    return done
                # else one more batch at once: see above (the delete emptied the set, as before a claim)
            else:
                return done
    finally:
        if key_held:  # a failure: events from now on kick again
            stop_holding_kicks(app, handler)

