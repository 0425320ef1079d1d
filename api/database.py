"""One database session per request and one commit point: after a successful view."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, Response, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from workflows.outbox import REQUEST_ID_KEY

_EXTENSION = "db_session_factory"


def init_database(app: Flask, factory: sessionmaker[Session]) -> None:
    app.extensions[_EXTENSION] = factory
    app.after_request(_finish)
    app.teardown_request(_close)


def db_session() -> Session:
    """The request's session, opened on first use."""
    if "db" not in g:
        factory: sessionmaker[Session] = current_app.extensions[_EXTENSION]
        g.db = factory()
        g.db.info[REQUEST_ID_KEY] = g.get("request_id")
    session: Session = g.db
    return session


def _finish(response: Response) -> Response:
    session: Session | None = g.pop("db", None)
    if session is None:
        return response
    try:
        if response.status_code < HTTPStatus.BAD_REQUEST:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()
    return response


def _close(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db", None)
    if session is not None:
        session.rollback()
        session.close()
