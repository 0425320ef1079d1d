"""Calendar servers for the tests: a real Radicale (CalDAV, ``devstack.radicale``) on a free port, with a users file,
which a test can stop and start again on the same port and storage (its ``client()``: a ``caldav`` client, as a
person's calendar app writes events); and a small HTTP server of one iCalendar subscription, whose answer a
test sets (ETag and 304, garbage, a huge feed, a compressed one)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.host import free_port
from devstack.radicale import Radicale

USER, PASSWORD = Radicale.user, Radicale.password


def client(server: Radicale) -> Any:
    """A ``caldav`` client of the server's user."""
    import caldav

    return caldav.DAVClient(url=server.url, username=server.user, password=server.password)


@contextmanager
def radicale(tmp_path: Path) -> Iterator[Radicale]:
    server = Radicale(tmp_path / "radicale", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Feed:
    """What the subscription server answers: a body, its ETag, and how many requests it had (and were 304)."""

    body: bytes = b""
    etag: str = '"1"'
    status: int = 200
    location: str | None = None  # a redirect's target
    delay: float = 0.0  # seconds before it answers: a slow server
    headers: dict[str, str] = field(default_factory=dict)  # more headers (a Content-Encoding, say)
    requests: int = 0
    not_modified: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def subscription_server(feed: Feed) -> Iterator[str]:
    """An HTTP server of one iCalendar feed on a free port; its URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))  # a CalDAV request's body, read whole
            with feed.lock:
                feed.requests += 1
                delay = feed.delay
            time.sleep(delay)
            with feed.lock:
                if self.headers.get("If-None-Match") == feed.etag and feed.status == 200:
                    feed.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(feed.status)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("ETag", feed.etag)
                if feed.location:
                    self.send_header("Location", feed.location)
                for name, value in feed.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(feed.body)))
                self.end_headers()
                self.wfile.write(feed.body)

        # The same answer to CalDAV's requests and writes, and to a webhook (a server slow or hostile at each).
        do_PROPFIND = do_REPORT = do_PUT = do_DELETE = do_POST = do_GET  # noqa: N815

        def log_message(self, *_args: object) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that gave up on a slow answer: nothing to report

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/secret-address/basic.ics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def connect_account(db: Any, actor: Any, server: Radicale) -> Any:
    """The Radicale account of ``server``, connected by ``actor`` (in ``db``'s transaction)."""
    from workflows.calendars import connections as calendar_connections

    return calendar_connections.connect(db, actor, kind="caldav", url=server.url, username=USER, password=PASSWORD)


STAMP = "%Y%m%dT%H%M%SZ"


def ics(*events: str) -> bytes:
    """A calendar of these VEVENTs (:func:`vevent`)."""
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n"
            ).encode()


def vevent(uid: str, begins: Any, rule: str = "", *, minutes: int = 60) -> str:
    """An event of ``minutes`` from ``begins`` (a UTC datetime), repeating by ``rule`` (an RRULE's value) if given."""
    from datetime import timedelta

    repeats = f"RRULE:{rule}\r\n" if rule else ""
    return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:{begins:{STAMP}}\r\n"
            f"DTEND:{begins + timedelta(minutes=minutes):{STAMP}}\r\n{repeats}SUMMARY:Busy\r\nEND:VEVENT\r\n")
