"""Booking requests and the mentor's decisions."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from api.bookings.schemas import (
    EXAMPLE_BOOKING,
    BookingCreateSchema,
    BookingListArgs,
    BookingPageSchema,
    BookingPolicySchema,
    BookingSchema,
    ReasonSchema,
)
from api.common.docs import TIMELINE_EXAMPLE, documents_errors
from api.common.schemas import PaginationArgs, TimelinePageSchema
from api.database import db_session, end_transaction, session_factory
from api.idempotency import idempotent
from api.security import current_actor, require_login
from workflows import history
from workflows.bookings import lifecycle as bookings
from workflows.bookings import requests
from workflows.calendars import sync as calendar_sync

blp = Blueprint("bookings", __name__, url_prefix="/api/v1/bookings",
                description="Mentees request; mentors accept or decline. Accepting creates the session.")
blp.before_request(require_login)


@blp.route("/policy")
class Policy(MethodView):
    @blp.doc(operationId="getBookingPolicy")
    @blp.response(200, BookingPolicySchema)
    @documents_errors(blp, 401)
    def get(self) -> Any:
        """The notice, early start and cancellation rules in force, for a client to show before acting."""
        return current_app.extensions["settings"]


@blp.route("")
class Bookings(MethodView):
    @blp.doc(operationId="listBookings")
    @blp.arguments(BookingListArgs, location="query")
    @blp.response(200, BookingPageSchema)
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Your bookings, newest first, as mentee, mentor or both."""
        return bookings.list_bookings(db_session(), current_actor(), **args)

    @blp.doc(operationId="requestBooking")
    @idempotent(blp)
    @blp.arguments(BookingCreateSchema, example={
        "listing_id": EXAMPLE_BOOKING["listing_id"], "start_time": "2030-03-04T09:00:00Z",
        "notes": "I'd like to practise a system design interview."})
    @blp.response(201, BookingSchema, example=EXAMPLE_BOOKING)
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Request a booking (status `draft`). It must fit the mentor's availability windows."""
        return requests.request_booking(db_session(), current_actor(), **data)


@blp.route("/<uuid:booking_id>")
class BookingById(MethodView):
    @blp.doc(operationId="getBooking")
    @blp.response(200, BookingSchema, example={**EXAMPLE_BOOKING, "status": "accepted",
                                                "session_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"})
    @documents_errors(blp, 401, 404)
    def get(self, booking_id: uuid.UUID) -> Any:
        """One of your bookings, with `session_id` once the session exists."""
        return bookings.get_visible_booking(db_session(), current_actor(), booking_id)


@blp.route("/<uuid:booking_id>/events")
class BookingHistory(MethodView):
    @blp.doc(operationId="listBookingEvents")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, TimelinePageSchema, example=TIMELINE_EXAMPLE)
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], booking_id: uuid.UUID) -> Any:
        """The booking's history, oldest first: each event's type, the part its actor took, and when
        (its participants and admins)."""
        return history.booking_timeline(db_session(), current_actor(), booking_id, **args)


@blp.route("/<uuid:booking_id>/accept")
class AcceptBooking(MethodView):
    @blp.doc(operationId="acceptBooking")
    @blp.response(200, BookingSchema, example={**EXAMPLE_BOOKING, "status": "accepted"}, headers={
        "Calendar-Synced-At": {"schema": {"type": "string", "format": "date-time"}, "description":
                               "When the mentor's own calendars were last read, which the accept decided on "
                               "(absent when none is connected, or one was never read)."}})
    @documents_errors(blp, 400, 401, 403, 404, 409)
    def post(self, booking_id: uuid.UUID) -> Any:
        """Accept a draft (mentor). 409 if it overlaps another accepted booking, or the mentor's own calendar is
        busy then: calendars read more than `CALENDAR_FRESHNESS` ago are read first by the calendars workers, waiting
        at most `CALENDAR_ACCEPT_WAIT` (`Calendar-Synced-At` says how fresh). The session follows shortly."""
        db, actor, settings = db_session(), current_actor(), current_app.extensions["settings"]
        try:  # whether the mentor's calendars are fresh is read with the accept's locks, in its first statement
            accepted, synced = bookings.accept_on_fresh_calendars(
                db, actor, booking_id, fresh_since=calendar_sync.stale_before(settings))
        except bookings.CalendarsStale:
            end_transaction()  # nothing written: the locks go while the calendars workers read
            synced = calendar_sync.refresh_before_accept(db, session_factory().begin, actor, booking_id,
                                                         settings=settings, release=end_transaction)
            accepted = bookings.accept_booking(db, actor, booking_id)
        return accepted, 200, {"Calendar-Synced-At": synced.isoformat()} if synced is not None else {}


@blp.route("/<uuid:booking_id>/decline")
class DeclineBooking(MethodView):
    @blp.doc(operationId="declineBooking")
    @blp.arguments(ReasonSchema, required=False, example={"reason": "I'm travelling that week."})
    @blp.response(200, BookingSchema, example={**EXAMPLE_BOOKING, "status": "declined"})
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], booking_id: uuid.UUID) -> Any:
        """Decline a draft (mentor)."""
        return bookings.decline_booking(db_session(), current_actor(), booking_id, data.get("reason"))


@blp.route("/<uuid:booking_id>/cancel")
class CancelBooking(MethodView):
    @blp.doc(operationId="cancelBooking")
    @blp.arguments(ReasonSchema, required=False, example={"reason": "Found the answer already."})
    @blp.response(200, BookingSchema, example={**EXAMPLE_BOOKING, "status": "cancelled"})
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], booking_id: uuid.UUID) -> Any:
        """Withdraw your draft request (mentee). An accepted booking is cancelled through its session."""
        return bookings.cancel_booking(db_session(), current_actor(), booking_id, data.get("reason"))
