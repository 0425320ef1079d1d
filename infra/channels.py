"""Redis pub/sub channel names for live updates: one per user, per mentor, and per mentor's slots."""

from __future__ import annotations

import uuid


def user_channel(prefix: str, user_id: uuid.UUID | str) -> str:
    return f"{prefix}live:user:{user_id}"


def mentor_channel(prefix: str, mentor_profile_id: uuid.UUID | str) -> str:
    return f"{prefix}live:mentor:{mentor_profile_id}"


def slots_channel(prefix: str, mentor_profile_id: uuid.UUID | str) -> str:
    return f"{prefix}live:slots:{mentor_profile_id}"
