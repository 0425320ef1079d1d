"""The Task base that owns the database session and the transaction."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import celery
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from infra.db import make_engine, make_session_factory, transaction
from outbox import draining
from outbox.publisher import install_publisher
from outbox.recording import tag_request
from outbox.registry import Work
from workers.celery_app import app, request_id_of
from workers.metrics import HANDLER_BATCH_SIZE
from workflows.live import frames as live

_factory: sessionmaker[Session] | None = None
_factory_pid: int | None = None


def session_factory() -> sessionmaker[Session]:
    """One engine per process, created lazily so forked pool children never share sockets."""
    global _factory, _factory_pid  # noqa: PLW0603 - a per-process cache
    if _factory is None or _factory_pid != os.getpid():
        settings = get_settings()
        engine = make_engine(settings.sqlalchemy_database_url, pool_size=2, application_name="mentorship-worker")
        _factory = make_session_factory(engine)
        _factory_pid = os.getpid()

        install_publisher(_factory, lambda: app, live.publish_committed)
    return _factory


class DbTask(celery.Task):  # type: ignore[type-arg]
    """Tasks take ids, open one session, call a workflow, commit once.

    Any exception rolls the transaction back; the outbox redelivers work that
    was not marked done, so a failed or killed task is retried from the database.
    """

    abstract = True

    def transaction(self) -> AbstractContextManager[Session]:
        return _tagged_transaction(request_id_of(self))

    def drain(self, work: Work, hint: str | None = None) -> int:
        """Do this handler's due work in batches, ``hint``'s row first (``outbox.draining``); the rows done."""
        return draining.drain(self.app, self.name, work, hint, transaction=self.transaction,
                              request_id=request_id_of(self), observe=HANDLER_BATCH_SIZE.labels(self.name).observe)


@contextmanager
def _tagged_transaction(request_id: str | None) -> Iterator[Session]:
    """One transaction; the work it publishes carries the id of the request that caused this task."""
    with transaction(session_factory()) as db:
        tag_request(db, request_id)
        yield db
