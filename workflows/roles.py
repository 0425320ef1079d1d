from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Who makes a transition."""

    MENTOR = "mentor"
    MENTEE = "mentee"
    SYSTEM = "system"
