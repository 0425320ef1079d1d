"""Domain errors. The API maps each class to one HTTP status in one place."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import psycopg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows.language import refusal_in
from workflows.wording import render


class DomainError(Exception):
    """Base class: a request the domain refuses.

    A refusal undoes the request's writes, unless its class ``keeps_changes``: then what the
    workflow wrote before refusing (a revocation, say) is the point of the refusal and is committed.

    Its ``reason`` is a stable machine name (snake_case) that clients tell refusals apart by, whatever the words of
    its ``message``: the one given where it is raised, else a scheduling refusal's ``rule``, else its class's
    (``default_reason``).

    Its ``message`` is English, for people: a literal template (the catalogues' ``msgid``, in context ``error``)
    and, when it names words (``"the run is {status}"``), their values in ``words``. The API writes it in the
    language the client asks for (:func:`workflows.language.refusal_in`); never an f-string, which no catalogue
    could hold (a test reads every raise).
    """

    keeps_changes: ClassVar[bool] = False
    default_reason: ClassVar[str] = "refused"

    def __init__(self, message: str, *, reason: str | None = None, words: Mapping[str, object] | None = None,
                 **details: Any) -> None:
        self.template = message
        self.words = words
        self.message = self.said_in(None)
        super().__init__(self.message)
        self.details = details
        rule = details.get("rule")
        self.reason = reason or (rule if isinstance(rule, str) else None) or type(self).default_reason

    def shown(self) -> dict[str, Any]:
        """What the refusal's body carries besides its message and reason (a second step's challenge, say)."""
        return {}

    def said_in(self, locale: str | None) -> str:
        """The message in the language of ``locale`` (English for none), its words written as that locale writes
        them; a template no catalogue holds yet reads in English."""
        template = self.template if locale is None else refusal_in(self.template, locale)
        return render(template, self.words or {}, None, locale)


class NotFound(DomainError):
    """The resource does not exist, or the caller may not see it (no existence leak)."""

    default_reason: ClassVar[str] = "not_found"


class Forbidden(DomainError):
    """The caller takes part but lacks the right for this action."""

    default_reason: ClassVar[str] = "forbidden"


class BusinessRuleViolation(DomainError):
    """The request is well formed but breaks a rule (invalid transition, outside a window)."""

    default_reason: ClassVar[str] = "rule_broken"


class InvalidTransition(BusinessRuleViolation):
    """The record's status does not allow the action. ``action`` is an identifier (``details["action"]``, for
    clients); ``verb`` says it in the message when the identifier is no English verb (``mentee_no_show``)."""

    default_reason: ClassVar[str] = "invalid_transition"

    def __init__(self, kind: str, current: str, action: str, *, verb: str | None = None) -> None:
        super().__init__(
            _INVALID_TRANSITION[kind[:1] in "aeiou"], words={"verb": verb or action, "kind": kind, "current": current},
            current_status=current,
            action=action,
        )


def refusal(english: str) -> str:
    """Marks the English of a refusal kept apart from where it is raised (a constant, a table), so that ``make
    messages`` gathers it as it gathers ``Conflict("…")``: the words themselves, unchanged."""
    return english


# A status forbids an action: the machine's words (a kind, a status, an action) are kept as they are.
_INVALID_TRANSITION = {False: refusal("cannot {verb} a {kind} that is {current}"),
                       True: refusal("cannot {verb} an {kind} that is {current}")}


class Conflict(DomainError):
    """The request conflicts with the current state (overlap, duplicate, full, no credit). Each is raised with a
    ``reason`` of its own (a test holds it), since several differ only in their words."""

    default_reason: ClassVar[str] = "conflict"


class InvalidInput(DomainError):
    """The input is malformed in a way the schema could not see (a bad cursor, say)."""

    default_reason: ClassVar[str] = "invalid_input"


class RateLimited(DomainError):
    """Too many requests of this kind for now; ``retry_after`` seconds tells when to try again."""

    default_reason: ClassVar[str] = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, words: Mapping[str, object] | None = None) -> None:
        super().__init__(message, words=words)
        self.retry_after = retry_after


class LockedOut(RateLimited):
    """Too many failed password checks from this client, for this account or any: the audit trail's record of
    the lock-out is kept though the request is refused."""

    keeps_changes: ClassVar[bool] = True
    default_reason: ClassVar[str] = "locked_out"


class Overloaded(DomainError):
    """This process is at its bound for costly work of this kind (password hashing); ``retry_after`` seconds."""

    default_reason: ClassVar[str] = "overloaded"

    def __init__(self, message: str, *, retry_after: int, words: Mapping[str, object] | None = None) -> None:
        super().__init__(message, words=words)
        self.retry_after = retry_after


class Unauthenticated(DomainError):
    """Credentials are missing or wrong."""

    default_reason: ClassVar[str] = "unauthenticated"


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint (or unique index) a write ran into, as the server reported it.

    Read from psycopg's diagnostics, not from the message text, which a translation or a longer
    name in the detail line could change.
    """
    return error.orig.diag.constraint_name if isinstance(error.orig, psycopg.Error) else None


@contextmanager
def constraint_errors(errors: Mapping[str, str | DomainError]) -> Iterator[None]:
    """A write running into a constraint named in ``errors`` raises that constraint's error (a message is a
    :class:`Conflict`); any other violation propagates as it is."""
    try:
        yield
    except IntegrityError as exc:
        error = errors.get(violated_constraint(exc) or "")
        if error is None:
            raise
        raise (Conflict(error) if isinstance(error, str) else error) from None


def add_or_conflict(db: Session, row: object, conflicts: Mapping[str, str | DomainError]) -> None:
    """Insert ``row`` in a savepoint; running into a constraint named in ``conflicts`` raises its error
    (:func:`constraint_errors`), and the transaction goes on. Any other violation propagates."""
    with constraint_errors(conflicts), db.begin_nested():
        db.add(row)
        db.flush()
