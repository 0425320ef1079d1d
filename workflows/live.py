"""Who sees a domain event live, and how it looks to them: channels and SSE frames."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

# Event types whose change frees or takes a mentor's time, so the slots of their listings move.
SLOT_EVENTS = frozenset({
    "booking.accepted", "booking.cancelled", "session.scheduled", "session.cancelled",
})


def user_channel(prefix: str, user_id: uuid.UUID | str) -> str:
    return f"{prefix}live:user:{user_id}"


def mentor_channel(prefix: str, mentor_profile_id: uuid.UUID | str) -> str:
    return f"{prefix}live:mentor:{mentor_profile_id}"


def slots_channel(prefix: str, mentor_profile_id: uuid.UUID | str) -> str:
    return f"{prefix}live:slots:{mentor_profile_id}"


def mentee_ids(payload: dict[str, Any]) -> list[str]:
    many = payload.get("mentee_user_ids")
    if isinstance(many, list):
        return [str(m) for m in many]
    return [str(payload["mentee_user_id"])] if payload.get("mentee_user_id") else []


def channels_for(prefix: str, event_type: str, payload: dict[str, Any]) -> list[str]:
    """The channels an event goes to: each mentee's, the mentor's, and the mentor's slots."""
    channels = [user_channel(prefix, mentee) for mentee in mentee_ids(payload)]
    mentor = payload.get("mentor_profile_id")
    if mentor:
        channels.append(mentor_channel(prefix, mentor))
        if event_type in SLOT_EVENTS:
            channels.append(slots_channel(prefix, mentor))
    return channels


def message(event_id: uuid.UUID | str, event_type: str, payload: dict[str, Any]) -> str:
    return json.dumps({"id": str(event_id), "type": event_type, "data": payload}, separators=(",", ":"))


def frame(event_id: str, event_type: str, data: dict[str, Any]) -> str:
    """One Server-Sent Event."""
    return f"id: {event_id}\nevent: {event_type}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def visible_to(payload: dict[str, Any], user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None) -> bool:
    return str(user_id) in mentee_ids(payload) or (
        mentor_profile_id is not None and payload.get("mentor_profile_id") == str(mentor_profile_id)
    )


def subscriptions(prefix: str, user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None,
                  slot_mentors: Iterable[uuid.UUID]) -> list[str]:
    channels = [user_channel(prefix, user_id)]
    if mentor_profile_id is not None:
        channels.append(mentor_channel(prefix, mentor_profile_id))
    channels.extend(slots_channel(prefix, mentor) for mentor in slot_mentors)
    return channels
