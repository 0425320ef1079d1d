"""kombu's Redis transport, with one Redis client per connection pool instead of one per command.

kombu builds a new ``redis.Redis`` for every synchronous command it sends: each
publish, and each late-ack bookkeeping step (recording a delivered message,
then removing it on ack) and task event in a worker. A ``redis.Redis`` holds
no connection of its own (it borrows one from the pool per command, so one
instance serves every thread), but building one fills its table of response
callbacks, which here costs about as much CPU as a Redis round trip. This
channel keeps one client per pool and builds a new one when kombu replaces the
pool (after a fork or a lost connection).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):
    _sync_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:  # noqa: FBT001, FBT002 - kombu's signature
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[misc]  # untyped in kombu's stubs
        pool = self.pool
        client = self._sync_client
        if client is None or client.connection_pool is not pool:
            client = self._sync_client = super()._create_client()  # type: ignore[misc]
        return client


class Transport(redis.Transport):
    Channel = Channel
