"""The real app on committing sessions: called in-process (from threads, say), or served over HTTP."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import BaseWSGIServer, make_server

from api import create_app
from infra.config import Settings, get_settings


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
