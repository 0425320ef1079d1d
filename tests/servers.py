"""The real app on committing sessions: called in-process (from threads, say), or served over HTTP; and the API as
gunicorn serves it, in a process of its own (its memory read from ``/proc``)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import BaseWSGIServer, make_server

from api import create_app
from devstack.host import free_port, stop_groups
from infra.config import Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]


def live_app(committed: sessionmaker[Session], settings: Settings | None = None) -> Flask:
    """The real app on committing sessions, publishing to the settings' Redis."""
    settings = settings or get_settings()
    return create_app(settings, session_factory=committed)


@contextmanager
def serving(committed: sessionmaker[Session], **changes: Any) -> Iterator[tuple[str, Flask]]:
    """:func:`live_app` over HTTP on a free port of 127.0.0.1 (streams last 8 s unless ``changes`` say otherwise);
    its base URL and the app."""
    settings = dataclasses.replace(get_settings(), **{"sse_max_seconds": 8.0, **changes})
    app = live_app(committed, settings)
    http: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", app
    http.shutdown()
    thread.join(timeout=10)


@dataclass
class Gunicorn:
    """``gunicorn "api:create_app()"`` of this run, one worker process: its base URL and that process."""

    url: str
    master: subprocess.Popen[bytes]

    def worker_pid(self) -> int:
        children = Path(f"/proc/{self.master.pid}/task/{self.master.pid}/children").read_text().split()
        return int(children[0])

    def peak_rss_mb(self) -> float:
        """The most resident memory the worker process has held so far, in MiB (a spike freed since counts)."""
        return peak_rss_mb(self.worker_pid())


def peak_rss_mb(pid: int) -> float:
    """``VmHWM``: the process's peak resident memory so far, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")


@contextmanager
def gunicorn(log_dir: Path, **env: str) -> Iterator[Gunicorn]:
    """The API as ``make run`` serves it (one worker of ``API_THREADS`` threads unless ``env`` says otherwise), on a
    free port, with this run's database and Redis; stopped after."""
    port = free_port()
    variables = {**os.environ, "API_HOST": "127.0.0.1", "API_PORT": str(port), "WEB_CONCURRENCY": "1",
                 "API_THREADS": "8", **env}
    with (log_dir / "gunicorn.log").open("wb") as log:
        master = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "api:create_app()"], cwd=ROOT,
                                  env=variables, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert master.poll() is None, (log_dir / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.2)
        yield Gunicorn(f"http://127.0.0.1:{port}/api/v1", master)
    finally:
        stop_groups(master, grace=20)
