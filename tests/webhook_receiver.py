"""Webhooks sent for real, for the end-to-end tests: a local receiver that verifies and records what it gets
(and answers as scripted), endpoints pointing at it, beat's dispatch every half second, and reading back
what was sent.

The receiver listens on 127.0.0.1, verifies every request with the ``standardwebhooks`` package exactly as
a customer would, and records it. ``fast_beat`` sends ``webhooks.dispatch_due`` every half second, as
beat does every five, so retries scheduled in the database come back within the test's time.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from outbox import record_events
from tests.factories.accounts import UserFactory
from workflows.actors import Actor
from workflows.webhooks import endpoints

HANG = "hang"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any] | None
    verify_error: str | None
    at: float

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """A local HTTP server that verifies and records webhooks and answers per path as scripted."""

    port: int = 0
    secrets: dict[str, str] = field(default_factory=dict)
    scripts: dict[str, list[int | str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    in_flight: dict[str, int] = field(default_factory=dict)
    most_in_flight: dict[str, int] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)  # per path, before each answer but HANG
    # Per watched path prefix: the most requests to its paths left unanswered at one moment.
    most_in_flight_under: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def watch(self, prefix: str) -> None:
        """Count the requests in flight together to every path starting with ``prefix``."""
        self.most_in_flight_under[prefix] = 0

    def answer(self, path: str, *answers: int | str) -> None:
        """The next answers for ``path`` (status codes or ``HANG``); the last one repeats."""
        self.scripts[path] = list(answers)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int | str:
        payload, error = None, None
        try:
            payload = Webhook(self.secrets[path]).verify(body, headers)
        except (KeyError, WebhookVerificationError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        with self.lock:
            self.received.append(Received(path, headers, body, payload, error, time.monotonic()))
            script = self.scripts.get(path, [200])
            return script.pop(0) if len(script) > 1 else script[0]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {key.lower(): value for key, value in self.headers.items()}
            with receiver.lock:
                receiver.in_flight[self.path] = receiver.in_flight.get(self.path, 0) + 1
                receiver.most_in_flight[self.path] = max(receiver.most_in_flight.get(self.path, 0),
                                                         receiver.in_flight[self.path])
                for prefix, most in receiver.most_in_flight_under.items():
                    together = sum(n for path, n in receiver.in_flight.items() if path.startswith(prefix))
                    receiver.most_in_flight_under[prefix] = max(most, together)
            answer = receiver.handle(self.path, headers, body)
            if answer == HANG:
                self._hang()
                answer = 200
            elif self.path in receiver.delays:
                time.sleep(receiver.delays[self.path])
            with receiver.lock:
                receiver.in_flight[self.path] -= 1
            try:
                self.send_response(int(answer))
                if answer in {301, 302, 307, 308}:
                    self.send_header("Location", receiver.url("/elsewhere"))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up (timeout) or was killed

        def _hang(self) -> None:
            """Answer nothing until released, or until the sender hangs up (its timeout): only then is the
            request no longer in flight."""
            deadline = time.monotonic() + 30
            while not receiver.release.wait(0.05) and time.monotonic() < deadline:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                        return  # the sender closed the connection
                except BlockingIOError:
                    continue  # nothing to read: the sender still waits
                except OSError:
                    return

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def fast_beat(celery_app: Celery) -> Iterator[None]:
    """``webhooks.dispatch_due`` every half second (beat's own schedule is every five)."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(0.5):
            celery_app.send_task("webhooks.dispatch_due", expires=2)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=5)


def admin(seed: Session) -> Actor:
    user = UserFactory(is_admin=True)
    seed.commit()
    return Actor(user.id, is_admin=True)


def endpoint(seed: Session, receiver: Receiver, owner: Actor, path: str, **fields: Any) -> WebhookEndpoint:
    """An endpoint pointing at ``receiver``'s ``path``, whose secret the receiver verifies with."""
    created = endpoints.create_endpoint(seed, owner, url=receiver.url(path), **fields)
    seed.commit()
    receiver.secrets[path] = created.secret
    return created


def emit(committed: sessionmaker[Session], celery_app: Celery, event_type: str = "booking.accepted",
         payload: dict[str, Any] | None = None, *, copies: int = 1) -> uuid.UUID:
    """Record an outbox event as a workflow would, and send its webhooks handler ``copies`` times."""
    with committed() as db:
        [event] = record_events(db, event_type, [(uuid.uuid4(), payload or {"id": str(uuid.uuid4()),
                                                                            "status": "accepted"})], actor=None)
        db.commit()
        event_id = event.id
    for _ in range(copies):
        celery_app.send_task("webhooks.fan_out", args=[str(event_id)])
    return event_id


def messages(committed: sessionmaker[Session], endpoint_id: uuid.UUID) -> list[WebhookMessage]:
    with committed() as db:
        return list(db.scalars(select(WebhookMessage).where(WebhookMessage.endpoint_id == endpoint_id)
                               .order_by(WebhookMessage.created_at)))


def attempts(committed: sessionmaker[Session], message_id: str) -> list[WebhookAttempt]:
    with committed() as db:
        return list(db.scalars(select(WebhookAttempt).where(WebhookAttempt.message_id == message_id)
                               .order_by(WebhookAttempt.attempted_at)))


def statuses(committed: sessionmaker[Session], endpoint_id: uuid.UUID) -> Callable[[], list[str]]:
    return lambda: [m.status for m in messages(committed, endpoint_id)]
