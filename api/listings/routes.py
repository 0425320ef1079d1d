"""Listings: what mentors offer."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import documents_errors
from api.database import db_session
from api.idempotency import idempotent
from api.listings.schemas import (
    ListingCreateSchema,
    ListingListArgs,
    ListingPageSchema,
    ListingPatchSchema,
    ListingSchema,
    SlotListSchema,
    SlotsArgs,
)
from api.security import current_actor, require_login
from api.sessions.schemas import EXAMPLE_SESSION, GroupSessionCreateSchema, SessionSchema
from workflows import listings, sessions, slots

blp = Blueprint("listings", __name__, url_prefix="/api/v1/listings", description="Mentors' offerings.")
blp.before_request(require_login)


@blp.route("")
class Listings(MethodView):
    @blp.arguments(ListingListArgs, location="query")
    @blp.response(200, ListingPageSchema)
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """List listings, filtered by skill, mentor or active flag."""
        return listings.list_listings(db_session(), **args)

    @idempotent(blp)
    @blp.arguments(ListingCreateSchema, example={
        "title": "System design interview practice", "description": "A mock interview with written feedback.",
        "skill": "system design", "duration_minutes": 60, "price_cents": 8000, "currency": "EUR",
        "kind": "individual"})
    @blp.response(201, ListingSchema)
    @documents_errors(blp, 400, 401, 403, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a listing (mentors only)."""
        return listings.create_listing(db_session(), current_actor(), **data)


@blp.route("/<uuid:listing_id>")
class ListingById(MethodView):
    @blp.response(200, ListingSchema)
    @documents_errors(blp, 401, 404)
    def get(self, listing_id: uuid.UUID) -> Any:
        """One listing."""
        return listings.get_listing(db_session(), listing_id)

    @blp.arguments(ListingPatchSchema, example={"price_cents": 9000, "active": True})
    @blp.response(200, ListingSchema)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def patch(self, data: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """Change your listing."""
        return listings.update_listing(db_session(), current_actor(), listing_id, data)


@blp.route("/<uuid:listing_id>/slots")
class ListingSlots(MethodView):
    @blp.arguments(SlotsArgs, location="query")
    @blp.response(200, SlotListSchema, example={"items": [
        {"start_time": "2030-03-04T08:00:00+00:00", "end_time": "2030-03-04T09:00:00+00:00"}]})
    @documents_errors(blp, 400, 401, 404, 422)
    def get(self, args: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """Free start times in [from, to) (at most 62 days): the mentor's windows minus their commitments."""
        return {"items": slots.free_slots(db_session(), listing_id, start=args["from_"], end=args["to"])}


@blp.route("/<uuid:listing_id>/group-sessions")
class GroupSessions(MethodView):
    @idempotent(blp)
    @blp.arguments(GroupSessionCreateSchema, example={"start_time": "2030-03-06T17:00:00Z"})
    @blp.response(201, SessionSchema, example={**EXAMPLE_SESSION, "kind": "group", "booking_id": None,
                                                "mentee_user_id": None, "capacity": 8, "seats_taken": 0,
                                                "full": False})
    @documents_errors(blp, 400, 401, 403, 404, 409, 422)
    def post(self, data: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """Schedule a group session of your group listing; it may not overlap your other sessions."""
        return sessions.schedule_group_session(db_session(), current_actor(), listing_id, **data)
