from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is acting, as established by a verified token."""

    user_id: uuid.UUID
    is_admin: bool = False
    mentor_profile_id: uuid.UUID | None = None

    def __str__(self) -> str:
        return f"user:{self.user_id}"

    def as_admin(self) -> str:
        """How an admin acting on someone else's booking or session is recorded (the events' ``actor``)."""
        return f"{ADMIN_ACTOR_PREFIX}{self.user_id}"


ADMIN_ACTOR_PREFIX = "admin:"
