"""Live updates for the booking screens: Server-Sent Events.

Long-lived streams must not starve the request workers. The API runs gunicorn's
``gthread`` workers; a stream occupies one thread, never a process, and each
process admits at most ``SSE_MAX_STREAMS_PER_PROCESS`` streams at once (the next
gets 503 with ``Retry-After``), leaving the remaining threads to ordinary
requests. A stream holds no database connection while it waits, and ends after
``SSE_MAX_SECONDS``; the client reconnects with ``Last-Event-ID`` and loses nothing:
missed events are replayed from the outbox table, live ones come from Redis pub/sub.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import redis
from flask import Response, current_app, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.common.docs import documents_errors
from api.database import db_session
from api.errors import http_error
from api.security import current_actor, require_login
from workflows import live
from workflows.actors import Actor
from workflows.config import Settings
from workflows.live_replay import events_after, mentors_of_listings

blp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="Live updates (Server-Sent Events).")
blp.before_request(require_login)

KEEP_ALIVE_SECONDS = 15.0


class StreamArgs(ma.Schema):
    listing_id = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=20),
                             metadata={"description": "Also stream slot changes of these listings (repeatable)."})


def _slots_view(event_id: str, event_type: str, payload: dict[str, Any], listings: dict[uuid.UUID, uuid.UUID]
                ) -> list[str]:
    """What a watcher who takes no part sees: that some time of the listing changed, nothing private."""
    mentor = payload.get("mentor_profile_id")
    return [
        live.frame(event_id, event_type, {"listing_id": str(listing_id), "start_time": payload.get("start_time"),
                                          "end_time": payload.get("end_time"), "slots_changed": True})
        for listing_id, listing_mentor in listings.items() if str(listing_mentor) == mentor
    ]


@blp.route("/stream")
class EventStream(MethodView):
    @blp.arguments(StreamArgs, location="query")
    @blp.doc(parameters=[{"in": "header", "name": "Last-Event-ID", "required": False, "schema": {"type": "string"},
                          "description": "Resume after this event id; missed events are replayed."}],
             responses={"200": {"description": "A stream of `id:`, `event:`, `data:` frames.",
                                "content": {"text/event-stream": {"schema": {"type": "string"}, "example":
                                            'id: 3f0c…\nevent: booking.accepted\ndata: {"id": "…"}\n\n'}}}})
    @documents_errors(blp, 401, 422, 503)
    def get(self, args: dict[str, Any]) -> Response:
        """Your bookings' and sessions' changes, and slot changes of the listings you watch, as they happen."""
        settings: Settings = current_app.extensions["settings"]
        gate: threading.BoundedSemaphore = current_app.extensions["sse_gate"]
        if not gate.acquire(blocking=False):
            raise http_error(503, "too many live streams on this server; retry shortly",
                             headers={"Retry-After": "5"})
        try:
            stream = LiveStream.open(settings, gate, args["listing_id"], request.headers.get("Last-Event-ID", ""))
        except BaseException:
            gate.release()
            raise
        response = Response(stream_with_context(iter(stream)), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response


@dataclass
class LiveStream:
    """One client's stream: subscribed channels, the replayed history, then live events."""

    settings: Settings
    gate: threading.BoundedSemaphore
    actor: Actor
    listings: dict[uuid.UUID, uuid.UUID]
    pubsub: redis.client.PubSub
    replay: list[tuple[str, str, dict[str, Any]]]

    @classmethod
    def open(cls, settings: Settings, gate: threading.BoundedSemaphore, listing_ids: list[uuid.UUID],
             last_event_id: str) -> LiveStream:
        actor = current_actor()
        db = db_session()
        listings = mentors_of_listings(db, listing_ids)
        mentors = list(set(listings.values()))
        client: redis.Redis = current_app.extensions["health_redis"]
        pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        # Subscribe before reading the history, so nothing falls between the two.
        pubsub.subscribe(*live.subscriptions(settings.redis_key_prefix, actor.user_id, actor.mentor_profile_id,
                                             mentors))
        resume_id = _uuid(last_event_id)
        replay = [] if resume_id is None else [
            (str(e.id), e.type, e.payload)
            for e in events_after(db, resume_id, actor.user_id, actor.mentor_profile_id, mentors)
        ]
        return cls(settings, gate, actor, listings, pubsub, replay)

    def frames(self, event_id: str, event_type: str, payload: dict[str, Any]) -> list[str]:
        if live.visible_to(payload, self.actor.user_id, self.actor.mentor_profile_id):
            return [live.frame(event_id, event_type, payload)]
        return _slots_view(event_id, event_type, payload, self.listings)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        try:
            yield "retry: 3000\n\n"
            for event_id, event_type, payload in self.replay:
                seen.add(event_id)
                yield from self.frames(event_id, event_type, payload)
            deadline = time.monotonic() + self.settings.sse_max_seconds
            quiet_since = time.monotonic()
            while (left := deadline - time.monotonic()) > 0:
                message = self.pubsub.get_message(timeout=min(1.0, left))
                if message and message.get("type") == "message":
                    event = json.loads(message["data"])
                    if event["id"] in seen:
                        continue
                    seen.add(event["id"])
                    for text in self.frames(event["id"], event["type"], event["data"]):
                        quiet_since = time.monotonic()
                        yield text
                elif time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
                    quiet_since = time.monotonic()
                    yield ": keep-alive\n\n"
        except redis.RedisError:
            return  # the client reconnects with Last-Event-ID
        finally:
            self.pubsub.close()
            self.gate.release()


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
