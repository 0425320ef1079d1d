"""Our Redis transport on a real redis-server: a channel outlives the connection kombu drops under it."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator

import pytest
import redis
from kombu import Connection, Message, Queue

from tests.workers_fixtures import RedisServer

TRANSPORT = "infra.redis_transport:Transport"


@pytest.fixture
def connection(private_redis: RedisServer) -> Iterator[Connection]:
    conn = Connection(private_redis.url, transport=TRANSPORT)
    yield conn
    conn.release()


def test_closing_a_channel_left_open_by_collect_returns_its_unacked_messages_to_the_queue(
    private_redis: RedisServer, connection: Connection,
) -> None:
    """What a worker does when Redis drops its connections: ``collect()``, then ``close()``.

    Both channels wait on a BRPOP when the connections drop, so ``collect()``
    fails to close either and leaves the transport without its client; kombu's
    own channel then died in ``close()`` with ``AttributeError`` instead of
    putting the unacknowledged message back.
    """
    tasks, other = Queue("tasks", routing_key="tasks"), Queue("other", routing_key="other")
    first, second = connection.default_channel, connection.channel()
    connection.Producer(first).publish({"n": 1}, routing_key="tasks", declare=[tasks, other], serializer="json")
    held: list[Message] = []
    connection.Consumer([tasks], channel=first, callbacks=[lambda _body, message: held.append(message)]).consume()
    connection.Consumer([other], channel=second, callbacks=[]).consume()
    connection.drain_events(timeout=2)
    assert len(held) == 1  # delivered, not acknowledged
    with pytest.raises(socket.timeout):
        connection.drain_events(timeout=0.2)  # both channels now wait on a BRPOP

    admin = redis.Redis(port=private_redis.port)
    admin.client_kill_filter(_type="normal", skipme=True)  # Redis drops every connection but ours
    connection.collect()
    connection.close()

    assert admin.llen("tasks") == 1
    (raw,) = admin.lrange("tasks", 0, -1)
    admin.close()
    envelope = json.loads(raw)
    assert envelope["properties"]["body_encoding"] == "base64"
    assert json.loads(base64.b64decode(envelope["body"])) == {"n": 1}
