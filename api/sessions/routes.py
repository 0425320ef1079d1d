"""Sessions: start, complete, cancel."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.bookings.schemas import EXAMPLE_BOOKING, BookingSchema
from api.common.docs import documents_errors
from api.database import db_session
from api.idempotency import idempotent
from api.security import current_actor, require_login
from api.sessions.schemas import (
    EXAMPLE_SESSION,
    CancelSchema,
    CompleteSchema,
    SessionListArgs,
    SessionPageSchema,
    SessionSchema,
)
from workflows import sessions
from workflows.bookings import BookingView

blp = Blueprint("sessions", __name__, url_prefix="/api/v1/sessions",
                description="The meetings: scheduled → in_progress → completed, or cancelled / missed.")
blp.before_request(require_login)

COMPLETE_EXAMPLE = {"notes": "Covered sharding and caching.", "action_items": ["Read the Dynamo paper"],
                    "metadata": {"recording": False}}


@blp.route("")
class Sessions(MethodView):
    @blp.arguments(SessionListArgs, location="query")
    @blp.response(200, SessionPageSchema)
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Your sessions in start order, as mentee, mentor or both."""
        return sessions.list_sessions(db_session(), current_actor(), **args)


@blp.route("/<uuid:session_id>")
class SessionById(MethodView):
    @blp.response(200, SessionSchema, example=EXAMPLE_SESSION)
    @documents_errors(blp, 401, 404)
    def get(self, session_id: uuid.UUID) -> Any:
        """One of your sessions."""
        return sessions.get_visible_session(db_session(), current_actor(), session_id)


@blp.route("/<uuid:session_id>/start")
class StartSession(MethodView):
    @blp.response(200, SessionSchema, example={**EXAMPLE_SESSION, "status": "in_progress",
                                                "started_at": "2030-03-04T08:58:00+00:00"})
    @documents_errors(blp, 400, 401, 404)
    def post(self, session_id: uuid.UUID) -> Any:
        """Start (either participant), from `START_EARLY_MINUTES` before the start until the end."""
        return sessions.start_session(db_session(), current_actor(), session_id)

    @blp.response(200, SessionSchema, example={**EXAMPLE_SESSION, "status": "in_progress"})
    @documents_errors(blp, 400, 401, 404)
    def patch(self, session_id: uuid.UUID) -> Any:
        """Same as `POST`."""
        return sessions.start_session(db_session(), current_actor(), session_id)


@blp.route("/<uuid:session_id>/complete")
class CompleteSession(MethodView):
    @blp.arguments(CompleteSchema, required=False, example=COMPLETE_EXAMPLE)
    @blp.response(200, SessionSchema, example={**EXAMPLE_SESSION, "status": "completed", "completed_by": "mentor"})
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Complete a session in progress (mentor only), with notes, action items and metadata."""
        return sessions.complete_session(db_session(), current_actor(), session_id, **data)

    @blp.arguments(CompleteSchema, required=False, example=COMPLETE_EXAMPLE)
    @blp.response(200, SessionSchema, example={**EXAMPLE_SESSION, "status": "completed", "completed_by": "mentor"})
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def patch(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Same as `POST`."""
        return sessions.complete_session(db_session(), current_actor(), session_id, **data)


@blp.route("/<uuid:session_id>/cancel")
class CancelSession(MethodView):
    @blp.arguments(CancelSchema, example={"reason": "Something came up at work."})
    @blp.response(200, SessionSchema, example={**EXAMPLE_SESSION, "status": "cancelled", "cancellation": {
        "cancelled_by": "mentee", "reason": "Something came up at work.", "late": True, "fee_cents": 4000,
        "credit_refunded": False, "cancelled_at": "2030-03-03T20:00:00+00:00"}})
    @documents_errors(blp, 400, 401, 404, 422)
    def post(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Cancel a scheduled session (either participant). A mentee within 24 h of the start pays the fee."""
        return sessions.cancel_session(db_session(), current_actor(), session_id, reason=data["reason"])


@blp.route("/<uuid:session_id>/join")
class JoinSession(MethodView):
    @idempotent(blp)
    @blp.response(201, BookingSchema, example={**EXAMPLE_BOOKING, "status": "accepted"})
    @documents_errors(blp, 400, 401, 404, 409)
    def post(self, session_id: uuid.UUID) -> Any:
        """Take a seat in a group session (accepted at once); 409 when full or already joined."""
        seat = sessions.join_group_session(db_session(), current_actor(), session_id)
        return BookingView(seat, seat.group_session_id)
