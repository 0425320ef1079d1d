"""The HTTP client of webhook batches: one connection per batch, and a deadline for each whole attempt.

httpx's timeouts bound each network operation (connect, one write, one read), so
a receiver that answers its headers and then sends one byte every few seconds
never trips them and holds the worker slot for as long as it likes. Here every
operation of an attempt is given only the time left before the attempt's
deadline (``WEBHOOK_TIMEOUT_SECONDS`` after it began), so the whole exchange,
TLS handshake and answer included, ends by then.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpcore._backends.base import SOCKET_OPTION

_WRITE_PIECE = 64 * 1024  # a slow reader is given the time left before each piece, not once for the whole body


class AttemptDeadline(httpcore.NetworkBackend):
    """httpcore's synchronous network backend, every operation bounded by the current attempt's deadline."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()
        self._deadline: float | None = None

    def start(self, seconds: float) -> None:
        """The attempt starting now must be over within ``seconds``."""
        self._deadline = time.monotonic() + seconds

    def time_left(self, timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
        """``timeout`` cut to what is left of the deadline; ``expired`` raised once nothing is."""
        if self._deadline is None:
            return timeout
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise expired("the attempt's deadline has passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(host, port, self.time_left(timeout, httpcore.ConnectTimeout),
                                           local_address, socket_options)
        return _DeadlineStream(stream, self)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        stream = self._backend.connect_unix_socket(path, self.time_left(timeout, httpcore.ConnectTimeout),
                                                   socket_options)
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: AttemptDeadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), _WRITE_PIECE):
            piece = buffer[start:start + _WRITE_PIECE]
            self._stream.write(piece, self._deadline.time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(ssl_context, server_hostname,
                                        self._deadline.time_left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(stream, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Built once per process: the costly part of a client, and the same for every endpoint."""
    return httpx.create_ssl_context(trust_env=False)


class _BatchTransport(httpx.HTTPTransport):
    def __init__(self, deadline: AttemptDeadline) -> None:
        super().__init__(verify=_tls_context(), trust_env=False)
        # httpx takes no network backend of its own: its pool is built again with ours, one connection.
        # tests/test_webhooks_delivery_e2e.py's dripping receiver fails if httpx stops using ``_pool``.
        self._pool = httpcore.ConnectionPool(
            ssl_context=_tls_context(), max_connections=1, max_keepalive_connections=1,
            network_backend=deadline,
        )


def batch_client(timeout: float) -> tuple[httpx.Client, AttemptDeadline]:
    """A client for one batch (one keep-alive connection, no redirects, no proxy from the environment),
    and the deadline to ``start`` before each of its attempts.

    The connection lives as long as the batch, never longer: the next batch checks the
    target again and connects anew, with its own host as TLS server name.
    """
    deadline = AttemptDeadline()
    client = httpx.Client(transport=_BatchTransport(deadline), timeout=timeout, follow_redirects=False,
                          trust_env=False)
    return client, deadline
