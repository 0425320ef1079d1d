"""kombu's Redis transport, with one Redis client per connection pool, and a channel that survives its connection.

kombu builds a new ``redis.Redis`` for every synchronous command it sends: each
publish, and each late-ack bookkeeping step (recording a delivered message,
then removing it on ack) and task event in a worker. A ``redis.Redis`` holds
no connection of its own (it borrows one from the pool per command, so one
instance serves every thread), but building one fills its table of response
callbacks, which here costs about as much CPU as a Redis round trip. This
channel keeps one client per pool and builds a new one when kombu replaces the
pool (after a fork or a lost connection).

When Redis goes away, a worker's ``Connection.collect()`` can leave a channel
unclosed (its first close fails reading the pending BRPOP reply, and closing
stops at the next channel that fails) and then drops the transport's
``client``. Closing that channel later returns its unacknowledged messages to
Redis, which builds a new pool from ``transport.client``: kombu 5.7 fails
there with ``AttributeError`` ('NoneType' object has no attribute 'hostname'),
which is not a connection error, so the worker dies. This channel keeps the
connection parameters it was built with and uses them then: the messages go
back to their queue if Redis is up again, and otherwise the close fails with a
connection error, which the worker handles by reconnecting.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(redis.Channel):
    _sync_client: Any = None
    _sync_connparams: dict[str, Any] | None = None

    def _create_client(self, asynchronous: bool = False) -> Any:  # noqa: FBT001, FBT002 - kombu's signature
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[misc]  # untyped in kombu's stubs
        pool = self.pool
        client = self._sync_client
        if client is None or client.connection_pool is not pool:
            client = self._sync_client = super()._create_client()  # type: ignore[misc]
        return client

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:  # noqa: FBT001, FBT002 - kombu's signature
        """kombu's parameters while the connection is open; afterwards, the last synchronous ones."""
        transport = self.connection
        if transport is not None and transport.client is not None:
            params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]
            if not asynchronous:
                self._sync_connparams = dict(params)
            return params
        if asynchronous or self._sync_connparams is None:
            raise RedisConnectionError("the broker connection of this channel is closed")
        return dict(self._sync_connparams)


class Transport(redis.Transport):
    Channel = Channel
