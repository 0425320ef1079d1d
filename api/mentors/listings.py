"""Listings: what mentors offer."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs
from api.database import db_session
from api.idempotency import idempotent
from api.mentors.listing_schemas import (
    EXAMPLE_QUESTIONS,
    EXAMPLE_TEAM,
    FirstSlotArgs,
    FirstSlotSchema,
    ListingCreateSchema,
    ListingListArgs,
    ListingPageSchema,
    ListingPatchSchema,
    ListingSchema,
    QuestionListSchema,
    QuestionsInputSchema,
    SlotListSchema,
    SlotsArgs,
    TeamSchema,
    TeamUpdateSchema,
)
from api.security import current_actor, require_login
from api.sessions.schemas import EXAMPLE_SESSION, GroupSessionCreateSchema, GroupSessionPageSchema, SessionSchema
from workflows import questions
from workflows.clock import utcnow
from workflows.lookups import listing_or_404, visible_listing
from workflows.mentors import invitations as team_invitations
from workflows.mentors import listings
from workflows.scheduling import slots, teams, viewer
from workflows.sessions import group as group_sessions

blp = Blueprint("listings", __name__, url_prefix="/api/v1/listings", description="Mentors' offerings.")
blp.before_request(require_login)


@blp.before_request
def _only_its_people_see_a_programme_s_listing() -> None:
    """Every route of one listing answers 404 for a programme's listing to anyone outside the programme."""
    listing_id = (request.view_args or {}).get("listing_id")
    if isinstance(listing_id, uuid.UUID):
        visible_listing(db_session(), current_actor(), listing_id)


@blp.route("")
class Listings(MethodView):
    @blp.doc(operationId="listListings")
    @blp.arguments(ListingListArgs, location="query")
    @blp.response(200, ListingPageSchema)
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Search listings by skill, kind, price, mentor or active flag, and, with `has_free_slot_between`,
        active listings with at least one free slot in a window of at most 31 days. With `q`, the best matches
        of the words, ranked (PostgreSQL trigram indexes; a typo or two in a skill forgiven). A withdrawn listing
        (`active: false`) is listed to its mentors and administrators only."""
        return listings.list_listings(db_session(), **args, actor=current_actor())

    @blp.doc(operationId="createListing")
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
    @blp.doc(operationId="getListing")
    @blp.response(200, ListingSchema)
    @documents_errors(blp, 401, 404)
    def get(self, listing_id: uuid.UUID) -> Any:
        """One listing."""
        return listings.get_listing(db_session(), listing_id)

    @blp.doc(operationId="updateListing")
    @blp.arguments(ListingPatchSchema, example={"price_cents": 9000, "active": True})
    @blp.response(200, ListingSchema)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def patch(self, data: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """Change your listing."""
        return listings.update_listing(db_session(), current_actor(), listing_id, data)


@blp.route("/<uuid:listing_id>/slots")
class ListingSlots(MethodView):
    @blp.doc(operationId="listFreeSlots")
    @blp.arguments(SlotsArgs, location="query")
    @blp.response(200, SlotListSchema, example={"items": [
        {"start_time": "2030-03-04T08:00:00+00:00", "end_time": "2030-03-04T09:00:00+00:00", "viewer_busy": False,
         "requested_by_others": 0}]})
    @documents_errors(blp, 400, 401, 404, 422)
    def get(self, args: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """Free start times in [from, to) (at most 62 days): the mentor's windows minus their commitments;
        for a team listing, the union over its members (a start where one member is free for the whole session).
        Each says whether you are busy then, and how many others already asked for it."""
        db = db_session()
        free = slots.free_slots(db, listing_id, start=args["from_"], end=args["to"])
        return {"items": viewer.view_slots(db, listing_or_404(db, listing_id), free, current_actor())}


@blp.route("/<uuid:listing_id>/questions")
class ListingQuestions(MethodView):
    @blp.doc(operationId="getListingQuestions")
    @blp.response(200, QuestionListSchema, example={"items": [
        {"id": "3f2e1d0c-9b8a-4765-a4b3-c2d1e0f9a8b7", **EXAMPLE_QUESTIONS["items"][0]}]})
    @documents_errors(blp, 401, 404)
    def get(self, listing_id: uuid.UUID) -> Any:
        """The questions a mentee answers when booking the listing, in order (answered in `POST /bookings`'s
        `answers`)."""
        return {"items": questions.listing_questions(db_session(), listing_id)}

    @blp.doc(operationId="setListingQuestions")
    @blp.arguments(QuestionsInputSchema, example=EXAMPLE_QUESTIONS)
    @blp.response(200, QuestionListSchema)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def put(self, data: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """Replace your listing's questions (10 at most): free text, one choice, several choices or a 1-5 scale,
        each required or not. Answers already given keep the words of the questions they answered."""
        return {"items": questions.set_listing_questions(db_session(), current_actor(), listing_id, data["items"])}


@blp.route("/<uuid:listing_id>/slots/first")
class FirstFreeSlot(MethodView):
    @blp.doc(operationId="getFirstFreeSlot")
    @blp.arguments(FirstSlotArgs, location="query")
    @blp.response(200, FirstSlotSchema, example={"slot": {"start_time": "2030-03-18T08:00:00+00:00",
                                                          "end_time": "2030-03-18T09:00:00+00:00"}})
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """The listing's first free time from `from` (default now), for a picker's "first free time"."""
        return {"slot": slots.first_free_slot(db_session(), listing_id, after=args["from_"] or utcnow())}


@blp.route("/<uuid:listing_id>/team")
class ListingTeam(MethodView):
    @blp.doc(operationId="getListingTeam")
    @blp.response(200, TeamSchema, example=EXAMPLE_TEAM)
    @documents_errors(blp, 401, 404)
    def get(self, listing_id: uuid.UUID) -> Any:
        """Who teaches a listing: its team, or its owner alone; its owner also sees whom they invited."""
        return teams.get_team(db_session(), listing_id, current_actor())

    @blp.doc(operationId="setListingTeam")
    @blp.arguments(TeamUpdateSchema, example={"mentor_profile_ids": [m["mentor_profile_id"]
                                                                      for m in EXAMPLE_TEAM["members"]]})
    @blp.response(200, TeamSchema, example=EXAMPLE_TEAM)
    @documents_errors(blp, 400, 401, 403, 404, 409, 422)
    def put(self, data: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """Set your individual listing's team (owner). Members not listed leave it; other mentors listed are
        invited (`GET /team-invitations` shows them theirs) and teach once they accept; you teach at once if you
        list yourself. Requests then go to a member named in them, or to one the service chooses; existing
        bookings keep their mentor. 400 for unknown mentor profiles; 409 for a mentor whose email is not
        confirmed yet."""
        return team_invitations.set_team(db_session(), current_actor(), listing_id, data["mentor_profile_ids"])


@blp.route("/<uuid:listing_id>/team/leave")
class LeaveTeam(MethodView):
    @blp.doc(operationId="leaveListingTeam")
    @blp.response(204)
    @documents_errors(blp, 400, 401, 404)
    def post(self, listing_id: uuid.UUID) -> None:
        """Leave the team of a listing you teach on (not your own: set its team instead). Requests no longer go to
        you; bookings already made keep you as their mentor. 404 when you are not on its team."""
        team_invitations.leave(db_session(), current_actor(), listing_id)


@blp.route("/<uuid:listing_id>/group-sessions")
class GroupSessions(MethodView):
    @blp.doc(operationId="listUpcomingGroupSessions")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, GroupSessionPageSchema)
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """The listing's group sessions still open to join, in start order, with their seats taken."""
        return group_sessions.upcoming_group_sessions(db_session(), listing_id, **args)

    @blp.doc(operationId="scheduleGroupSession")
    @idempotent(blp)
    @blp.arguments(GroupSessionCreateSchema, example={"start_time": "2030-03-06T17:00:00Z"})
    @blp.response(201, SessionSchema, example={**EXAMPLE_SESSION, "kind": "group", "booking_id": None,
                                                "mentee_user_id": None, "capacity": 8, "seats_taken": 0,
                                                "full": False})
    @documents_errors(blp, 400, 401, 403, 404, 409, 422)
    def post(self, data: dict[str, Any], listing_id: uuid.UUID) -> Any:
        """Schedule a group session of your group listing; it may not overlap your other sessions."""
        return group_sessions.schedule_group_session(db_session(), current_actor(), listing_id, **data)
