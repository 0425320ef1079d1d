"""The one place the domain reads the time, so tests and tasks agree on 'now'."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
