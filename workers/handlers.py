"""A Celery task for every outbox handler declared in ``workflows/handlers.py``, named as the handler.

A handler's message carries the event it was sent for (claimed first); its task drains every due row of
the handler (``outbox.draining``). A handler that can be run by hand (``by_hand``) takes an aggregate id
first: ``celery -A workers call sessions.create_from_booking --args='["<booking id>"]'`` creates that
booking's session, then drains the rest. Handlers declared in a module the worker is
told to ``--include`` get their task as the worker starts.
"""

from __future__ import annotations

import uuid
from typing import Any

from celery import signals

from outbox import REGISTRY, HandlerSpec
from workers.base import DbTask
from workers.celery_app import app
from workflows import handlers

handlers.declare()


def make_task(spec: HandlerSpec) -> None:
    """Register ``spec``'s task on the workers' app (once)."""
    if spec.name in app.tasks:
        return
    if spec.by_hand is not None:
        by_hand = spec.by_hand

        def run_for(self: DbTask, aggregate_id: str, event_id: str | None = None) -> int:
            if event_id is None:
                with self.transaction() as db:
                    by_hand(db, uuid.UUID(aggregate_id))
            return self.drain(spec.work, event_id)

        app.task(name=spec.name, base=DbTask, bind=True, shared=False)(run_for)
        return

    def run(self: DbTask, event_id: str | None = None) -> int:
        return self.drain(spec.work, event_id)

    app.task(name=spec.name, base=DbTask, bind=True, shared=False)(run)


def task_of(handler: str) -> DbTask:
    """The task of the handler named ``handler``."""
    task = app.tasks[handler]
    assert isinstance(task, DbTask)
    return task


def make_tasks(**_kwargs: Any) -> None:
    for spec in REGISTRY.handler_specs():
        make_task(spec)


make_tasks()
# Modules named by ``--include`` may declare handlers of their own: the worker imports them before this signal.
signals.worker_init.connect(make_tasks, weak=False)
