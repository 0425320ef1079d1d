"""Receivers that misbehave on purpose: each attempt ends within its deadline, whatever the receiver does."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from infra.config import get_settings
from workflows.webhooks import sending
from workflows.webhooks.sending import Delivery

TIMEOUT = 1.5  # seconds for a whole attempt
DRIP_SECONDS = 0.4  # well inside the timeout of one read, so only a whole-attempt deadline ends it
DRIP_BYTES = 25  # 10 s of dripping


def _drip(conn: socket.socket, data: bytes, stop: threading.Event) -> None:
    for byte in data:
        if stop.wait(DRIP_SECONDS):
            return
        conn.sendall(bytes([byte]))


def _answer_then_drip_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % DRIP_BYTES)
    _drip(conn, b"x" * DRIP_BYTES, stop)


def _drip_headers(conn: socket.socket, stop: threading.Event) -> None:
    _drip(conn, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * DRIP_BYTES + b"\r\n\r\n", stop)


@pytest.fixture
def hostile_receiver() -> Iterator[Callable[[Callable[[socket.socket, threading.Event], None]], str]]:
    """A raw TCP receiver on 127.0.0.1 that reads the request, then behaves as the test says."""
    stop = threading.Event()
    servers: list[socket.socket] = []

    def start(behaviour: Callable[[socket.socket, threading.Event], None]) -> str:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def serve() -> None:
            while not stop.is_set():
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                with conn:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        request += conn.recv(65536)
                    with contextlib.suppress(OSError):  # the sender gave up: what the test expects
                        behaviour(conn, stop)

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{server.getsockname()[1]}/hook"

    yield start
    stop.set()
    for server in servers:
        server.close()


def _delivery(url: str) -> Delivery:
    return Delivery(message_id=f"msg_{uuid.uuid4().hex}", attempt_id=uuid.uuid4(), attempt_number=1,
                    endpoint_id=uuid.uuid4(), url=url, secret="whsec_" + "A" * 32, body='{"type":"webhook.test"}')


@pytest.mark.parametrize("behaviour", [_answer_then_drip_body, _drip_headers], ids=["body", "headers"])
def test_a_receiver_dripping_one_byte_at_a_time_is_cut_off_at_the_attempts_deadline(
    hostile_receiver: Callable[[Callable[[socket.socket, threading.Event], None]], str],
    behaviour: Callable[[socket.socket, threading.Event], None],
) -> None:
    settings = dataclasses.replace(get_settings(), webhook_timeout_seconds=TIMEOUT,
                                   webhook_allow_private_targets=True)
    url = hostile_receiver(behaviour)
    began = time.monotonic()
    [outcome] = sending.send_batch([_delivery(url)], settings=settings)
    took = time.monotonic() - began
    # Each read gets a byte well within the timeout; only a deadline for the whole attempt ends it.
    assert not outcome.delivered
    assert outcome.error is not None and "timed out" in outcome.error, outcome
    assert took < DRIP_BYTES * DRIP_SECONDS / 2, f"the attempt took {took:.1f} s"
