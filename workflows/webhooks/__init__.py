"""Signed webhooks: endpoints, fan-out, leased batches, retries, and isolation between endpoints.

- ``endpoints``: what owners manage (CRUD, secrets, test sends, delivery history, manual retry).
- ``fanout``: one ``WebhookMessage`` per endpoint that subscribes to an event and may see it
  (``ON CONFLICT DO NOTHING``: an event handled twice yields one each), ``deliver`` sent after
  commit, and ``dispatch_due`` (beat, every 5 s) for retries and lost tasks. The message id is the
  ``webhook-id`` header, stable across retries.
- ``leases``: a ``deliver`` leases its endpoint's due messages, up to ``BATCH_SIZE``, oldest first.
- ``sending``: outside any transaction, the target is checked once and the batch is POSTed one
  request at a time over one connection; it stops at the first failure and starts no attempt after
  ``BATCH_SECONDS``.
- ``outcomes``: deliveries are recorded as they come; one statement then closes the batch, and each
  failure gets its retry time, ``failed``, or the endpoint disabled.
- ``retry``: the schedule (``WEBHOOK_RETRY_SCHEDULE``, ±20 % jitter, never sooner than ``Retry-After``).
- ``messages``: the ids, the task name and the SQL for "due", "leased" and "busy" they all share.

**Isolation.** At most one batch is in flight per endpoint: a live lease marks it busy, and the
endpoint row lock makes the busy check and the new lease one step. An endpoint that hangs until the
timeout holds one worker slot however many messages it has; the other slots keep delivering to
everyone else, and a healthy endpoint's deliveries stay in order.

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
messages wait until it is enabled again.

The package imports none of its modules: import the one you need.
"""
