"""Reviews of completed sessions and mentors' statistics."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs
from api.database import db_session
from api.idempotency import idempotent
from api.security import current_actor, require_login
from api.sessions.review_schemas import ReviewCreateSchema, ReviewPageSchema, ReviewSchema, StatsSchema
from workflows.sessions import analytics, reviews

blp = Blueprint("reviews", __name__, url_prefix="/api/v1", description="Reviews and mentor statistics.")
blp.before_request(require_login)

EXAMPLE_REVIEW = {"id": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "session_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
                  "mentor_profile_id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f", "reviewer": "Grace H.",
                  "anonymous": False, "rating": 5, "comment": "Clear explanations and useful homework.",
                  "created_at": "2030-03-04T11:00:00+00:00"}


@blp.route("/sessions/<uuid:session_id>/review")
class SessionReview(MethodView):
    @blp.doc(operationId="reviewSession")
    @idempotent(blp)
    @blp.arguments(ReviewCreateSchema, example={"rating": 5, "comment": "Clear explanations and useful homework.",
                                                "anonymous": False})
    @blp.response(201, ReviewSchema, example=EXAMPLE_REVIEW)
    @documents_errors(blp, 401, 403, 404, 409, 422)
    def post(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Review a completed session (mentee, once). 403 until the session's completion unlocks it."""
        db = db_session()
        return reviews.as_posted(db, reviews.create_review(db, current_actor(), session_id, **data))


@blp.route("/mentor-profiles/<uuid:profile_id>/reviews")
class MentorReviews(MethodView):
    @blp.doc(operationId="listMentorReviews")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, ReviewPageSchema)
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], profile_id: uuid.UUID) -> Any:
        """A mentor's reviews, newest first. Each names its author by first name and initial ("Grace H."), or
        "A mentee" when they chose to stay anonymous; never by id."""
        return reviews.list_reviews(db_session(), profile_id, **args)


@blp.route("/mentor-profiles/<uuid:profile_id>/stats")
class MentorStatistics(MethodView):
    @blp.doc(operationId="getMentorStatistics")
    @blp.response(200, StatsSchema)
    @documents_errors(blp, 401, 404)
    def get(self, profile_id: uuid.UUID) -> Any:
        """A mentor's sessions completed, minutes, cancellations, missed sessions, rating and no-shows; their last
        12 months' sessions by month, their reviews by stars, and their mentees. Some fields are for the mentor and
        administrators only (null to anyone else): each says so."""
        return analytics.mentor_stats(db_session(), current_actor(), profile_id)
