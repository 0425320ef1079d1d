"""factory_boy factories by domain, each on the test's session: ``accounts`` (users, and acting as one),
``mentors`` (profiles, listings), ``bookings``, ``sessions`` (sessions made as the workflows make them, or as
rows). Here: their base, and the fixture that binds them all to the test's session."""

from __future__ import annotations

from collections.abc import Iterator

import factory
import pytest
from sqlalchemy.orm import Session


class Base(factory.alchemy.SQLAlchemyModelFactory):
    """A factory flushing what it makes to the session the running test was given."""

    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


def _every(cls: type[Base]) -> Iterator[type[Base]]:
    yield cls
    for subclass in cls.__subclasses__():
        yield from _every(subclass)


def session() -> Session:
    """The session the factories are bound to, for a factory's lazy attribute that needs the database."""
    bound = Base._meta.sqlalchemy_session
    assert bound is not None, "factories are bound to a test that asks for `db` or `seed`"
    return bound


@pytest.fixture(autouse=True)
def _bind_factories(request: pytest.FixtureRequest) -> Iterator[None]:
    """Bind the factories to the test's session: the savepoint one (``db``) or a committing one (``seed``)."""
    name = next((n for n in ("db", "seed") if n in request.fixturenames), None)
    if name is None:
        yield
        return
    bound: Session = request.getfixturevalue(name)
    factories = list(_every(Base))
    for cls in factories:
        cls._meta.sqlalchemy_session = bound
    yield
    for cls in factories:
        cls._meta.sqlalchemy_session = None
