"""Live updates for the booking screens: Server-Sent Events (see :mod:`api.events.stream`)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.blueprints import BlueprintSetupState
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.common.docs import documents_errors
from api.events.slots import EXTENSION, StreamSlots
from api.events.stream import live_response
from api.security import require_login

blp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="Live updates (Server-Sent Events).")
blp.before_request(require_login)


@blp.record_once
def _install_slots(state: BlueprintSetupState) -> None:
    state.app.extensions[EXTENSION] = StreamSlots.for_app(state.app)


class StreamArgs(ma.Schema):
    listing_id = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=20),
                             metadata={"description": "Also stream slot changes of these listings (repeatable)."})


@blp.route("/stream")
class EventStream(MethodView):
    @blp.arguments(StreamArgs, location="query")
    @blp.doc(parameters=[{"in": "header", "name": "Last-Event-ID", "required": False, "schema": {"type": "string"},
                          "description": "Resume after this event id; missed events are replayed. When they "
                                         "cannot all be (the id is older than the retention horizon, or "
                                         "unknown), the stream starts with a `reset` event instead: reload."}],
             responses={"200": {"description": "A stream of `id:`, `event:`, `data:` frames.",
                                "content": {"text/event-stream": {"schema": {"type": "string"}, "example":
                                            'id: 3f0c…\nevent: booking.accepted\ndata: {"id": "…"}\n\n'}}}})
    @documents_errors(blp, 401, 422, 429, 503)
    def get(self, args: dict[str, Any]) -> Response:
        """Your bookings' and sessions' changes, and slot changes of the listings you watch, as they happen.

        Each user may hold `SSE_MAX_STREAMS_PER_USER` streams at once (429 with `Retry-After` beyond).
        """
        return live_response(args["listing_id"], request.headers.get("Last-Event-ID", ""))
