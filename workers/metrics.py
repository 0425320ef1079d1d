"""Task metrics from the worker processes (multiprocess mode: see infra/metrics.py)."""

from __future__ import annotations

import time
from typing import Any

from celery import signals
from prometheus_client import Counter, Histogram

from infra.metrics import mark_process_dead

TASK_DURATION = Histogram(
    "celery_task_duration_seconds", "Task run time by task name", ["task"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30, 60),
)
TASK_OUTCOMES = Counter("celery_tasks_total", "Tasks run, by name and outcome", ["task", "outcome"])
HANDLER_BATCH_SIZE = Histogram(
    "outbox_handler_batch_size", "Outbox rows claimed per batch, by handler", ["handler"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
WEBHOOK_ATTEMPTS = Counter("webhook_attempts_total", "Webhook delivery attempts by outcome", ["outcome"])

_started: dict[str, float] = {}


@signals.task_prerun.connect
def _task_started(task_id: str | None = None, **_kwargs: Any) -> None:
    if task_id:
        _started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _task_finished(task_id: str | None = None, task: Any = None, state: str | None = None, **_kwargs: Any) -> None:
    began = _started.pop(task_id or "", None)
    name = getattr(task, "name", "unknown")
    if began is not None:
        TASK_DURATION.labels(name).observe(time.perf_counter() - began)
    TASK_OUTCOMES.labels(name, (state or "unknown").lower()).inc()


@signals.worker_process_shutdown.connect
def _process_gone(pid: int | None = None, **_kwargs: Any) -> None:
    mark_process_dead(pid)
