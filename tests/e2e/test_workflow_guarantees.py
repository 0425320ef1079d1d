"""The workflow guarantees, on real PostgreSQL, Redis and worker processes.

Each test would fail if its guarantee broke: concurrent requests hit the real
database from threads and workers are separate processes killed with SIGKILL.
Redis outages are in ``test_redis_outages.py``.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.celery_config import create_celery
from infra.config import get_settings
from models import Booking, HandlerStatus, OutboxEvent, OutboxHandler
from outbox import recording
from tests.api_calls import accepting
from tests.concurrency import concurrently, wait_until
from tests.servers import live_app
from tests.workers_fixtures import BeatProcess, StartWorker
from tests.workflow_runs import accept_all, every_booking_has_one_session, seed_drafts, sessions_per_booking


def test_twenty_concurrent_accepts_create_one_session(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker
) -> None:
    mentor, (booking_id,) = seed_drafts(seed, 1)
    start_worker()
    app = live_app(committed)
    statuses = concurrently([accepting(app, mentor, booking_id) for _ in range(20)])
    assert statuses.count(200) == 1, statuses
    assert Counter(statuses) == {200: 1, 400: 19}
    wait_until(lambda: every_booking_has_one_session(committed, [booking_id]), 20, "the session")
    time.sleep(1)
    assert sessions_per_booking(committed, [booking_id]) == {booking_id: 1}


def test_concurrent_accepts_of_overlapping_drafts_accept_at_most_one(
    seed: Session, committed: sessionmaker[Session]
) -> None:
    mentor, ids = seed_drafts(seed, 10, overlapping=True)
    app = live_app(committed)
    statuses = concurrently([accepting(app, mentor, booking_id) for booking_id in ids])
    assert Counter(statuses) == {200: 1, 409: 9}, statuses
    with committed() as db:
        accepted = db.scalar(select(func.count()).where(Booking.id.in_(ids), Booking.status == "accepted"))
    assert accepted == 1


def test_creation_task_delivered_twice_creates_one_session(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker
) -> None:
    mentor, (booking_id,) = seed_drafts(seed, 1)
    app = live_app(committed)
    assert app.test_client().post(f"/api/v1/bookings/{booking_id}/accept", headers=mentor.headers).status_code == 200
    with committed() as db:
        event_id = db.scalar(select(OutboxEvent.id).where(OutboxEvent.aggregate_id == booking_id,
                                                          OutboxEvent.type == "booking.accepted"))
    celery = create_celery(get_settings())
    # Two more copies of the same message, and one sent by hand without the event id.
    for kwargs in ({"event_id": str(event_id)}, {"event_id": str(event_id)}, {}):
        celery.send_task("sessions.create_from_booking", args=[str(booking_id)], kwargs=kwargs)
    start_worker(concurrency=4)
    wait_until(lambda: every_booking_has_one_session(committed, [booking_id]), 20, "the session")
    time.sleep(2)
    assert sessions_per_booking(committed, [booking_id]) == {booking_id: 1}
    with committed() as db:
        scheduled = db.scalar(select(func.count()).where(OutboxEvent.type == "session.scheduled"))
        handler = db.scalar(select(OutboxHandler.status).where(OutboxHandler.event_id == event_id))
    assert scheduled == 1
    assert handler == HandlerStatus.DONE


def test_worker_killed_mid_stream_loses_nothing(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker,
    start_beat: Callable[..., BeatProcess], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The shipped redelivery delay (30 s), here alone: recovery within a minute with the default.
    default = {"OUTBOX_REDELIVER_SECONDS": "30"}
    monkeypatch.setattr(recording, "get_settings", lambda: dataclasses.replace(get_settings(),
                                                                               outbox_redeliver_seconds=30))
    mentor, ids = seed_drafts(seed, 220)
    app = live_app(committed)
    # One row per claim and one process: the stream takes long enough for the kill to land in it, even when the
    # machine is busy enough to delay this test's own polling.
    worker = start_worker(concurrency=1, env={**default, "HANDLER_BATCH": "1"})
    accept_all(app, mentor, ids[:120])
    # Kill while the worker is busy with the stream: some tasks in flight, some prefetched, unacknowledged.
    wait_until(lambda: sum(sessions_per_booking(committed, ids).values()) >= 10, 20, "the stream to start")
    worker.kill()
    done_at_kill = sum(sessions_per_booking(committed, ids).values())
    assert 0 < done_at_kill < 120, f"the kill did not land mid-stream: {done_at_kill} of 120 sessions"
    accept_all(app, mentor, ids[120:])
    killed_at = time.monotonic()
    start_worker(concurrency=2, env=default)
    start_beat(env=default)
    waited = wait_until(lambda: every_booking_has_one_session(committed, ids), 60, "a session for every booking")
    print(f"all {len(ids)} sessions {time.monotonic() - killed_at:.1f} s after the kill (waited {waited:.1f} s)")
    time.sleep(1)
    assert set(sessions_per_booking(committed, ids).values()) == {1}
