"""Redis outages on real worker processes: the workers live through them and the work follows.

Redis here is a private redis-server on a free port that the tests stop, kill
and restart; no test restarts a worker by hand.
"""

from __future__ import annotations

import dataclasses
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.celery_config import create_celery
from infra.config import Settings, get_settings
from models import OutboxHandler
from outbox import record_events
from outbox.publisher import install_publisher
from outbox.recording import redeliver_delay
from outbox.relay import relay_due
from tests.concurrency import wait_until
from tests.factories.accounts import Caller
from tests.servers import live_app
from tests.webhook_receiver import Receiver, admin, endpoint
from tests.workers_fixtures import BeatProcess, RedisServer, StartWorker, WorkerProcess
from tests.workflow_runs import (
    every_booking_has_one_session,
    seed_drafts,
    seed_sessions_in_progress,
    sessions_per_booking,
    side_effects,
)


def assert_alive(worker: WorkerProcess) -> None:
    """The worker process never exited, and never logged the death of its consumer."""
    unrecoverable = [line[:300] for line in worker.log().splitlines() if "Unrecoverable error" in line]
    assert not unrecoverable, unrecoverable
    assert worker.process.poll() is None, f"the worker exited ({worker.process.returncode})"


@dataclass
class Workload:
    """Drafts for one mentor to accept, and sessions under way to complete, with an admin's webhook endpoint."""

    mentor: Caller
    drafts: list[uuid.UUID]
    in_progress: list[tuple[Caller, Caller, uuid.UUID]]
    client: FlaskClient
    receiver: Receiver
    committed: sessionmaker[Session]

    def accept(self, booking_id: uuid.UUID) -> None:
        response = self.client.post(f"/api/v1/bookings/{booking_id}/accept", headers=self.mentor.headers)
        assert response.status_code == 200, response.get_json()

    def complete(self, index: int) -> None:
        mentor, _mentee, session_id = self.in_progress[index]
        response = self.client.post(f"/api/v1/sessions/{session_id}/complete", headers=mentor.headers)
        assert response.status_code == 200, response.get_json()

    def run_half(self, half: int) -> None:
        """Accept the first (0) or second (1) half of the drafts and complete that half of the sessions."""
        drafts, sessions = len(self.drafts) // 2, len(self.in_progress) // 2
        for booking_id in self.drafts[half * drafts:(half + 1) * drafts]:
            self.accept(booking_id)
        for index in range(half * sessions, (half + 1) * sessions):
            self.complete(index)

    def completion_effects(self) -> dict[str, int]:
        return {**side_effects(self.committed),
                "webhook_ids": len({request.webhook_id for request in self.receiver.at(COMPLETED)}),
                "webhook_requests": len(self.receiver.at(COMPLETED))}

    def expected(self) -> dict[str, int]:
        count = len(self.in_progress)
        return {"notifications": 2 * count, "eligibilities": count, "completed_counted": count,
                "pending_handlers": 0, "webhook_ids": count, "webhook_requests": count}

    def all_done(self) -> bool:
        return (every_booking_has_one_session(self.committed, self.drafts)
                and self.completion_effects() == self.expected())

    def assert_each_once(self) -> None:
        time.sleep(2)  # anything doubled would show by now
        assert set(sessions_per_booking(self.committed, self.drafts).values()) == {1}
        assert self.completion_effects() == self.expected()
        assert all(request.verify_error is None for request in self.receiver.at(COMPLETED))


COMPLETED = "/completed"


@pytest.fixture
def webhooks_received(receiver: Receiver) -> Receiver:
    return receiver


def workload(seed: Session, committed: sessionmaker[Session], received: Receiver, settings: Settings,
             *, drafts: int, completions: int) -> Workload:
    mentor, ids = seed_drafts(seed, drafts)
    in_progress = seed_sessions_in_progress(seed, completions)
    endpoint(seed, received, admin(seed), COMPLETED, event_types=["session.completed"])
    return Workload(mentor, ids, in_progress, live_app(committed, settings).test_client(), received, committed)


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
    install_publisher(committed, lambda: create_celery(settings, publisher=True), lambda _events: None)
    private_redis.stop()
    with committed() as db:
        record_events(db, "session.completed", [(uuid.uuid4(), {})], actor=None)
        db.commit()  # its publish fails: the rows are due now, not in 30 s
    assert all(attempts == 0 and due <= 0 for attempts, due in handler_rows(committed)), handler_rows(committed)

    for _ in range(3):  # the relay runs while Redis flaps: three publishes lost
        with committed() as db:
            assert len(relay_due(db)) == 5  # session.completed's five handlers
            db.commit()
    assert all(attempts == 0 and due <= 0 for attempts, due in handler_rows(committed)), handler_rows(committed)

    private_redis.start()
    with committed() as db:
        assert len(relay_due(db)) == 5  # session.completed's five handlers
        db.commit()  # this one reaches Redis: the first attempt, next due after the first backoff
    first_backoff = redeliver_delay(1).total_seconds()
    assert all(attempts == 1 and first_backoff - 5 < due <= first_backoff
               for attempts, due in handler_rows(committed)), handler_rows(committed)
    assert redis.Redis(port=private_redis.port).llen(f"{settings.redis_key_prefix}reviews") == 1


def private_settings(private_redis: RedisServer) -> tuple[Settings, dict[str, str]]:
    return dataclasses.replace(get_settings(), redis_url=private_redis.url), {"REDIS_URL": private_redis.url}


def test_redis_down_at_commit_the_api_answers_and_every_side_effect_follows(
    seed: Session, committed: sessionmaker[Session], private_redis: RedisServer, start_worker: StartWorker,
    start_beat: Callable[..., BeatProcess], webhooks_received: Receiver,
) -> None:
    settings, env = private_settings(private_redis)
    work = workload(seed, committed, webhooks_received, settings, drafts=20, completions=10)
    private_redis.stop()
    began = time.monotonic()
    work.run_half(0)
    work.run_half(1)
    print(f"20 accepts and 10 completions with Redis down took {time.monotonic() - began:.2f} s")
    # Nothing reached Redis, and nothing is lost: every accept's and completion's work is on record.
    with committed() as db:
        waiting = dict(db.execute(select(OutboxHandler.handler, func.count())
                                  .where(OutboxHandler.status == "pending").group_by(OutboxHandler.handler)).all())
    assert waiting["sessions.create_from_booking"] == len(work.drafts), waiting
    assert waiting["reviews.unlock"] == waiting["analytics.record"] == len(work.in_progress), waiting
    private_redis.start()
    returned = time.monotonic()
    worker = start_worker(env=env)
    start_beat(env=env)
    wait_until(work.all_done, 30, "every session and every side effect")
    print(f"everything done {time.monotonic() - returned:.1f} s after Redis returned")
    work.assert_each_once()
    assert_alive(worker)


def test_redis_restarted_losing_its_data_mid_stream_loses_and_doubles_nothing(
    seed: Session, committed: sessionmaker[Session], private_redis: RedisServer, start_worker: StartWorker,
    start_beat: Callable[..., BeatProcess], webhooks_received: Receiver,
) -> None:
    settings, env = private_settings(private_redis)
    work = workload(seed, committed, webhooks_received, settings, drafts=150, completions=30)
    worker = start_worker(env=env)
    start_beat(env=env)
    work.run_half(0)
    private_redis.kill()
    private_redis.start()  # empty: every queued message is gone
    restarted = time.monotonic()
    work.run_half(1)
    wait_until(work.all_done, 30, "every session and every side effect within 30 s of the restart")
    print(f"everything done {time.monotonic() - restarted:.1f} s after the restart")
    work.assert_each_once()
    assert_alive(worker)  # nobody restarts it: it must not have needed it


def test_twenty_redis_restarts_during_accepts_and_completions_lose_and_double_nothing(
    seed: Session, committed: sessionmaker[Session], private_redis: RedisServer, start_worker: StartWorker,
    start_beat: Callable[..., BeatProcess], webhooks_received: Receiver,
) -> None:
    settings, env = private_settings(private_redis)
    work = workload(seed, committed, webhooks_received, settings, drafts=60, completions=20)
    worker = start_worker(env=env)
    beat = start_beat(env=env)
    shuffle = random.Random(20)  # noqa: S311 - pauses of a test, not secrets
    for restart in range(20):
        for booking_id in work.drafts[3 * restart:3 * restart + 3]:
            work.accept(booking_id)
        work.complete(restart)
        time.sleep(shuffle.uniform(0, 1))
        if restart % 2:
            private_redis.kill()
        else:
            private_redis.stop()
        time.sleep(shuffle.uniform(0, 1))
        private_redis.start()
    last_restart = time.monotonic()
    wait_until(work.all_done, 30, "every session and every side effect within 30 s of the last restart")
    print(f"everything done {time.monotonic() - last_restart:.1f} s after the last restart")
    work.assert_each_once()
    assert_alive(worker)
    assert beat.process.poll() is None


def test_after_a_long_outage_everything_follows_within_fifteen_seconds_of_redis_returning(
    seed: Session, committed: sessionmaker[Session], private_redis: RedisServer, start_worker: StartWorker,
    start_beat: Callable[..., BeatProcess], webhooks_received: Receiver,
) -> None:
    """Neither the workers' reconnection nor the outbox's backoff may have grown with the outage's length."""
    settings, env = private_settings(private_redis)
    work = workload(seed, committed, webhooks_received, settings, drafts=20, completions=10)
    worker = start_worker(env=env)
    start_beat(env=env)
    work.run_half(0)
    private_redis.stop()
    stopped = time.monotonic()
    work.run_half(1)
    time.sleep(max(0.0, 45 - (time.monotonic() - stopped)))
    private_redis.start()
    returned = time.monotonic()
    wait_until(work.all_done, 15, "every session and every side effect within 15 s of Redis returning")
    print(f"everything done {time.monotonic() - returned:.1f} s after a 45 s outage")
    work.assert_each_once()
    assert_alive(worker)
