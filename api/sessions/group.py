"""Group sessions open to join, across listings: what a mentee browses before taking a seat."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import documents_errors
from api.database import db_session
from api.security import require_login
from api.sessions.schemas import GroupSessionPageSchema, GroupSessionSearchArgs
from workflows.sessions import group as group_sessions

blp = Blueprint("group_sessions", __name__, url_prefix="/api/v1/group-sessions",
                description="Upcoming group sessions across listings, with their seats.")
blp.before_request(require_login)


@blp.route("")
class GroupSessionSearch(MethodView):
    @blp.doc(operationId="searchGroupSessions")
    @blp.arguments(GroupSessionSearchArgs, location="query")
    @blp.response(200, GroupSessionPageSchema, example={"items": [{
        "id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", "listing_id": "0b9f7c5a-3f2e-4d1a-8c6b-5e4d3c2b1a09",
        "mentor_profile_id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f", "start_time": "2030-03-06T17:00:00+00:00",
        "end_time": "2030-03-06T18:00:00+00:00", "status": "scheduled", "capacity": 8, "seats_taken": 3,
        "seats_left": 5, "full": False, "waiting": 0}], "next_cursor": None})
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Group sessions still open to join (scheduled, not started), in start order, with capacity, seats taken,
        seats left and `full`; by listing, skill, and start time in [`from`, `to`)."""
        return group_sessions.find_group_sessions(
            db_session(), listing_id=args["listing_id"], skill=args["skill"], start_from=args["from_"],
            start_to=args["to"], limit=args["limit"], cursor=args["cursor"])
