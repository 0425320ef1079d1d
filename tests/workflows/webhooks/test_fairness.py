"""One owner's share of the webhook workers, in-process on PostgreSQL: its slots, its endpoints' backoff.

Inside one test transaction ``now()`` stands still, so "time passes" is written as moving ``next_attempt_at``
or ``backoff_until`` into the past (``expire_leases``, ``end_backoff``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session, sessionmaker

from models import WebhookEndpoint
from outbox.recording import pending_dispatches
from tests.factories.accounts import UserFactory
from tests.webhook_domain import (
    db_now,
    delivered_task_args,
    end_backoff,
    event,
    expire_leases,
    lease,
    make_endpoint,
    make_message,
    record_outcome,
    settings,
)
from workflows.webhooks import fanout, leases
from workflows.webhooks.sending import Outcome

DEFAULT_SCHEDULE = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                    timedelta(hours=5), timedelta(hours=10), timedelta(hours=10))


def owned(db: Session, owner: Any, count: int) -> list[WebhookEndpoint]:
    return [make_endpoint(db, owner) for _ in range(count)]


def test_an_owner_has_two_batches_in_flight_at_most_however_many_endpoints_it_has(db: Session) -> None:
    owner = UserFactory()
    first, second, third = owned(db, owner, 3)
    other = make_endpoint(db)  # another owner's
    waiting = make_message(db, third)
    assert lease(db, make_message(db, first)) is not None
    assert lease(db, make_message(db, second)) is not None
    assert lease(db, waiting) is None  # WEBHOOK_MAX_INFLIGHT_PER_OWNER (2) batches in flight already
    assert lease(db, make_message(db, other)) is not None  # another owner's slots are its own
    db.refresh(waiting)
    assert (waiting.status, waiting.attempts, waiting.lease_id) == ("pending", 0, None)  # untouched, still due


def test_leases_racing_for_an_owners_slots_take_no_more_than_its_cap(
    seed: Session, committed: sessionmaker[Session],
) -> None:
    """Each lease in a transaction of its own, held open a moment, as three worker processes would."""
    owner = UserFactory()
    endpoints = owned(seed, owner, 3)
    messages = [make_message(seed, endpoint) for endpoint in endpoints]
    seed.commit()
    start = threading.Barrier(len(messages))
    leased: list[int] = []

    def take(message_id: str) -> None:
        with committed() as db:
            start.wait()
            batch = leases.lease_batch(db, message_id, settings=settings())
            time.sleep(0.3)  # the batch's lease is not committed yet: another lease must not count without it
            db.commit()
            leased.append(len(batch))

    threads = [threading.Thread(target=take, args=(m.id,)) for m in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(leased) == [0, 1, 1]


def test_a_batch_whose_worker_died_frees_its_owners_slot_when_its_lease_runs_out(db: Session) -> None:
    owner = UserFactory()
    dead, waiting = owned(db, owner, 2)
    lost = make_message(db, dead)
    message = make_message(db, waiting)
    one_slot = settings(webhook_max_inflight_per_owner=1)
    assert lease(db, lost, one_slot) is not None  # its worker is killed mid-request
    assert lease(db, message, one_slot) is None
    assert fanout.dispatch_due(db, settings=one_slot) == []
    expire_leases(db, lost)
    assert fanout.dispatch_due(db, settings=one_slot) == [lost.id]  # the oldest waiting; it settles the dead batch
    assert lease(db, lost, one_slot) is None  # settled as a failed attempt: the endpoint backs off
    assert lease(db, message, one_slot) is not None


def test_dispatch_sends_each_owner_no_more_batches_than_its_free_slots_those_waiting_longest_first(
        db: Session) -> None:
    owner = UserFactory()
    busy, oldest, older, newest = owned(db, owner, 4)
    assert lease(db, make_message(db, busy, due_in=-timedelta(minutes=9))) is not None
    waiting = [make_message(db, e, due_in=-timedelta(minutes=m)) for e, m in ((newest, 1), (older, 2), (oldest, 3))]
    other = make_message(db, make_endpoint(db), due_in=-timedelta(seconds=1))
    pending_dispatches(db).clear()

    assert fanout.dispatch_due(db) == [waiting[2].id, other.id]  # one slot free: the longest waiting takes it
    assert delivered_task_args(db) == [waiting[2].id, other.id]
    pending_dispatches(db).clear()
    assert fanout.dispatch_due(db, settings=settings(webhook_max_inflight_per_owner=3)) == [
        waiting[2].id, waiting[1].id, other.id]


def test_a_finished_batch_hands_its_owners_slot_to_the_endpoint_that_waited_longest(db: Session) -> None:
    owner = UserFactory()
    first, second, third = owned(db, owner, 3)
    in_flight = [lease(db, make_message(db, e, due_in=-timedelta(minutes=9))) for e in (first, second)]
    assert all(in_flight)
    waited = make_message(db, third, due_in=-timedelta(minutes=5))
    make_message(db, first)  # the finishing endpoint's own backlog, newer
    assert lease(db, waited) is None  # the owner's two slots are taken
    pending_dispatches(db).clear()
    delivery = in_flight[0]
    assert delivery is not None
    record_outcome(db, delivery, Outcome(200, 5), settings=settings())
    assert delivered_task_args(db) == [waited.id]
    assert lease(db, waited) is not None


def test_an_endpoint_that_keeps_failing_backs_off_step_by_step_and_its_neighbour_does_not(db: Session) -> None:
    owner = UserFactory()
    failing, neighbour = owned(db, owner, 2)
    now = db_now(db)
    sent_to_failing: list[str] = []
    for failures, step in enumerate([*DEFAULT_SCHEDULE, DEFAULT_SCHEDULE[-1]], start=1):
        end_backoff(db, failing)
        leased = lease(db, make_message(db, failing))
        assert leased is not None
        sent_to_failing.append(leased.message_id)
        record_outcome(db, leased, Outcome(None, 15000, error="timed out after 15 s"), settings=settings())
        db.refresh(failing)
        assert failing.consecutive_failures == failures
        assert failing.backoff_until is not None
        assert step * 0.8 <= failing.backoff_until - now <= step * 1.2, (failures, failing.backoff_until - now)
        # Backing off: none of its messages is sent, new or old; its neighbour, same owner, delivers.
        waiting = make_message(db, failing)
        assert lease(db, waiting) is None
        assert not {waiting.id, *sent_to_failing} & set(fanout.dispatch_due(db))
        took = lease(db, make_message(db, neighbour))
        assert took is not None
        record_outcome(db, took, Outcome(204, 3), settings=settings())
    db.refresh(neighbour)
    assert (neighbour.consecutive_failures, neighbour.backoff_until) == (0, None)


def test_an_endpoints_backoff_is_never_shorter_than_its_retry_after(db: Session) -> None:
    endpoint = make_endpoint(db)
    leased = lease(db, make_message(db, endpoint))
    assert leased is not None
    record_outcome(db, leased, Outcome(503, 4, error="HTTP 503", retry_after=timedelta(hours=1)), settings=settings())
    db.refresh(endpoint)
    assert endpoint.backoff_until is not None and endpoint.backoff_until - db_now(db) >= timedelta(hours=1)


def test_fan_out_leaves_a_backing_off_endpoint_to_the_dispatcher(db: Session) -> None:
    endpoint = make_endpoint(db, UserFactory(is_admin=True))
    leased = lease(db, make_message(db, endpoint, due_in=-timedelta(minutes=1)))
    assert leased is not None
    record_outcome(db, leased, Outcome(500, 4, error="HTTP 500"), settings=settings())
    pending_dispatches(db).clear()
    created = fanout.fan_out(db, event(db, "booking.expired", {"id": str(uuid.uuid4())}))
    assert len(created) == 1 and delivered_task_args(db) == []
    assert fanout.dispatch_due(db) == []
    end_backoff(db, endpoint)
    assert fanout.dispatch_due(db) == created


def _loops(plan: dict[str, Any]) -> Iterator[int]:
    yield int(plan.get("Actual Loops", 0))
    for child in plan.get("Plans", []):
        yield from _loops(child)


def test_choosing_the_next_batches_reads_each_endpoint_once_however_stale_the_statistics(
    db: Session, connection: Connection,
) -> None:
    """Statistics taken while every message was delivered (as after a quiet spell), then a backlog of 2,000: the
    choice of the next batches runs no part of its plan once per due message (it once ran its whole window
    again for each: 127,896 loops here, and minutes for a backlog of 20,000)."""
    owner = UserFactory()
    endpoints = owned(db, owner, 8)
    ids = [str(endpoint.id) for endpoint in endpoints]
    insert_messages = text("""
        INSERT INTO webhook_messages (id, endpoint_id, event_type, payload, next_attempt_at, status)
        SELECT :prefix || g, (CAST(:endpoints AS uuid[]))[1 + g % 8], 'session.completed', '{}'::jsonb,
               now() - interval '1 minute', :status
        FROM generate_series(1, 2000) AS g
    """)
    db.execute(insert_messages, {"prefix": "msg_old", "endpoints": ids, "status": "delivered"})
    db.execute(text("ANALYZE webhook_messages"))
    db.execute(insert_messages, {"prefix": "msg_due", "endpoints": ids, "status": "pending"})
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        statements.append((statement, parameters))

    sqlalchemy_event.listen(connection, "before_cursor_execute", capture)
    try:
        chosen = fanout.next_batches(db, settings=settings())
    finally:
        sqlalchemy_event.remove(connection, "before_cursor_execute", capture)
    assert len(chosen) == 2  # the owner's two slots, each an endpoint's oldest message
    ((statement, parameters),) = statements
    plan = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters).scalar_one()
    # Per endpoint, and per pair of the owner's endpoints (its batches in flight, counted for each candidate):
    # never per message.
    assert max(_loops(plan[0]["Plan"])) <= len(endpoints) ** 2, plan
