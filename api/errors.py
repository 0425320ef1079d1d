"""Domain errors to HTTP, in one place, with flask-smorest's error body."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from flask import Flask
from flask_smorest import Api
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, default_exceptions

from workflows import errors

log = structlog.get_logger(__name__)

STATUS_BY_ERROR: tuple[tuple[type[errors.DomainError], int], ...] = (
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.RateLimited, 429),
    (errors.InvalidInput, 422),
    (errors.BusinessRuleViolation, 400),
)


def http_error(status: int, message: str, *, errors_: dict[str, Any] | None = None,
               headers: dict[str, str] | None = None) -> HTTPException:
    exc = default_exceptions[status]()
    data: dict[str, Any] = {"message": message}
    if errors_:
        data["errors"] = errors_
    if headers:
        data["headers"] = headers
    exc.data = data  # type: ignore[attr-defined]  # read by flask-smorest's handler
    return exc


def status_for(error: errors.DomainError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 400


def init_errors(app: Flask, api: Api) -> None:
    def handle_domain_error(error: errors.DomainError) -> Any:
        status = status_for(error)
        headers = {"WWW-Authenticate": "Bearer"} if status == HTTPStatus.UNAUTHORIZED else None
        if isinstance(error, errors.RateLimited):
            headers = {"Retry-After": str(error.retry_after)}
        details = {k: str(v) for k, v in error.details.items()} or None
        return api.handle_http_exception(http_error(status, error.message, errors_=details, headers=headers))

    def handle_database_unavailable(error: OperationalError) -> Any:
        log.error("database.unavailable", error=str(error.orig))
        return api.handle_http_exception(
            http_error(503, "the database is unavailable, try again shortly", headers={"Retry-After": "5"})
        )

    app.register_error_handler(errors.DomainError, handle_domain_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
