from __future__ import annotations

import dataclasses
import json
import subprocess

import pytest
from kombu.exceptions import OperationalError

from infra.celery_config import create_celery
from infra.config import get_settings
from tests.workers_fixtures import BIN, RedisServer, StartWorker
from workers import QUEUES, app


def test_celery_is_json_only_with_late_acks_and_time_limits() -> None:
    conf = app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late is True and conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit and conf.task_soft_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] == 3600


def test_tasks_are_named_area_verb_and_routed_to_their_queue() -> None:
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert ours, "no tasks registered"
    for name in ours:
        area, _, verb = name.partition(".")
        assert area in QUEUES and verb, name
        route = app.amqp.router.route({}, name)
        assert route["queue"].name == area, (name, route)


def test_plain_worker_consumes_every_queue(start_worker: StartWorker) -> None:
    worker = start_worker()
    result = subprocess.run(
        [str(BIN / "celery"), "-A", "workers", "inspect", "active_queues", "-d", f"{worker.name}@%h".replace(
            "%h", __import__("socket").gethostname()), "-j", "--timeout", "10"],
        capture_output=True, text=True, check=True,
    )
    replies = json.loads(result.stdout)
    (queues,) = replies.values()
    assert sorted(queue["name"] for queue in queues) == sorted(QUEUES)


def test_the_redis_channel_keeps_one_client_per_connection_pool() -> None:
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        assert type(connection.transport).__module__ == "infra.redis_transport"
        client = channel._create_client()
        assert channel._create_client() is client
        assert client.ping()
        channel._disconnect_pools()  # what kombu does after a fork or a lost connection
        fresh = channel._create_client()
        assert fresh is not client and fresh.connection_pool is channel.pool
        assert fresh.ping()


def test_workers_and_beat_retry_a_lost_broker_at_most_a_second_apart(private_redis: RedisServer) -> None:
    """As the worker's consumer and beat call it: no intervals of their own, kombu's 2, 4, 6 … 30 s otherwise."""
    private_redis.stop()
    worker_app = create_celery(dataclasses.replace(get_settings(), redis_url=private_redis.url))
    waits: list[float] = []
    connection = worker_app.connection_for_read()
    with pytest.raises(OperationalError):
        connection.ensure_connection(lambda _exc, interval: waits.append(interval), 3)
    connection.release()
    assert waits == [0.5, 1.0, 1.0]
