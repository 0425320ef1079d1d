"""Series of meetings: a mentee asks for one every week or two; the mentor answers once."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from api.bookings.schemas import ReasonSchema
from api.bookings.series_schemas import (
    EXAMPLE_SERIES,
    PreviewSchema,
    SeriesCancelSchema,
    SeriesCreateSchema,
    SeriesListArgs,
    SeriesPageSchema,
    SeriesSchema,
    SeriesShapeSchema,
)
from api.common.docs import TIMELINE_EXAMPLE, documents_errors
from api.common.schemas import PaginationArgs, TimelinePageSchema
from api.database import db_session, end_transaction, session_factory
from api.idempotency import idempotent
from api.security import current_actor, require_login
from workflows import history
from workflows.bookings import series, series_requests
from workflows.bookings.lifecycle import CalendarsStale
from workflows.calendars import sync as calendar_sync
from workflows.programmes import following

blp = Blueprint("booking_series", __name__, url_prefix="/api/v1/booking-series",
                description="A meeting every week or two, requested at once and answered once.")
blp.before_request(require_login)

SHAPE_EXAMPLE = {"listing_id": EXAMPLE_SERIES["listing_id"], "first_start": "2030-03-04T17:00:00Z", "every": 1,
                 "count": 8}


@blp.route("/preview")
class Preview(MethodView):
    @blp.doc(operationId="previewBookingSeries")
    @blp.arguments(SeriesShapeSchema, example=SHAPE_EXAMPLE)
    @blp.response(200, PreviewSchema)
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Every time a series would ask for, each free or left out with the reason; nothing is kept."""
        return {"occurrences": series_requests.preview(db_session(), current_actor(), data["shape"])}


@blp.route("")
class SeriesList(MethodView):
    @blp.doc(operationId="listBookingSeries")
    @blp.arguments(SeriesListArgs, location="query")
    @blp.response(200, SeriesPageSchema)
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Your series, newest first, as mentee, mentor or both."""
        return series.list_series(db_session(), current_actor(), **args)

    @blp.doc(operationId="requestBookingSeries")
    @idempotent(blp)
    @blp.arguments(SeriesCreateSchema, example={**SHAPE_EXAMPLE, "notes": EXAMPLE_SERIES["notes"]})
    @blp.response(201, SeriesSchema, example=EXAMPLE_SERIES)
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Request a series (status `requested`): each free time a draft booking; the others left out, with the
        reason. 409 when none is free, or the bundle has too few credits (`missing`)."""
        return series_requests.request(db_session(), current_actor(), data["shape"], notes=data["notes"],
                                       bundle_purchase_id=data["bundle_purchase_id"], answers=data["answers"])


@blp.route("/<uuid:series_id>")
class SeriesById(MethodView):
    @blp.doc(operationId="getBookingSeries")
    @blp.response(200, SeriesSchema, example=EXAMPLE_SERIES)
    @documents_errors(blp, 401, 404)
    def get(self, series_id: uuid.UUID) -> Any:
        """One of your series, with each of its times."""
        return series.get_series(db_session(), current_actor(), series_id)


@blp.route("/<uuid:series_id>/events")
class SeriesHistory(MethodView):
    @blp.doc(operationId="listBookingSeriesEvents")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, TimelinePageSchema, example=TIMELINE_EXAMPLE)
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], series_id: uuid.UUID) -> Any:
        """The series' history, oldest first (its participants and admins)."""
        return history.series_timeline(db_session(), current_actor(), series_id, **args)


@blp.route("/<uuid:series_id>/accept")
class AcceptSeries(MethodView):
    @blp.doc(operationId="acceptBookingSeries")
    @blp.response(200, SeriesSchema, example={**EXAMPLE_SERIES, "status": "accepted"})
    @documents_errors(blp, 400, 401, 403, 404, 409)
    def post(self, series_id: uuid.UUID) -> Any:
        """Accept the series (mentor): each time still free accepted (its session follows), each taken meanwhile
        declined and counted in `skipped_count`, in one transaction."""
        db, actor, settings = db_session(), current_actor(), current_app.extensions["settings"]
        try:  # the mentor's calendars are read with the accept's turns, in that statement, as for a single accept
            return series.accept(db, actor, series_id, fresh_since=calendar_sync.stale_before(settings))
        except CalendarsStale:
            end_transaction()  # nothing written: the locks go while the calendars workers read
        first = series.first_pending(db, series_id)
        if first is not None:
            calendar_sync.refresh_before_accept(db, session_factory().begin, actor, first, settings=settings,
                                                release=end_transaction)
        return series.accept(db, actor, series_id)


@blp.route("/<uuid:series_id>/decline")
class DeclineSeries(MethodView):
    @blp.doc(operationId="declineBookingSeries")
    @blp.arguments(ReasonSchema, required=False, example={"reason": "I am fully booked this spring."})
    @blp.response(200, SeriesSchema, example={**EXAMPLE_SERIES, "status": "declined"})
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], series_id: uuid.UUID) -> Any:
        """Decline the series (mentor): every time declined, its credit returned."""
        return series.decline(db_session(), current_actor(), series_id, reason=data.get("reason"))


@blp.route("/<uuid:series_id>/withdraw")
class WithdrawSeries(MethodView):
    @blp.doc(operationId="withdrawBookingSeries")
    @blp.arguments(ReasonSchema, required=False, example={"reason": "My exams moved."})
    @blp.response(200, SeriesSchema, example={**EXAMPLE_SERIES, "status": "withdrawn"})
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], series_id: uuid.UUID) -> Any:
        """Withdraw your series request before it is answered (mentee)."""
        return following.withdraw_series(db_session(), current_actor(), series_id, reason=data.get("reason"))


@blp.route("/<uuid:series_id>/cancel")
class CancelSeries(MethodView):
    @blp.doc(operationId="cancelBookingSeries")
    @blp.arguments(SeriesCancelSchema, required=False, example={"from": "2030-04-01T17:00:00Z",
                                                                "reason": "I am moving abroad."})
    @blp.response(200, SeriesSchema, example={**EXAMPLE_SERIES, "status": "ended"})
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, data: dict[str, Any], series_id: uuid.UUID) -> Any:
        """Cancel this and all following: every meeting from `from` on (default: all still to come), each by the
        cancellation policy as if cancelled alone. A mentor gives a `reason`: that is how a series ends early."""
        return following.cancel_series(db_session(), current_actor(), series_id, from_time=data.get("from_time"),
                                       reason=data.get("reason"))
