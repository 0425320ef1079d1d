"""Sessions: start, complete, cancel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from api.bookings.schemas import EXAMPLE_BOOKING, BookingSchema
from api.common.docs import TIMELINE_EXAMPLE, deprecated, documents_errors
from api.common.schemas import PaginationArgs, TimelinePageSchema
from api.database import db_session
from api.idempotency import idempotent
from api.security import current_actor, require_login
from api.sessions.schemas import (
    EXAMPLE_SESSION,
    CancelSchema,
    CapacitySchema,
    CompleteSchema,
    DisputeCreateSchema,
    DisputeSchema,
    JoinSchema,
    ParticipantListSchema,
    SessionListArgs,
    SessionPageSchema,
    SessionSchema,
    SessionUpdateSchema,
    WaitlistEntrySchema,
    WaitlistJoinSchema,
)
from workflows import history
from workflows import people as named
from workflows.calendars import feeds
from workflows.sessions import attendance, waitlists
from workflows.sessions import group as group_sessions
from workflows.sessions import lifecycle as sessions

# PATCH on start and complete: POST replaces it (see docs/integrating.md, "Versioning and deprecation").
PATCH_DEPRECATED = datetime(2026, 11, 23, tzinfo=UTC)
PATCH_SUNSET = datetime(2027, 6, 1, tzinfo=UTC)
blp = Blueprint("sessions", __name__, url_prefix="/api/v1/sessions",
                description="The meetings: scheduled → in_progress → completed, or cancelled / missed.")
blp.before_request(require_login)

COMPLETE_EXAMPLE = {"notes": "Covered sharding and caching.", "action_items": ["Read the Dynamo paper"],
                    "metadata": {"recording": False}}


@blp.route("")
class Sessions(MethodView):
    @blp.doc(operationId="listSessions")
    @blp.arguments(SessionListArgs, location="query")
    @blp.response(200, SessionPageSchema)
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Your sessions in start order, as mentee, mentor or both."""
        return sessions.list_sessions(db_session(), current_actor(), **args)


@blp.route("/<uuid:session_id>")
class SessionById(MethodView):
    @blp.doc(operationId="getSession")
    @blp.response(200, SessionSchema, example=EXAMPLE_SESSION)
    @documents_errors(blp, 401, 404)
    def get(self, session_id: uuid.UUID) -> Any:
        """One of your sessions."""
        return sessions.get_visible_session(db_session(), current_actor(), session_id)

    @blp.doc(operationId="updateSession")
    @blp.arguments(SessionUpdateSchema, example={"meeting_url": "https://meet.example.com/9d8c7b6a",
                                                 "agenda": "Walk through the design of a URL shortener."})
    @blp.response(200, SessionSchema, example=EXAMPLE_SESSION)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def patch(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Set or change the meeting URL and agenda before the session starts (mentor only; 403 for a mentee,
        400 once started or ended). The participants are told (`session.updated`)."""
        return sessions.update_session_details(db_session(), current_actor(), session_id, data)


@blp.route("/<uuid:session_id>/participants")
class SessionParticipants(MethodView):
    @blp.doc(operationId="listSessionParticipants")
    @blp.response(200, ParticipantListSchema, example={"items": [EXAMPLE_SESSION["mentee"]]})
    @documents_errors(blp, 401, 404)
    def get(self, session_id: uuid.UUID) -> Any:
        """Who takes part, by name (the session's mentor only; 404 for anyone else)."""
        return {"items": named.session_participants(db_session(), current_actor(), session_id)}


@blp.route("/<uuid:session_id>/events")
class SessionHistory(MethodView):
    @blp.doc(operationId="listSessionEvents")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, TimelinePageSchema, example=TIMELINE_EXAMPLE)
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], session_id: uuid.UUID) -> Any:
        """The session's history with its booking's, oldest first: each event's type, the part its actor took,
        and when (its participants and admins)."""
        return history.session_timeline(db_session(), current_actor(), session_id, **args)


@blp.route("/<uuid:session_id>/start")
class StartSession(MethodView):
    @blp.doc(operationId="startSession")
    @blp.response(200, SessionSchema, example={**EXAMPLE_SESSION, "status": "in_progress",
                                                "started_at": "2030-03-04T08:58:00+00:00"})
    @documents_errors(blp, 400, 401, 404)
    def post(self, session_id: uuid.UUID) -> Any:
        """Start (either participant), from `START_EARLY_MINUTES` before the start until the end."""
        return sessions.start_session(db_session(), current_actor(), session_id)

    @blp.doc(operationId="startSessionWithPatch")
    @deprecated(blp, since=PATCH_DEPRECATED, sunset=PATCH_SUNSET)
    @blp.response(200, SessionSchema, example={**EXAMPLE_SESSION, "status": "in_progress"})
    @documents_errors(blp, 400, 401, 404)
    def patch(self, session_id: uuid.UUID) -> Any:
        """Same as `POST`."""
        return sessions.start_session(db_session(), current_actor(), session_id)


@blp.route("/<uuid:session_id>/complete")
class CompleteSession(MethodView):
    @blp.doc(operationId="completeSession")
    @blp.arguments(CompleteSchema, required=False, example=COMPLETE_EXAMPLE)
    @blp.response(200, SessionSchema, example={**EXAMPLE_SESSION, "status": "completed", "completed_by": "mentor"})
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Complete a session in progress (mentor only), with notes, action items and metadata."""
        return sessions.complete_session(db_session(), current_actor(), session_id, **data)

    @blp.doc(operationId="completeSessionWithPatch")
    @deprecated(blp, since=PATCH_DEPRECATED, sunset=PATCH_SUNSET)
    @blp.arguments(CompleteSchema, required=False, example=COMPLETE_EXAMPLE)
    @blp.response(200, SessionSchema, example={**EXAMPLE_SESSION, "status": "completed", "completed_by": "mentor"})
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def patch(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Same as `POST`."""
        return sessions.complete_session(db_session(), current_actor(), session_id, **data)


@blp.route("/<uuid:session_id>/cancel")
class CancelSession(MethodView):
    @blp.doc(operationId="cancelSession")
    @blp.arguments(CancelSchema, example={"reason": "Something came up at work."})
    @blp.response(200, SessionSchema, example={**EXAMPLE_SESSION, "status": "cancelled", "cancellation": {
        "cancelled_by": "mentee", "cause": "request", "reason": "Something came up at work.", "late": True,
        "fee_cents": 4000, "credit_refunded": False, "cancelled_at": "2030-03-03T20:00:00+00:00"}})
    @documents_errors(blp, 400, 401, 404, 422)
    def post(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Cancel a scheduled session (either participant). A mentee less than `CANCELLATION_WINDOW_HOURS`
        (24 h) before the start pays `CANCELLATION_FEE_PERCENT` of the price, or, on a bundle booking,
        forfeits the credit instead; a mentor is never late. A mentee of a group session gives up their
        seat, whose booking records it (`cancel_late`, `cancel_fee_cents`), and the session goes on."""
        return sessions.cancel_session(db_session(), current_actor(), session_id,
                                                     reason=data["reason"])


@blp.route("/<uuid:session_id>/check-in")
class CheckIn(MethodView):
    @blp.doc(operationId="checkInToSession")
    @blp.response(200, SessionSchema, example=EXAMPLE_SESSION)
    @documents_errors(blp, 400, 401, 404)
    def post(self, session_id: uuid.UUID) -> Any:
        """Say you are here (either participant), from `START_EARLY_MINUTES` (15) before the start until the end;
        starting the session checks its starter in. A second check-in changes nothing. The others see it in
        `attendance` (`session.checked_in`)."""
        return attendance.check_in(db_session(), current_actor(), session_id)


@blp.route("/<uuid:session_id>/no-show")
class ReportNoShow(MethodView):
    @blp.doc(operationId="reportNoShow")
    @blp.response(200, SessionSchema, example={**EXAMPLE_SESSION, "status": "mentee_no_show"})
    @documents_errors(blp, 400, 401, 404, 409)
    def post(self, session_id: uuid.UUID) -> Any:
        """Report the other side absent, once you checked in and `NO_SHOW_GRACE_MINUTES` (10) after the start: the
        mentor reports the mentee (`mentee_no_show`; a group's mentor, when no mentee checked in), a mentee the
        mentor (`mentor_no_show`). A mentee's absence forfeits the bundle credit or costs the late fee; a mentor's
        returns the credit and costs nothing. 409 when the other side checked in."""
        return attendance.report_no_show(db_session(), current_actor(), session_id)


@blp.route("/<uuid:session_id>/attendance-disputes")
class DisputeAttendance(MethodView):
    @blp.doc(operationId="disputeAttendance")
    @idempotent(blp)
    @blp.arguments(DisputeCreateSchema, example={"reason": "I was in the meeting room from 9:00; nobody came."})
    @blp.response(201, DisputeSchema)
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Dispute who was found absent from your meeting, within `NO_SHOW_DISPUTE_HOURS` (48) of the finding; an
        administrator decides (`/admin/disputes`). One dispute per meeting: 409 for a second."""
        return attendance.dispute(db_session(), current_actor(), session_id, **data)


@blp.route("/<uuid:session_id>/join")
class JoinSession(MethodView):
    @blp.doc(operationId="joinGroupSession")
    @idempotent(blp)
    @blp.arguments(JoinSchema, required=False, example={"bundle_purchase_id": None})
    @blp.response(201, BookingSchema, example={**EXAMPLE_BOOKING, "status": "accepted",
                                                "session_id": EXAMPLE_SESSION["id"],
                                                "group_session_id": EXAMPLE_SESSION["id"]})
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Take a seat in a group session (accepted at once), optionally with a bundle credit; 409 when full,
        already joined, or you hold another accepted booking or seat at that time."""
        return group_sessions.join_group_session(db_session(), current_actor(), session_id, **data)


def _with_position(entry: Any) -> dict[str, Any]:
    fields = ("id", "session_id", "status", "take_at_once", "offered_at", "offer_expires_at", "booking_id", "note",
              "created_at")
    return {**{name: getattr(entry, name) for name in fields}, "position": waitlists.position(db_session(), entry)}


@blp.route("/<uuid:session_id>/waitlist")
class Waitlist(MethodView):
    @blp.doc(operationId="joinWaitlist")
    @blp.arguments(WaitlistJoinSchema, required=False, example={"take_at_once": False})
    @blp.response(201, WaitlistEntrySchema)
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Join the line of a full group session, first come first served: a freed seat goes to the first in line,
        offered for `WAITLIST_OFFER_MINUTES` (never past an hour before the start), or given at once with
        `take_at_once`. 409 when a seat is free (join the session instead), or you hold a seat or are in line."""
        return _with_position(waitlists.join(db_session(), current_actor(), session_id, **data))

    @blp.doc(operationId="getWaitlistPlace")
    @blp.response(200, WaitlistEntrySchema)
    @documents_errors(blp, 401, 404)
    def get(self, session_id: uuid.UUID) -> Any:
        """Your place in this session's line: your position while waiting, the offer and its end once offered."""
        return _with_position(waitlists.mine(db_session(), current_actor(), session_id))

    @blp.doc(operationId="leaveWaitlist")
    @blp.response(204)
    @documents_errors(blp, 401, 404)
    def delete(self, session_id: uuid.UUID) -> Any:
        """Leave the line, or decline the seat offered to you: it goes to the next in line."""
        waitlists.leave(db_session(), current_actor(), session_id)
        return None


@blp.route("/<uuid:session_id>/capacity")
class Capacity(MethodView):
    @blp.doc(operationId="setGroupSessionCapacity")
    @blp.arguments(CapacitySchema, example={"capacity": 12})
    @blp.response(200, SessionSchema, example=EXAMPLE_SESSION)
    @documents_errors(blp, 400, 401, 403, 404, 409, 422)
    def put(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Change a group session's seats (its mentor): never below those taken and offered; new seats go to the
        first in line."""
        return group_sessions.set_capacity(db_session(), current_actor(), session_id, data["capacity"])


@blp.route("/<uuid:session_id>/calendar.ics")
class SessionCalendarFile(MethodView):
    @blp.doc(operationId="getSessionCalendarFile")
    @blp.doc(responses={"200": {"description": "The session as an iCalendar file.", "content": {
        "text/calendar": {"schema": {"type": "string"}}}}})
    @documents_errors(blp, 401, 404)
    def get(self, session_id: uuid.UUID) -> Response:
        """One of your sessions as an `.ics` file, for "Add to calendar" (its UID and SEQUENCE are the calendar
        feed's: importing it again, or subscribing later, updates the same event)."""
        body = feeds.session_file(db_session(), current_actor(), session_id)
        return Response(body, mimetype="text/calendar",
                        headers={"Content-Disposition": f'attachment; filename="session-{session_id}.ics"'})
