"""Engine and session factories, and the one transaction helper: callers pass the URL and the factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, pool_size: int = 5, application_name: str = "mentorship",
                lock_timeout_ms: int | None = None, idle_in_transaction_ms: int | None = None,
                pool_timeout: float = 30.0) -> Engine:
    """An engine; with ``lock_timeout_ms``, a statement waiting longer for a lock fails (``LockNotAvailable``), and
    with ``idle_in_transaction_ms`` a transaction left idle longer is ended by the server (the API's: a request never
    holds a lock or a connection for long, whatever it waits on)."""
    # Every timestamp leaves the database in UTC, whatever the server's default.
    options = ["-c timezone=UTC"]
    if lock_timeout_ms is not None:
        options.append(f"-c lock_timeout={lock_timeout_ms}")
    if idle_in_transaction_ms is not None:
        options.append(f"-c idle_in_transaction_session_timeout={idle_in_transaction_ms}")
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_timeout=pool_timeout,
        connect_args={"application_name": application_name, "connect_timeout": 5, "options": " ".join(options)},
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session], **info: Any) -> Iterator[Session]:
    """One session and one transaction: committed if the block succeeds, rolled back on any error.

    ``info`` goes into the session's ``info`` (the after-commit publisher reads the request id there).
    """
    db = factory()
    db.info.update(info)
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()
