"""Domain errors to HTTP, in one place, with flask-smorest's error body."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import marshmallow as ma
import structlog
from flask import Flask, has_request_context, request
from flask_smorest import Api
from flask_smorest.error_handler import ErrorSchema as SmorestErrorSchema
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, default_exceptions

from api.common.schemas import Schema
from infra.config import get_settings
from workflows import errors, language

log = structlog.get_logger(__name__)

STATUS_BY_ERROR: tuple[tuple[type[errors.DomainError], int], ...] = (
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.RateLimited, 429),
    (errors.Overloaded, 503),
    (errors.InvalidInput, 422),
    (errors.BusinessRuleViolation, 400),
)

# SQLSTATE class 40, transaction rollback: a serialization failure (40001) or a deadlock (40P01).
# The transaction lost a race with another; the same request, sent again, may well succeed.
_TRANSACTION_ROLLBACK_CLASS = "40"
_LOCK_NOT_AVAILABLE = "55P03"  # DB_LOCK_TIMEOUT_MS passed waiting for a lock


# An error body's ``reason`` where no domain error named one: by its status.
REASON_BY_STATUS = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
                    422: "invalid_request", 429: "rate_limited", 500: "internal_error", 503: "unavailable"}


class SecondStepDueSchema(Schema):
    challenge = ma.fields.String(metadata={"description": (
        "Send it back with the code to `POST /auth/token/second-step`; single-use, it lives `expires_in` seconds "
        "and dies after five wrong codes.")})
    methods = ma.fields.List(ma.fields.String(), metadata={"description": (
        "What the account can take the step with: `totp` (a code of an authenticator app), `webauthn` (a passkey or "
        "security key), `recovery_code`.")})
    enrolment = ma.fields.Boolean(metadata={"description": (
        "The account has no authenticator but an administrator requires one: set one up with "
        "`POST /auth/token/second-step/setup`, then send its first code.")})
    expires_in = ma.fields.Integer()
    webauthn = ma.fields.Dict(allow_none=True, metadata={"description": (
        "With `webauthn` among the methods: `navigator.credentials.get`'s `publicKey` options, as JSON (byte strings "
        "in base64url); send what the key answers as `webauthn`.")})


class ErrorSchema(SmorestErrorSchema, Schema):  # type: ignore[misc]  # flask-smorest ships no type information
    message = ma.fields.String(metadata={"description": (
        "What was refused and why, for people: in the language `Accept-Language` asks for first among those the "
        "service speaks (en, fr, de, es, ja, ar), English otherwise. Tell refusals apart by `reason`, never by "
        "these words.")})
    reason = ma.fields.String(metadata={"description": (
        "A stable machine name of the refusal (snake_case), to tell refusals apart by whatever their `message` says "
        "(a `message` is meant for people and may change or be translated): a refusal's own (`mentee_busy`, "
        "`session_full`, `paired_already`, …; a scheduling refusal's `rule`), else its kind (`not_found`, "
        "`forbidden`, `rule_broken`, `invalid_transition`, `conflict`, `invalid_request`, `rate_limited`, …).")})
    second_step = ma.fields.Nested(SecondStepDueSchema, metadata={"description": (
        "Only with `reason: second_step_required` (`POST /auth/token`): the password was right and a second step is "
        "due; send it to `POST /auth/token/second-step`.")})


def http_error(status: int, message: str, *, errors_: dict[str, Any] | None = None,
               headers: dict[str, str] | None = None, reason: str | None = None,
               words: Mapping[str, object] | None = None, shown: Mapping[str, Any] | None = None) -> HTTPException:
    """An HTTP error whose body says ``message``: an English template with its ``words``
    (:class:`workflows.errors.DomainError`'s), written in the language the client asks for."""
    exc = default_exceptions[status]()
    said = errors.DomainError(message, words=words)
    data: dict[str, Any] = {"message": said.message, "said": said}
    if reason:
        data["reason"] = reason
    if errors_:
        data["errors"] = errors_
    if headers:
        data["headers"] = headers
    if shown:
        data["shown"] = shown
    exc.data = data  # type: ignore[attr-defined]  # read by flask-smorest's handler
    return exc


def status_for(error: errors.DomainError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 400


def _first_error(errors: Any, path: tuple[str, ...] = ()) -> str | None:
    """The first validation message in webargs' nested ``errors``, prefixed with where it is."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            found = _first_error(value, path if key in {"json", "query", "_schema"} else (*path, str(key)))
            if found:
                return found
    elif isinstance(errors, list) and errors:
        if all(isinstance(item, str) for item in errors):
            where = ".".join(path)
            return f"{where}: {errors[0]}" if where else str(errors[0])
        return _first_error(dict(enumerate(errors)), path)
    return None


class ServiceApi(Api):  # type: ignore[misc]  # flask-smorest ships no type information
    """flask-smorest's ``Api`` whose error body always has a ``message``.

    webargs' 422 (and its 400 for unreadable JSON) and werkzeug's own errors
    (404, 405, 413) carry none; the message then names the first invalid field,
    or is werkzeug's description of the status. Each has a ``reason`` too
    (:class:`ErrorSchema`).
    """

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        payload, status, headers = super().handle_http_exception(error)
        data = getattr(error, "data", None) or {}
        if isinstance(said := data.get("said"), errors.DomainError):
            payload["message"] = in_readers_words(said, asked_locale())
        if not payload.get("message"):
            payload["message"] = _first_error(payload.get("errors")) or error.description or error.name
        payload["reason"] = data.get("reason") or REASON_BY_STATUS.get(status, "error")
        payload.update(data.get("shown") or {})
        return payload, status, headers


def init_errors(app: Flask, api: Api) -> None:
    def handle_domain_error(error: errors.DomainError) -> Any:
        status = status_for(error)
        headers = {"WWW-Authenticate": "Bearer"} if status == HTTPStatus.UNAUTHORIZED else None
        if isinstance(error, errors.RateLimited | errors.Overloaded):
            headers = {"Retry-After": str(error.retry_after)}
        details = {k: str(v) for k, v in error.details.items()} or None
        return api.handle_http_exception(http_error(status, error.template, words=error.words, errors_=details,
                                                    headers=headers, reason=error.reason, shown=error.shown()))

    def handle_constraint_violation(error: IntegrityError) -> Any:
        """A constraint no workflow turned into a domain error: one checked at commit, say."""
        log.warning("database.constraint_violation", constraint=_constraint_name(error), error=str(error.orig))
        return api.handle_http_exception(
            http_error(409, "the request conflicts with data saved meanwhile; nothing was saved")
        )

    def handle_operational_error(error: OperationalError) -> Any:
        if _sqlstate(error).startswith(_TRANSACTION_ROLLBACK_CLASS):
            log.warning("database.transaction_rolled_back", sqlstate=_sqlstate(error), error=str(error.orig))
            return api.handle_http_exception(http_error(
                409, "the request collided with a concurrent change; nothing was saved, send it again",
                headers={"Retry-After": "1"},
            ))
        if _sqlstate(error) == _LOCK_NOT_AVAILABLE:
            log.warning("database.lock_timeout", error=str(error.orig))
            return api.handle_http_exception(http_error(
                503, "the request waited too long behind another; nothing was saved, send it again",
                headers={"Retry-After": "2"}))
        log.error("database.unavailable", error=str(error.orig))
        return api.handle_http_exception(
            http_error(503, "the database is unavailable, try again shortly", headers={"Retry-After": "5"})
        )

    def handle_pool_timeout(error: PoolTimeout) -> Any:
        """Every connection of this process's pool is in use, and none came free in ``DB_POOL_TIMEOUT``."""
        log.error("database.pool_exhausted", error=str(error))
        return api.handle_http_exception(
            http_error(503, "the service is busy, try again shortly", headers={"Retry-After": "2"}))

    app.register_error_handler(errors.DomainError, handle_domain_error)
    app.register_error_handler(IntegrityError, handle_constraint_violation)
    app.register_error_handler(OperationalError, handle_operational_error)
    app.register_error_handler(PoolTimeout, handle_pool_timeout)


def in_readers_words(said: errors.DomainError, locale: str | None) -> str:
    """A refusal's message for a reader of ``locale``. Tests refuse strictly: words no catalogue holds would reach
    every reader in English."""
    if get_settings().app_env == "test" and said.template not in language.known_refusals():
        raise AssertionError(f"the refusal {said.template!r} is in no catalogue: run `make messages`")
    return said.said_in(locale)


def asked_locale() -> str | None:
    """The locale a client asks the API's words in (``Accept-Language``, the first tag of a shipped language; the
    web app sends its reader's): a refusal's message, and what the API writes for people where it is asked."""
    return language.preferred_tag(request.headers.get("Accept-Language")) if has_request_context() else None


def _sqlstate(error: DBAPIError) -> str:
    return str(getattr(error.orig, "sqlstate", None) or "")


def _constraint_name(error: DBAPIError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None)
