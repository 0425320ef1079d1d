"""Signed webhooks: endpoints, fan-out, leased batches, retries, and isolation between endpoints.

- ``endpoints``: what owners manage (CRUD, secrets, test sends, delivery history, manual retry).
- ``fanout``: one ``WebhookMessage`` per endpoint that subscribes to an event and may see it
  (``ON CONFLICT DO NOTHING``: an event handled twice yields one each), ``deliver`` sent after
  commit, and ``dispatch_due`` (beat, every 5 s) for retries and lost tasks. The message id is the
  ``webhook-id`` header, stable across retries.
- ``leases``: a ``deliver`` leases its endpoint's due messages, up to ``BATCH_SIZE``, oldest first, when the
  endpoint is free and not backing off and its owner has a slot free.
- ``sending``: outside any transaction, the target is checked once and the batch is POSTed one
  request at a time over one connection; it stops at the first failure and starts no attempt after
  ``BATCH_SECONDS``.
- ``outcomes``: deliveries are recorded as they come; one statement then closes the batch, and each
  failure gets its retry time, ``failed``, or the endpoint disabled.
- ``retry``: the schedule (``WEBHOOK_RETRY_SCHEDULE``, ±20 % jitter, never sooner than ``Retry-After``), for a
  message's retries and for an endpoint's backoff.
- ``messages``: the ids, the task name and the SQL for "due", "leased", "busy", "ready" and an owner's batches in
  flight, which they all share.

**Isolation.** At most one batch is in flight per endpoint: a live lease marks it busy, and the
endpoint row lock makes the busy check and the new lease one step. An endpoint that hangs until the
timeout holds one worker slot however many messages it has; the other slots keep delivering to
everyone else, and a healthy endpoint's deliveries stay in order.

**One owner's share.** At most ``WEBHOOK_MAX_INFLIGHT_PER_OWNER`` (2) of one owner's endpoints have a batch
in flight at once, in all worker processes together: the owner's user row lock makes counting its live leases
and adding one a single step, so the database decides, and a lease left by a dead worker stops counting when
it runs out. A ``deliver`` that finds its owner's slots taken does nothing; each batch that finishes hands the
slot to the owner's endpoint that has waited longest, and ``dispatch_due`` sends no owner more batches than it
has slots free. So twenty hanging endpoints of one owner hold two worker slots, not twenty.

**Backoff.** An endpoint whose attempts fail backs off as a whole: after its n-th failure in a row none of its
messages is attempted before the n-th step of the schedule (the last step beyond; ``Retry-After`` if longer),
so one that keeps timing out holds a slot once per step, not once per message, and its owner's other
endpoints get the slots meanwhile. A delivery ends it; a test send or a manual retry (both rate-limited per
endpoint) tries the endpoint at once.

**Long waits live in the database.** A retry is a ``next_attempt_at``, never a broker countdown.
``dispatch_due`` only sends tasks (rows locked ``FOR UPDATE SKIP LOCKED``), so a copy run twice at
worst sends a ``deliver`` that finds nothing due.

**A batch that dies** (worker killed, out of time) leaves leases that expire; the endpoint's next
lease settles them. Deliveries recorded stay delivered; the first message still leased was in
flight and counts as a failed attempt (so a message that keeps killing its worker ends ``failed``
on the normal schedule); the rest were never sent and are due again at once. The task's hard time
limit is shorter than the lease, so no attempt outlives its lease, and a late outcome for a message
whose lease was replaced (by a manual retry) is only recorded on its attempt.

**Failures.** Non-2xx (redirects are not followed), timeouts, connection errors and refused targets
are retried on the schedule, then ``failed``. 410 Gone fails the message and disables the endpoint,
as do five days of failures without a success; the owner is notified. A disabled endpoint's
messages wait until it is enabled again. Re-enabling keeps the failure record (the five days count
on, the backoff stays) and when and why it was last disabled; a delivery clears the record.

The package imports none of its modules: import the one you need.
"""
