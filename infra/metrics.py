"""Prometheus's multiprocess mode, when configured: before any metric exists in a process.

With ``PROMETHEUS_MULTIPROC_DIR`` set, every process (gunicorn workers, Celery
pool children) writes its samples to files there, named by host and pid, and
``/metrics`` aggregates them. Without it each process keeps its own samples in
memory (prometheus-client's default), so a component started bare still works.
Import this module before defining metrics.
"""

from __future__ import annotations

import os
import socket

from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client import values

from infra.config import get_settings


def process_identity(pid: int | None = None) -> str:
    """Host and pid: the name of this process's metric files.

    Containers sharing one metrics volume number their processes from 1 each;
    the pid alone would let two of them write the same file.
    """
    host = socket.gethostname().replace("_", "-")
    return f"{host}-{pid or os.getpid()}"


# Before any metric exists, in every process that imports our metrics. The multiprocess value class
# needs the directory; without one, prometheus-client's in-memory values stay.
if get_settings().prometheus_multiproc_dir:
    values.ValueClass = values.MultiProcessValue(process_identifier=process_identity)  # type: ignore[no-untyped-call]


def mark_process_dead(pid: int | None) -> None:
    """Fold a finished process's live gauges away (multiprocess mode only)."""
    if get_settings().prometheus_multiproc_dir:
        prometheus_multiprocess.mark_process_dead(process_identity(pid))  # type: ignore[no-untyped-call]
