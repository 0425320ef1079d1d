"""Each user's private iCalendar feed. No bearer token: the unguessable token in the URL is the credential."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import PUBLIC, documents_errors
from api.database import db_session
from workflows.calendars import feeds as calendars

blp = Blueprint("calendar", __name__, url_prefix="/api/v1/calendar",
                description="Private calendar feeds (iCalendar), opened by the token in their URL.")

EXAMPLE_FEED = ("BEGIN:VCALENDAR\r\nPRODID:-//Mentorship//Sessions//EN\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n"
                "SUMMARY:Code review with Ada\r\nDTSTART:20300301T140000Z\r\nDTEND:20300301T150000Z\r\n"
                "UID:5c3e…@mentorship\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


@blp.route("/<string(length=43):token>.ics")  # secrets.token_urlsafe(32)
class CalendarFeedView(MethodView):
    @blp.doc(operationId="getCalendarFeed")
    @blp.doc(security=PUBLIC)
    @blp.doc(responses={"200": {"description": "Your sessions as iCalendar events.", "content": {
        "text/calendar": {"schema": {"type": "string"}, "example": EXAMPLE_FEED}}}})
    @documents_errors(blp, 404)
    def get(self, token: str) -> Response:
        """Your sessions (as mentor and as mentee, group seats included) for a calendar app to subscribe to.

        Upcoming and in progress, and those of the last 30 days (cancelled ones as `STATUS:CANCELLED`).
        Each session keeps its `UID`; its `SEQUENCE` rises when its time or status changes. The URL comes
        from `POST /me/calendar-token`; 404 for a revoked or unknown token.
        """
        return Response(calendars.calendar_feed(db_session(), token), mimetype="text/calendar")
