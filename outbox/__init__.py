"""The transactional outbox: every side effect of a state change is written with the change, and done once.

Who does what::

    API request / task                      after its commit                  worker (the handler's task)
    ──────────────────                      ────────────────                  ───────────────────────────
    state change                            publisher: one kick per handler   drain: claim ≤ HANDLER_BATCH due rows
    + outbox_events row          ───────▶   whose kick key it sets (SET NX)   ───▶ (SKIP LOCKED), mark them done,
    + one outbox_handlers row               → Redis queue <queue>              do their work, commit; repeat while
      per handler of its type               + live streams (on_committed)      rows come, then release the key
      (recording.record_events)

    beat, every 5 s: relay — rows still pending once next_attempt_at passes are kicked again (backoff
    30 s, 60 s, … OUTBOX_REDELIVER_MAX_SECONDS); a marker key gone from Redis makes every pending row due.

A handler row's states::

    pending ──claimed with its batch, done in the same transaction──▶ done
       ▲  │
       │  └─ its work failed: stays pending, with last_error, and backoff_until (the same backoff)
       └──── a batch rolled back (a killed worker, a lost connection): its rows were never marked

What survives what:

- A rollback: nothing was written, nothing is sent (the publisher forgets what the session owed).
- Redis down at commit: the rows are in the database; the publish fails, the rows are made due now,
  and the relay sends them once Redis is back. The request succeeds.
- A kick lost (Redis restarted empty, a message dropped): the relay kicks the handler once the row's
  ``next_attempt_at`` passes, or at once when Redis's marker key is gone.
- A worker killed mid-batch: the batch's transaction never commits; its rows stay pending, and the
  relay kicks them again. The work is done once: the row is marked in the transaction that does it
  (work that can also be started by hand, such as a session's creation, has a unique key besides).
- Two workers on one backlog: ``SKIP LOCKED`` gives each its own rows.

The kick protocol (``outbox.publisher``): a kick key per handler in Redis means "a kick is queued or a
task is draining". Publishers send a kick only when they set the key, and name their event in the
handler's *missed* set when they find it held; the draining task holds the key and, as it lets it go,
claims once more only if the set names an event it did not claim: in a stream (two or more), after
``HANDLER_LINGER_MS``, handing those events to a kick of its own that waits (so the next batch takes
them with the ones that follow). The key's TTL (``HANDLER_KICK_TTL_SECONDS``) ends a key whose task died.

The modules: ``registry`` (event types and handlers, declared by the domain), ``recording``,
``batches`` (claiming and doing a batch), ``relay``; the Celery-facing ``publisher`` and ``draining``,
which the domain never imports. Event types and handlers are declared in ``workflows/events.py`` and
``workflows/handlers.py``; the workers make a task of each handler (``workers/handlers.py``).
"""

from outbox.recording import (
    enqueue_after_commit,
    mark_done,
    mark_done_for_aggregate,
    record_events,
    recorded_within,
)
from outbox.registry import REGISTRY, EventSpec, HandlerSpec

__all__ = ["REGISTRY", "EventSpec", "HandlerSpec", "enqueue_after_commit", "mark_done", "mark_done_for_aggregate",
           "record_events", "recorded_within"]
