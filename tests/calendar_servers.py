"""Calendar servers for the tests: a real Radicale (CalDAV) on a free port, with a users file, which a test can stop
and start again on the same port and storage; and a small HTTP server of one iCalendar subscription, whose answer a
test sets (ETag and 304, garbage, a huge feed)."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.host import free_port

USER, PASSWORD = "grace", "app-password-1"


@dataclass
class Radicale:
    """A Radicale server of this test: its address, and one user whose calendars the test fills with ``caldav``."""

    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        config = self.root / "config"
        config.write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\ntype = htpasswd\n"
            f"htpasswd_filename = {self.root / 'users'}\nhtpasswd_encryption = plain\n"
            "[storage]\n"
            f"filesystem_folder = {self.root / 'collections'}\n"
            "[rights]\ntype = owner_only\n"
            "[logging]\nlevel = warning\n")
        (self.root / "users").write_text(f"{USER}:{PASSWORD}\n")
        self.process = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("Radicale did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def client(self) -> object:
        """A ``caldav`` client of the user, as a person's own calendar app would write events."""
        import caldav

        return caldav.DAVClient(url=self.url, username=USER, password=PASSWORD)


@contextmanager
def radicale(tmp_path: Path) -> Iterator[Radicale]:
    server = Radicale(tmp_path / "radicale", free_port())
    server.root.mkdir()
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
    requests: int = 0
    not_modified: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def subscription_server(feed: Feed) -> Iterator[str]:
    """An HTTP server of one iCalendar feed on a free port; its URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with feed.lock:
                feed.requests += 1
                if self.headers.get("If-None-Match") == feed.etag and feed.status == 200:
                    feed.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(feed.status)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("ETag", feed.etag)
                self.send_header("Content-Length", str(len(feed.body)))
                self.end_headers()
                self.wfile.write(feed.body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/secret-address/basic.ics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
