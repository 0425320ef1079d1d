"""The workers' Celery application (configured in infra/celery_config.py), logging and task context."""

from __future__ import annotations

from typing import Any

import structlog
from celery import signals

from infra.celery_config import create_celery
from infra.gc_freeze import freeze_startup_objects
from infra.logs import configure_logging

app = create_celery()


def request_id_of(task: Any) -> str | None:
    """The id of the HTTP request that caused this task, carried in the message headers."""
    headers = getattr(getattr(task, "request", None), "headers", None)
    value = headers.get("request_id") if isinstance(headers, dict) else None
    return str(value) if value else None


@signals.setup_logging.connect
def _configure_logging(**_kwargs: Any) -> None:
    """Celery leaves logging to us: the same JSON lines as the API."""
    configure_logging()


@signals.worker_init.connect
@signals.worker_process_init.connect
@signals.worker_ready.connect
def _freeze_startup_objects(**_kwargs: Any) -> None:
    """Before the pool forks (the tasks are imported), in each pool process, and once the main process is
    ready: what each has built so far leaves the collector's full passes (``infra.gc_freeze``)."""
    freeze_startup_objects()


@signals.task_prerun.connect
def _bind_task_context(task_id: str | None = None, task: Any = None, **_kwargs: Any) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        task_id=task_id, task_name=getattr(task, "name", None), request_id=request_id_of(task)
    )


@signals.task_postrun.connect
def _clear_task_context(**_kwargs: Any) -> None:
    structlog.contextvars.clear_contextvars()
