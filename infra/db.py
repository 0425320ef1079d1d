"""Engine and session factories, and the one transaction helper: callers pass the URL and the factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, pool_size: int = 5, application_name: str = "mentorship") -> Engine:
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        # Every timestamp leaves the database in UTC, whatever the server's default.
        connect_args={"application_name": application_name, "connect_timeout": 5, "options": "-c timezone=UTC"},
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
