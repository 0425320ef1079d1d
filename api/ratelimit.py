"""Rate limits on Redis for the unauthenticated auth routes, per client IP and per email."""

from __future__ import annotations

import math
import time

import structlog
from flask import Flask, current_app, request
from limits import parse
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from api.errors import http_error
from workflows.config import Settings

log = structlog.get_logger(__name__)
_EXTENSION = "auth_rate_limiter"


class AuthRateLimiter:
    def __init__(self, settings: Settings) -> None:
        storage = RedisStorage(
            settings.redis_url,
            key_prefix=f"{settings.redis_key_prefix}ratelimit",
            wrap_exceptions=True,
            socket_connect_timeout=1,
            socket_timeout=1,
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_ip = parse(settings.auth_rate_limit_per_ip)
        self._per_email = parse(settings.auth_rate_limit_per_email)

    def enforce(self, scope: str, email: str) -> None:
        """Count one attempt; raise 429 with ``Retry-After`` when a limit is exceeded.

        If Redis is unreachable the attempt is allowed and logged: a broker
        outage must not lock every user out (argon2 still slows guessing).
        """
        checks = ((self._per_ip, ("ip", request.remote_addr or "unknown")), (self._per_email, ("email", email)))
        try:
            for item, (kind, value) in checks:
                if not self._limiter.hit(item, scope, kind, value):
                    reset = self._limiter.get_window_stats(item, scope, kind, value).reset_time
                    retry_after = max(1, math.ceil(reset - time.time()))
                    raise http_error(
                        429,
                        f"too many attempts for this {kind}; retry in {retry_after} s",
                        headers={"Retry-After": str(retry_after)},
                    )
        except StorageError as exc:
            log.warning("ratelimit.unavailable", error=str(exc.storage_error))


def init_rate_limits(app: Flask, settings: Settings) -> None:
    app.extensions[_EXTENSION] = AuthRateLimiter(settings)


def enforce_auth_rate_limit(scope: str, email: str) -> None:
    limiter: AuthRateLimiter = current_app.extensions[_EXTENSION]
    limiter.enforce(scope, email)
