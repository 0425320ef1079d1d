"""What waits for the signed-in user: the web app's menu badges and the top of My bookings."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import documents_errors
from api.database import db_session
from api.security import current_actor, require_login
from api.waiting.schemas import EXAMPLE_WAITING, WaitingSchema
from workflows import waiting

blp = Blueprint("waiting", __name__, url_prefix="/api/v1/me/waiting",
                description="What waits for you: moves to answer, seats offered, places in line, requests.")
blp.before_request(require_login)


@blp.route("")
class Waiting(MethodView):
    @blp.doc(operationId="getWaitingForMe")
    @blp.response(200, WaitingSchema, example=EXAMPLE_WAITING)
    @documents_errors(blp, 401)
    def get(self) -> Any:
        """What waits for you: moves of your meetings to answer and seats offered to you (each with its deadline),
        your places in waitlists, and as a mentor the requests to answer (50 of each at most)."""
        return waiting.waiting_for(db_session(), current_actor())
