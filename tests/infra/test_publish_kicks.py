"""Kicks are de-duplicated per handler, except the relay's: a kick key may outlive the message it
stood for (a worker killed holding it), and the relay has already pushed the row's next redelivery out."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from celery import Celery

from infra.celery_config import create_celery
from infra.config import get_settings
from infra.publish import kick_key, publish
from tests.workers_fixtures import purge_queues
from workflows.outbox import NOTIFY_TASK, Dispatch


@pytest.fixture
def app() -> Iterator[Celery]:
    purge_queues()
    yield create_celery(get_settings())
    purge_queues()


def _queued(queue: str) -> int:
    settings = get_settings()
    return int(redis.Redis.from_url(settings.redis_url).llen(f"{settings.redis_key_prefix}{queue}"))


def test_a_queued_kick_holds_back_new_ones_but_not_the_relays(app: Celery) -> None:
    def kick(*, redelivery: bool) -> None:
        publish(app, [Dispatch(NOTIFY_TASK, uuid.uuid4(), uuid.uuid4(), redelivery=redelivery)], None)

    kick(redelivery=False)
    kick(redelivery=False)
    assert _queued("notifications") == 1  # the second found the first's key
    kick(redelivery=True)
    assert _queued("notifications") == 2  # the relay's kick goes out whatever the key says
    settings = get_settings()
    assert redis.Redis.from_url(settings.redis_url).exists(f"{settings.redis_key_prefix}{kick_key(NOTIFY_TASK)}")
