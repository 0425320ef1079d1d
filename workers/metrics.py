"""Task metrics from the worker processes (Prometheus multiprocess mode when configured).

With ``PROMETHEUS_MULTIPROC_DIR`` set, every process writes its samples to files
there, named by host and pid, and ``/metrics`` aggregates them. Without it each
process keeps its own samples in memory (prometheus-client's default), so a
component started bare still works.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from celery import signals
from prometheus_client import Counter, Histogram, values
from prometheus_client import multiprocess as prometheus_multiprocess


def process_identity(pid: int | None = None) -> str:
    """Host and pid: the name of this process's metric files.

    Containers sharing one metrics volume number their processes from 1 each;
    the pid alone would let two of them write the same file.
    """
    host = socket.gethostname().replace("_", "-")
    return f"{host}-{pid or os.getpid()}"


# Before any metric exists, in every process that imports our metrics. The multiprocess value class
# needs the directory; without one, prometheus-client's in-memory values stay.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    values.ValueClass = values.MultiProcessValue(process_identifier=process_identity)  # type: ignore[no-untyped-call]

TASK_DURATION = Histogram(
    "celery_task_duration_seconds", "Task run time by task name", ["task"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30, 60),
)
TASK_OUTCOMES = Counter("celery_tasks_total", "Tasks run, by name and outcome", ["task", "outcome"])
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
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        prometheus_multiprocess.mark_process_dead(process_identity(pid))  # type: ignore[no-untyped-call]
