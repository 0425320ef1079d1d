"""Who may open a live stream: a slot of this process and one of the user's, both given back exactly once.

A process admits ``SSE_MAX_STREAMS_PER_PROCESS`` streams (:class:`ProcessSlots`: a stream holds one
of the process's threads), and shares them fairly: the last ``SSE_FIRST_STREAM_SHARE_PERCENT`` of
them (half, by default) go only to users who hold no stream on any process. A user's second and
later streams take only the rest, so however many streams a few accounts open, a newcomer still
finds room; everyone refused is answered 503 with ``Retry-After``, as when the process is full.
A user holds at most ``SSE_MAX_STREAMS_PER_USER`` streams across every API
process: the count lives in Redis, so it holds however a load balancer spreads the user's requests
and however many processes run. Each of the user's streams is a member of a sorted set scored by
its expiry (Redis's own clock, so processes' clocks never disagree); a running stream renews it,
and a process that dies leaves members that expire within ``lease_seconds`` instead of holding the
user's slots for ever. Redis is needed for the stream itself (pub/sub), so counting there adds no
new way to fail.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import redis
import structlog
from flask.sansio.app import App
from redis.commands.core import Script

from infra.config import Settings
from workflows.errors import refusal

log = structlog.get_logger(__name__)

EXTENSION = "sse_slots"
# A stream renews its user slot this often; a dead process's slot is gone three renewals later.
RENEW_SECONDS = 15.0
LEASE_SECONDS = 3 * RENEW_SECONDS
# A user at the cap waits for one of their streams to end, or for the server to notice one is gone:
# it writes to each quiet stream every 2 s (keep-alive), and the first or second write to a dead
# connection fails. The browser app polls meanwhile.
USER_RETRY_AFTER_SECONDS = 5
PROCESS_RETRY_AFTER_SECONDS = 5

_NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "
# KEYS[1]: the user's set; ARGV: member, cap, lease (ms). How many streams the user held before this
# one, once admitted; -1 at the cap.
_ACQUIRE = _NOW_MS + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[2]) then return -1 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return held
"""
# KEYS[1]: the user's set; ARGV: member, lease (ms). 0 if the member had already expired.
_RENEW = _NOW_MS + """
local expires = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expires or tonumber(expires) <= now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


class Refused(Exception):
    """A stream not admitted: its HTTP status, why, and when to try again."""

    def __init__(self, status: int, message: str, retry_after: int, *,
                 words: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message  # an English template of ``words`` (``workflows.errors.DomainError``'s)
        self.retry_after = retry_after
        self.words = words


@dataclass
class StreamLease:
    """One admitted stream's two slots. :meth:`release` is safe to call any number of times, from anywhere."""

    slots: StreamSlots
    key: str
    member: str
    renewed_at: float = field(default_factory=time.monotonic)
    _released: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def renew_if_due(self) -> bool:
        """Keep the user slot alive while the stream runs; ``False`` if it expired (the stream should end)."""
        if time.monotonic() - self.renewed_at < RENEW_SECONDS:
            return True
        self.renewed_at = time.monotonic()
        return bool(self.slots.renew_script(keys=[self.key], args=[self.member, self.slots.lease_ms]))

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self.slots.gate.release()
        self.slots.forget(self.key, self.member)


class ProcessSlots:
    """One process's stream slots: ``capacity`` in all, of which the last ``kept_for_first`` go only to
    a user's first stream. Thread-safe; ``SSE_MAX_STREAMS_PER_PROCESS`` and its share, as the app's ``sse_gate``."""

    def __init__(self, capacity: int, first_stream_share_percent: int) -> None:
        self.capacity = max(capacity, 0)
        self.kept_for_first = self.capacity * first_stream_share_percent // 100
        self.in_use = 0
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> ProcessSlots:
        return cls(settings.sse_max_streams_per_process, settings.sse_first_stream_share_percent)

    def full(self) -> bool:
        """A glance (not a reservation): when full, no need to ask Redis about the user."""
        return self.in_use >= self.capacity

    def take(self, *, first: bool) -> bool:
        """A slot for a user's first stream anywhere (``first``), or for a further one while more than the
        share kept for first streams is free."""
        with self._lock:
            free = self.capacity - self.in_use
            if free <= 0 or (not first and free <= self.kept_for_first):
                return False
            self.in_use += 1
            return True

    def release(self) -> None:
        with self._lock:
            if self.in_use <= 0:
                raise ValueError("released a stream slot that was not taken")
            self.in_use -= 1


class StreamSlots:
    """The admission of one API process's live streams."""

    def __init__(self, client: redis.Redis, gate: ProcessSlots, settings: Settings, *,
                 lease_seconds: float = LEASE_SECONDS) -> None:
        self.client = client
        self.gate = gate
        self.prefix = settings.redis_key_prefix
        self.per_user = settings.sse_max_streams_per_user
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self.acquire_script: Script = client.register_script(_ACQUIRE)
        self.renew_script: Script = client.register_script(_RENEW)

    @classmethod
    def for_app(cls, app: App, *, lease_seconds: float = LEASE_SECONDS) -> StreamSlots:
        return cls(app.extensions["redis"], app.extensions["sse_gate"], app.extensions["settings"],
                   lease_seconds=lease_seconds)

    def acquire(self, user_id: uuid.UUID) -> StreamLease:
        """Both slots, or :class:`Refused`: 429 at the user's cap; 503 when this process is full, or when
        only the share kept for users holding no stream is left and the user holds one."""
        if self.gate.full():
            raise Refused(503, "too many live streams on this server; retry shortly", PROCESS_RETRY_AFTER_SECONDS)
        key = f"{self.prefix}live:streams:{user_id}"
        member = uuid.uuid4().hex
        try:
            held = int(self.acquire_script(keys=[key], args=[member, self.per_user, self.lease_ms]))
        except redis.RedisError as exc:
            log.warning("live.unavailable", error=str(exc))
            raise Refused(503, "live updates are unavailable right now; retry shortly",
                          PROCESS_RETRY_AFTER_SECONDS) from exc
        if held < 0:
            raise Refused(429, "you already have {per_user} live streams open; close one first",
                          USER_RETRY_AFTER_SECONDS, words={"per_user": self.per_user})
        if not self.gate.take(first=held == 0):
            self.forget(key, member)
            message = (refusal("too many live streams on this server; retry shortly") if self.gate.full() else
                       refusal("this server keeps its last live streams for users with none open; retry shortly"))
            raise Refused(503, message, PROCESS_RETRY_AFTER_SECONDS)
        return StreamLease(self, key, member)

    def forget(self, key: str, member: str) -> None:
        """Give the user's slot back."""
        try:
            self.client.zrem(key, member)
        except redis.RedisError as exc:
            # Not lost: the member expires on its own within the lease.
            log.warning("live.slot_release_failed", error=str(exc))
