"""Domain errors. The API maps each class to one HTTP status in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: a request the domain refuses."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The resource does not exist, or the caller may not see it (no existence leak)."""


class Forbidden(DomainError):
    """The caller takes part but lacks the right for this action."""


class BusinessRuleViolation(DomainError):
    """The request is well formed but breaks a rule (invalid transition, outside a window)."""


class InvalidTransition(BusinessRuleViolation):
    def __init__(self, kind: str, current: str, action: str) -> None:
        super().__init__(
            f"cannot {action} a {kind} that is {current}",
            current_status=current,
            action=action,
        )


class Conflict(DomainError):
    """The request conflicts with the current state (overlap, duplicate, full, no credit)."""


class InvalidInput(DomainError):
    """The input is malformed in a way the schema could not see (a bad cursor, say)."""


class RateLimited(DomainError):
    """Too many requests of this kind for now; ``retry_after`` seconds tells when to try again."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unauthenticated(DomainError):
    """Credentials are missing or wrong."""
