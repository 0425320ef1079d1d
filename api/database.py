"""One database session per request and one commit point, inside the request's unit of work.

The view and its commit are one step: :class:`UnitOfWorkFlask` commits right after the view
returns and before any response exists, so a commit that fails (a deferred constraint, a
serialization failure) raises where the view's own errors do and is answered by the error
mapping in ``api/errors.py``. Work published after the commit is sent only if it succeeded.
A refusal rolls the request back, unless its domain error ``keeps_changes`` (a reused refresh
token: the revocation of its family is the point, and is committed before the 401).
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, current_app, g
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session, sessionmaker

from outbox.recording import tag_request
from workflows.errors import DomainError

_EXTENSION = "db_session_factory"


class UnitOfWorkFlask(Flask):
    """Flask whose views run with their commit: a success is a response to a committed request."""

    def dispatch_request(self) -> ResponseReturnValue:
        try:
            response = self.make_response(super().dispatch_request())
        except DomainError as refused:
            if refused.keeps_changes:
                _finish(commit=True)
            raise
        _finish(commit=response.status_code < HTTPStatus.BAD_REQUEST)
        return response


def init_database(app: Flask) -> None:
    if not isinstance(app, UnitOfWorkFlask):
        raise TypeError("the API's unit of work needs a UnitOfWorkFlask app")
    # A view that raised, or a before_request hook that answered: nothing is committed.
    app.teardown_request(lambda _exc: _finish(commit=False))


def use_session_factory(app: Flask, factory: sessionmaker[Session]) -> None:
    """Where the app's requests open their session (``api.bind_sessions``)."""
    app.extensions[_EXTENSION] = factory


def db_session() -> Session:
    """The request's session, opened on first use."""
    if "db" not in g:
        g.db = session_factory()()
        tag_request(g.db, g.get("request_id"))
    session: Session = g.db
    return session


def end_transaction() -> None:
    """End the request's transaction now, before the view waits on something other than the database (a calendar
    server, a calendars worker): no connection is held meanwhile. Only before the view writes anything (the
    transaction has read who the caller is); the session begins anew at its next statement."""
    session: Session | None = g.get("db")
    if session is not None:
        session.rollback()


def commit_now() -> None:
    """Commit what the request wrote so far, before the view waits on something other than the database (an
    organisation's sign-on provider): no transaction, lock or connection is held meanwhile, and what was written
    stays whatever follows. The session begins anew at its next statement."""
    session: Session | None = g.get("db")
    if session is not None:
        session.commit()


def session_factory() -> sessionmaker[Session]:
    """The app's session factory, for work that outlives the request (a live stream's reads)."""
    factory: sessionmaker[Session] = current_app.extensions[_EXTENSION]
    return factory


def _finish(*, commit: bool) -> None:
    """Commit (or roll back) and close the request's session, if it opened one; a failed commit raises."""
    session: Session | None = g.pop("db", None)
    if session is None:
        return
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
