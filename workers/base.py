"""The Task base that owns the database session and the transaction."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import celery
from sqlalchemy.orm import Session, sessionmaker

from models import OutboxEvent
from models.db import make_engine, make_session_factory
from workers.celery_app import app, request_id_of
from workers.publish import install_publisher
from workflows import outbox
from workflows.config import get_settings
from workflows.outbox import REQUEST_ID_KEY

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

        install_publisher(_factory, lambda: app)
    return _factory


EventWork = Callable[[Session, OutboxEvent], None]


class DbTask(celery.Task):  # type: ignore[type-arg]
    """Tasks take ids, open one session, call a workflow, commit once.

    Any exception rolls the transaction back; the outbox redelivers work that
    was not marked done, so a failed or killed task is retried from the database.
    """

    abstract = True

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        db = session_factory()()
        # Work this task publishes carries the id of the request that caused it.
        db.info[REQUEST_ID_KEY] = request_id_of(self)
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise
        finally:
            db.close()

    def run_handler(self, event_id: str, work: EventWork) -> bool:
        """Do one handler's work for one event, once: claim (mark done) its outbox row, work, commit.

        A second delivery finds the row done and does nothing. A failure rolls
        everything back, keeps the error on the row and re-raises; the relay
        redelivers later, without touching the other handlers of the event.
        """
        handler = self.name
        try:
            with self.transaction() as db:
                event = outbox.claim_event(db, uuid.UUID(event_id), handler)
                if event is None:
                    return False
                work(db, event)
        except Exception as exc:
            with session_factory()() as db:
                outbox.record_failure(db, uuid.UUID(event_id), handler, f"{type(exc).__name__}: {exc}")
                db.commit()
            raise
        return True
