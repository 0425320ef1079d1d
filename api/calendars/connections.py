"""A mentor's own calendars: connecting them, choosing which count as busy and which receives sessions."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.calendars.connection_schemas import (
    EXAMPLE_CONNECTION,
    ConnectionCreateSchema,
    ConnectionListSchema,
    ConnectionPatchSchema,
    ConnectionSchema,
)
from api.common.docs import documents_errors
from api.database import db_session, end_transaction, session_factory
from api.ratelimit import limit_calendar_changes
from api.security import current_actor, require_login
from models import CalendarConnection
from workflows.calendars import connections as calendar_connections
from workflows.calendars import writes as calendar_writes
from workflows.calendars.writes import Backlog

blp = Blueprint("calendar_connections", __name__, url_prefix="/api/v1/calendar-connections",
                description="A mentor's own calendars: their busy times block slots; sessions are written to one.")
blp.before_request(require_login)


def shown(connection: CalendarConnection) -> dict[str, Any]:
    sources = calendar_connections.sources_of(db_session(), [connection.id])[connection.id]
    owed = calendar_writes.backlog(db_session(), [s.id for s in sources])
    return {**{name: getattr(connection, name) for name in ("id", "kind", "host", "status", "synced_at",
                                                            "last_error", "last_error_at", "created_at")},
            "calendars": [{**{name: getattr(s, name) for name in ("id", "name", "busy", "target", "writable")},
                           "writes_owed": owed.get(s.id, Backlog()).owed,
                           "last_write_error": owed.get(s.id, Backlog()).last_error} for s in sources]}


@blp.route("")
class Connections(MethodView):
    @blp.doc(operationId="listCalendarConnections")
    @blp.response(200, ConnectionListSchema, example={"items": [EXAMPLE_CONNECTION]})
    @documents_errors(blp, 401)
    def get(self) -> Any:
        """Your calendar connections (a mentor's), each with its calendars, its last sync and its last error."""
        return {"items": [shown(c) for c in calendar_connections.list_connections(db_session(), current_actor())]}

    @blp.doc(operationId="connectCalendar")
    @blp.arguments(ConnectionCreateSchema, example={"kind": "caldav", "url": "https://caldav.fastmail.com/",
                                                    "username": "grace@fastmail.com", "password": "app-password"})
    @blp.response(201, ConnectionSchema, example=EXAMPLE_CONNECTION)
    @documents_errors(blp, 401, 403, 409, 422, 429)
    def post(self, data: dict[str, Any]) -> Any:
        """Connect a CalDAV account (its calendars are found at once: 422 when the server cannot be reached, is no
        CalDAV server, or refuses the credentials) or a secret iCalendar address. The address is checked as webhook
        URLs are; credentials are kept encrypted and never shown. Every calendar counts as busy until you choose; the
        first sync follows. One connect at a time (429 while another of yours runs), `CALENDAR_RATE_LIMIT` a user."""
        actor = current_actor()
        limit_calendar_changes(str(actor.user_id))
        end_transaction()  # no connection held while the server is asked
        connection_id = calendar_connections.connect_apart(session_factory().begin, actor, **data)
        return shown(calendar_connections.own_connection(db_session(), actor, connection_id))


@blp.route("/<uuid:connection_id>")
class ConnectionById(MethodView):
    @blp.doc(operationId="getCalendarConnection")
    @blp.response(200, ConnectionSchema, example=EXAMPLE_CONNECTION)
    @documents_errors(blp, 401, 404)
    def get(self, connection_id: uuid.UUID) -> Any:
        """One of your connections."""
        return shown(calendar_connections.own_connection(db_session(), current_actor(), connection_id))

    @blp.doc(operationId="updateCalendarConnection")
    @blp.arguments(ConnectionPatchSchema, example={"calendars": [{"id": EXAMPLE_CONNECTION["calendars"][0]["id"],
                                                                  "busy": True, "target": True}]})
    @blp.response(200, ConnectionSchema, example=EXAMPLE_CONNECTION)
    @documents_errors(blp, 401, 403, 404, 422, 429)
    def patch(self, data: dict[str, Any], connection_id: uuid.UUID) -> Any:
        """Choose which calendars count as busy and which one receives your sessions (one for all your connections;
        422 for a read-only one); give a new app password to a broken connection. It syncs again at once (a sync
        under way is that one), `CALENDAR_RATE_LIMIT` a user."""
        actor = current_actor()
        limit_calendar_changes(str(actor.user_id))
        return shown(calendar_connections.update(db_session(), actor, connection_id, **data))

    @blp.doc(operationId="disconnectCalendar")
    @blp.response(204)
    @documents_errors(blp, 401, 404)
    def delete(self, connection_id: uuid.UUID) -> Any:
        """Disconnect: its credentials, its calendars and every busy time read from it are deleted."""
        calendar_connections.disconnect(db_session(), current_actor(), connection_id)
        return None
