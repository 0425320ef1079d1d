"""Publishing messages to Redis pub/sub channels for the live (SSE) streams (the domain says which: ``workflows/live``).

Best effort by design: if Redis is away the event is still in the outbox table,
and a client that reconnects with ``Last-Event-ID`` replays it from there.
"""

from __future__ import annotations

import os

import redis
import structlog

from infra.config import get_settings

log = structlog.get_logger(__name__)
_client: redis.Redis | None = None
_client_pid: int | None = None


def client() -> redis.Redis:
    global _client, _client_pid  # noqa: PLW0603 - one connection pool per process
    if _client is None or _client_pid != os.getpid():
        _client = redis.Redis.from_url(get_settings().redis_url, socket_connect_timeout=1, socket_timeout=1)
        _client_pid = os.getpid()
    return _client


def publish(messages: list[tuple[str, str]]) -> None:
    """Each ``(channel, text)``, in one round trip; a failure is logged, never raised (see above)."""
    try:
        with client().pipeline(transaction=False) as pipe:
            for channel, text in messages:
                pipe.publish(channel, text)
            pipe.execute()
    except Exception as exc:  # noqa: BLE001 - runs after the commit: a failure here must not fail the request
        # Not only RedisError: under load redis-py can also raise OSError or ValueError from a
        # connection another attempt closed. Start the next publish on a fresh pool.
        if not isinstance(exc, redis.RedisError):
            reset_client()
        log.warning("live.publish_failed", error=f"{type(exc).__name__}: {exc}", messages=len(messages))


def reset_client() -> None:
    global _client  # noqa: PLW0603 - one connection pool per process
    _client = None
