"""Enumerations stored as text with check constraints."""

from __future__ import annotations

from enum import StrEnum


class ListingKind(StrEnum):
    INDIVIDUAL = "individual"
    GROUP = "group"


class BookingStatus(StrEnum):
    DRAFT = "draft"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    MISSED = "missed"


class HandlerStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"


def check_in(column: str, enum: type[StrEnum]) -> str:
    """SQL for a check constraint limiting ``column`` to the enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"
