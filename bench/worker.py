"""The worker app as ``celery -A workers`` loads it, plus the no-op task the task figures are compared with."""

from __future__ import annotations

from workers import app

__all__ = ["app", "noop"]

NOOP_TASK = "bench.noop"


@app.task(name=NOOP_TASK)
def noop(*_args: object, **_kwargs: object) -> None:
    """Nothing: what a task costs when its work costs nothing."""
