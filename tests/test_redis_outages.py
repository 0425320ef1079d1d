"""Redis outages on real worker processes: the workers live through them and the work follows.

Redis here is a private redis-server on a free port that the tests stop, kill
and restart; no test restarts a worker by hand.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import OutboxHandler
from tests.test_workflow_guarantees import every_booking_has_one_session, live_app, seed_drafts, wait_until
from tests.workers_fixtures import BeatProcess, RedisServer, StartWorker, WorkerProcess
from workers.celery_app import create_celery
from workers.publish import install_publisher
from workflows import outbox
from workflows.config import get_settings


def assert_alive(worker: WorkerProcess) -> None:
    """The worker process never exited, and never logged the death of its consumer."""
    unrecoverable = [line[:300] for line in worker.log().splitlines() if "Unrecoverable error" in line]
    assert not unrecoverable, unrecoverable
    assert worker.process.poll() is None, f"the worker exited ({worker.process.returncode})"


def test_a_worker_holding_unacked_messages_survives_redis_dropping_it_mid_poll_and_consumes_again(
    seed: Session, committed: sessionmaker[Session], private_redis: RedisServer, start_worker: StartWorker,
    start_beat: Callable[..., BeatProcess],
) -> None:
    """Redis drops the worker's control (pub/sub) connection first, then goes away for a second.

    The consumer notices on the pub/sub socket while its task channel still
    waits on a BRPOP and holds an unacknowledged message (a task with a
    countdown). kombu 5.7's clean-up then left that channel open, and closing
    it later killed the worker: ``Unrecoverable error: AttributeError("'NoneType'
    object has no attribute 'hostname'")``.
    """
    settings = dataclasses.replace(get_settings(), redis_url=private_redis.url)
    env = {"REDIS_URL": private_redis.url}
    worker = start_worker(env=env, concurrency=1)
    create_celery(settings).send_task("maintenance.expire_drafts", countdown=600)
    wait_until(lambda: "maintenance.expire_drafts" in worker.log(), 10, "the worker to hold the task")
    time.sleep(0.5)  # back to waiting on its BRPOP

    admin = redis.Redis(port=private_redis.port)
    admin.client_kill_filter(_type="pubsub")
    admin.close()
    time.sleep(0.05)
    private_redis.stop()
    time.sleep(1)
    private_redis.start()

    wait_until(lambda: "Connection to broker lost" in worker.log(), 10, "the worker to notice")
    mentor, ids = seed_drafts(seed, 3)
    client = live_app(committed, settings).test_client()
    for booking_id in ids:
        assert client.post(f"/api/v1/bookings/{booking_id}/accept", headers=mentor.headers).status_code == 200

    def consumed() -> bool:
        assert_alive(worker)
        return every_booking_has_one_session(committed, ids)

    wait_until(consumed, 30, "the worker to consume again")


def handler_rows(committed: sessionmaker[Session]) -> list[tuple[int, float]]:
    """(attempts, seconds until due) of every outbox handler row."""
    with committed() as db:
        return [(attempts, due.total_seconds()) for attempts, due in db.execute(
            select(OutboxHandler.attempts, OutboxHandler.next_attempt_at - func.now()).order_by(OutboxHandler.handler))]


def test_publishes_that_fail_leave_the_work_due_and_do_not_count_as_attempts(
    committed: sessionmaker[Session], private_redis: RedisServer,
) -> None:
    settings = dataclasses.replace(get_settings(), redis_url=private_redis.url)
    install_publisher(committed, lambda: create_celery(settings, publisher=True))
    private_redis.stop()
    with committed() as db:
        outbox.record_event(db, "session.completed", aggregate_type="session", aggregate_id=uuid.uuid4(),
                            payload={}, actor=None)
        db.commit()  # its publish fails: the rows are due now, not in 30 s
    assert all(attempts == 0 and due <= 0 for attempts, due in handler_rows(committed)), handler_rows(committed)

    for _ in range(3):  # the relay runs while Redis flaps: three publishes lost
        with committed() as db:
            assert len(outbox.relay_due(db)) == 4
            db.commit()
    assert all(attempts == 0 and due <= 0 for attempts, due in handler_rows(committed)), handler_rows(committed)

    private_redis.start()
    with committed() as db:
        assert len(outbox.relay_due(db)) == 4
        db.commit()  # this one reaches Redis: the first attempt, next due after the first backoff
    first_backoff = outbox.redeliver_delay(1).total_seconds()
    assert all(attempts == 1 and first_backoff - 5 < due <= first_backoff
               for attempts, due in handler_rows(committed)), handler_rows(committed)
    assert redis.Redis(port=private_redis.port).llen(f"{settings.redis_key_prefix}reviews") == 1
