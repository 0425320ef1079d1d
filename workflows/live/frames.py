"""Who sees a domain event live, and how it looks to them: channels and SSE frames."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from infra import live_publish
from infra.channels import mentor_channel, slots_channel, user_channel
from infra.config import get_settings
from models import OutboxEvent
from workflows.events import DomainEvent, EventType, from_outbox
from workflows.roles import Role

# How a participant's stream shows an event: the resource as they may see it (the API's REST view).
Show = Callable[[DomainEvent, Role], dict[str, Any]]

# Event types whose change frees or takes a mentor's time, so the slots of their listings move.
SLOT_EVENTS = frozenset({
    EventType.BOOKING_ACCEPTED, EventType.BOOKING_CANCELLED, EventType.SESSION_SCHEDULED, EventType.SESSION_CANCELLED,
    EventType.SCHEDULE_CHANGED, EventType.BOOKING_RESCHEDULED,
})


def channels_for(prefix: str, event: DomainEvent) -> list[str]:
    """The channels an event goes to: each participating mentee's (and coordinator's), the mentor's, and the
    mentor's slots.

    Each stream turns the message into what its user may see (:func:`frames`).
    """
    people = event.participants
    channels = [user_channel(prefix, user_id) for user_id in people.user_ids]
    if people.mentor_profile_id is not None:
        channels.append(mentor_channel(prefix, people.mentor_profile_id))
        if event.type in SLOT_EVENTS:
            channels.append(slots_channel(prefix, people.mentor_profile_id))
    return channels


def publish_committed(events: Sequence[OutboxEvent]) -> None:
    """After a commit: to each channel of the people they concern, the transaction's events for it as one message,
    a JSON array in the order they were written (best effort: ``infra.live_publish``). A series accepted is one
    message per channel, not one per time and channel; each event is encoded once, whatever its channels."""
    prefix = get_settings().redis_key_prefix
    batches: dict[str, list[str]] = {}
    for event in events:
        text = message(event.id, event.type, event.payload)
        for channel in channels_for(prefix, from_outbox(event)):
            batches.setdefault(channel, []).append(text)
    live_publish.publish([(channel, f"[{','.join(texts)}]") for channel, texts in batches.items()])


def message(event_id: uuid.UUID | str, event_type: str, payload: dict[str, Any]) -> str:
    return json.dumps({"id": str(event_id), "type": event_type, "data": payload}, separators=(",", ":"))


def events_of(data: str | bytes) -> list[dict[str, Any]]:
    """The events of one message, in the order written: a transaction's array (:func:`publish_committed`), or one
    event alone, as a process of the version before sends it while an API is updated one process at a time."""
    batch = json.loads(data)
    return batch if isinstance(batch, list) else [batch]


def frame(event_id: str, event_type: str, data: dict[str, Any]) -> str:
    """One Server-Sent Event."""
    return f"id: {event_id}\nevent: {event_type}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def frames(event: DomainEvent, user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None,
           watched: Mapping[uuid.UUID, Collection[uuid.UUID]], show: Show | None = None) -> list[str]:
    """What one user's stream shows of an event: to a participant, the resource as ``show`` renders it for
    their part (by default the event's own view for that part); else, for each watched listing (listing
    id -> its mentors) taught by the event's mentor, that its slots changed."""
    role = event.role_of(user_id, mentor_profile_id)
    if role is not None:
        return [frame(str(event.id), event.type, show(event, role) if show else event.view_for(role))]
    payload: Mapping[str, Any] = event.payload
    return [
        frame(str(event.id), event.type, {"listing_id": str(listing_id), "start_time": payload.get("start_time"),
                                          "end_time": payload.get("end_time"), "slots_changed": True})
        for listing_id, mentors in watched.items() if event.participants.mentor_profile_id in mentors
    ]


def subscriptions(prefix: str, user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None,
                  slot_mentors: Iterable[uuid.UUID]) -> list[str]:
    channels = [user_channel(prefix, user_id)]
    if mentor_profile_id is not None:
        channels.append(mentor_channel(prefix, mentor_profile_id))
    channels.extend(slots_channel(prefix, mentor) for mentor in slot_mentors)
    return channels
