"""Structured logs: one JSON object per line, with the request and task ids bound in context.

Every process (API, workers, beat, Flower) calls ``configure_logging`` once; the
standard library's loggers (gunicorn, Celery, SQLAlchemy) go through the same
renderer, so one ``request_id`` can be followed from a request into every task
it causes.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from infra.config import get_settings

_configured = False


def configure_logging(*, force: bool = False) -> None:
    global _configured  # noqa: PLW0603 - configured once per process
    if _configured and not force:
        return
    settings = get_settings()
    level = settings.log_level
    as_json = settings.log_format != "console"
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.format_exc_info,
                    renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("sqlalchemy.engine", "urllib3", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    _configured = True
