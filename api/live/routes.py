"""Live updates for the booking screens: Server-Sent Events (see :mod:`api.live.stream`)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask.blueprints import BlueprintSetupState
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.common.docs import documents_errors
from api.common.schemas import Schema, Text
from api.errors import http_error
from api.live import tickets
from api.live.slots import EXTENSION, StreamSlots
from api.live.stream import live_response
from api.security import act_as, current_credential, require_login
from infra.config import Settings
from workflows.errors import Unauthenticated

blp = Blueprint("live", __name__, url_prefix="/api/v1/events", description="Live updates (Server-Sent Events).")
TICKET_PARAMETER = "ticket"


@blp.before_request
def _authenticate() -> None:
    """A bearer token in the header; the stream also takes a ticket in the URL instead (never a token)."""
    if request.endpoint == "live.EventStream" and TICKET_PARAMETER in request.args:
        _redeem(request.args[TICKET_PARAMETER])
    else:
        require_login()


def _redeem(ticket: str) -> None:
    settings: Settings = current_app.extensions["settings"]
    try:
        holder = tickets.redeem(current_app.extensions["redis"], settings.redis_key_prefix, ticket)
    except tickets.Unavailable:
        raise http_error(503, "live updates are unavailable right now; retry shortly",
                         headers={"Retry-After": "5"}) from None
    if holder is None:
        raise Unauthenticated("the stream ticket is unknown, used or expired; ask for a new one")
    act_as(holder)


@blp.record_once
def _install_slots(state: BlueprintSetupState) -> None:
    state.app.extensions[EXTENSION] = StreamSlots.for_app(state.app)


class StreamArgs(Schema):
    listing_id = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=20),
                             metadata={"description": "Also stream slot changes of these listings (repeatable)."})
    ticket = Text(load_default=None, validate=validate.Length(min=1, max=100), metadata={
        "description": "A ticket from `POST /events/tickets`, instead of the `Authorization` header "
                       "(a browser's `EventSource` cannot send headers). Single-use; a bearer token is never "
                       "accepted here."})
    last_event_id = Text(load_default="", validate=validate.Length(max=100), metadata={
        "description": "Resume after this event id, as the `Last-Event-ID` header does (which wins when both "
                       "are sent): for a browser reopening its stream with a new ticket."})


class TicketSchema(Schema):
    ticket = fields.String(metadata={"description": "Pass as `?ticket=` to `GET /events/stream`, once.",
                                     "example": "kq2m1Zr8p0x3yG6wTt5vH9sJ4bN7cE2aLdUfQiRoXeY"})
    expires_at = fields.DateTime(metadata={"description": "Unused after this, the ticket is void.",
                                           "example": "2030-03-04T09:01:00+00:00"})


@blp.route("/tickets")
class StreamTickets(MethodView):
    @blp.doc(operationId="createStreamTicket")
    @blp.response(201, TicketSchema)
    @documents_errors(blp, 401, 503)
    def post(self) -> Any:
        """A single-use ticket that opens one live stream within `EVENT_TICKET_TTL_SECONDS` (default 60 s).

        For browsers: `new EventSource("/api/v1/events/stream?ticket=…")`. To reconnect, ask for a new
        ticket and pass the last event id as `last_event_id`. Signing out voids unused tickets.
        """
        settings: Settings = current_app.extensions["settings"]
        try:
            return tickets.issue(current_app.extensions["redis"], settings.redis_key_prefix, current_credential(),
                                 settings.event_ticket_ttl_seconds)
        except tickets.Unavailable:
            raise http_error(503, "live updates are unavailable right now; retry shortly",
                             headers={"Retry-After": "5"}) from None


@blp.route("/stream")
class EventStream(MethodView):
    @blp.doc(operationId="streamEvents")
    @blp.arguments(StreamArgs, location="query")
    @blp.doc(parameters=[{"in": "header", "name": "Last-Event-ID", "required": False, "schema": {"type": "string"},
                          "description": "Resume after this event id; missed events are replayed. When they "
                                         "cannot all be (the id is older than the retention horizon, or "
                                         "unknown), the stream starts with a `reset` event instead: reload."}],
             responses={"200": {"description": "A stream of `id:`, `event:`, `data:` frames. A participant's "
                                               "`data` is the booking, session or review as its `GET` returns "
                                               "it to them now; a watched listing's, that its slots changed.",
                                "content": {"text/event-stream": {"schema": {"type": "string"}, "example":
                                            'id: 3f0c…\nevent: booking.accepted\ndata: {"id": "…"}\n\n'}}}})
    @documents_errors(blp, 401, 422, 429, 503)
    def get(self, args: dict[str, Any]) -> Response:
        """Your bookings' and sessions' changes, and slot changes of the listings you watch, as they happen.

        Authenticate with the `Authorization` header, or with `?ticket=` from `POST /events/tickets`.
        Each user may hold `SSE_MAX_STREAMS_PER_USER` streams at once (429 with `Retry-After` beyond).
        """
        return live_response(args["listing_id"], request.headers.get("Last-Event-ID") or args["last_event_id"])
