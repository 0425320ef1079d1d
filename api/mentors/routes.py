"""Mentor profiles: their weekly availability, time off and date overrides, and their schedule's history."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs, TimelinePageSchema
from api.database import db_session
from api.idempotency import idempotent
from api.mentors.schemas import (
    AvailabilitySchema,
    DateOverridesSchema,
    DateOverridesViewSchema,
    MentorProfileCreateSchema,
    MentorProfileListArgs,
    MentorProfilePageSchema,
    MentorProfilePatchSchema,
    MentorProfileSchema,
    TimeOffSchema,
    TimeOffViewSchema,
    minutes_from_hhmm,
)
from api.security import current_actor, require_login
from workflows import history
from workflows.mentors import profiles as mentors
from workflows.mentors import time_off as mentor_schedule

blp = Blueprint("mentor_profiles", __name__, url_prefix="/api/v1/mentor-profiles",
                description="Mentors: headline, timezone, skills, availability.")
blp.before_request(require_login)


@blp.route("")
class MentorProfiles(MethodView):
    @blp.doc(operationId="listMentorProfiles")
    @blp.arguments(MentorProfileListArgs, location="query")
    @blp.response(200, MentorProfilePageSchema)
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """List mentor profiles, optionally those teaching `skill`; with `q`, the best matches of the words
        (a skill, a name or a headline), ranked."""
        return mentors.list_mentor_profiles(db_session(), **args)

    @blp.doc(operationId="createMentorProfile")
    @idempotent(blp)
    @blp.arguments(MentorProfileCreateSchema, example={
        "headline": "Staff engineer, distributed systems", "bio": "Ten years of backend work.",
        "timezone": "Europe/Paris", "skills": ["python", "postgresql"],
        "avatar_url": "https://images.example.com/ada.png"})
    @blp.response(201, MentorProfileSchema)
    @documents_errors(blp, 401, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Become a mentor: create your mentor profile (one per user)."""
        return mentors.create_mentor_profile(db_session(), current_actor(), **data)


@blp.route("/<uuid:profile_id>")
class MentorProfileById(MethodView):
    @blp.doc(operationId="getMentorProfile")
    @blp.response(200, MentorProfileSchema)
    @documents_errors(blp, 401, 404)
    def get(self, profile_id: uuid.UUID) -> Any:
        """One mentor profile (404 once its mentor deleted their account)."""
        return mentors.get_mentor_profile(db_session(), profile_id)

    @blp.doc(operationId="updateMentorProfile")
    @blp.arguments(MentorProfilePatchSchema, example={
        "headline": "Principal engineer, databases", "bio": "I help backend engineers grow into staff roles.",
        "skills": ["postgresql", "system design"], "timezone": "America/New_York",
        "avatar_url": "https://images.example.com/grace.png"})
    @blp.response(200, MentorProfileSchema)
    @documents_errors(blp, 401, 403, 404, 422)
    def patch(self, data: dict[str, Any], profile_id: uuid.UUID) -> Any:
        """Change your profile: headline, bio, timezone, skills (replaced whole), avatar. 403 if not yours."""
        return mentors.update_mentor_profile(db_session(), current_actor(), profile_id, data)


@blp.route("/<uuid:profile_id>/availability")
class Availability(MethodView):
    @blp.doc(operationId="setAvailability")
    @blp.arguments(AvailabilitySchema, example={"windows": [{"weekday": 0, "start": "09:00", "end": "12:00"},
                                                            {"weekday": 2, "start": "14:00", "end": "18:00"}]})
    @blp.response(200, MentorProfileSchema)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def put(self, data: dict[str, Any], profile_id: uuid.UUID) -> Any:
        """Replace your weekly availability windows (in your profile's timezone). No windows = any time."""
        windows = [
            mentors.WindowSpec(w["weekday"], minutes_from_hhmm(w["start"]), minutes_from_hhmm(w["end"]))
            for w in data["windows"]
        ]
        return mentors.set_availability(db_session(), current_actor(), profile_id, windows)


@blp.route("/<uuid:profile_id>/time-off")
class TimeOff(MethodView):
    @blp.doc(operationId="getTimeOff")
    @blp.response(200, TimeOffViewSchema)
    @documents_errors(blp, 401, 403, 404)
    def get(self, profile_id: uuid.UUID) -> Any:
        """Your time off (current and later periods), and the accepted bookings and group sessions still inside it."""
        return mentor_schedule.get_time_off(db_session(), current_actor(), profile_id)

    @blp.doc(operationId="setTimeOff")
    @blp.arguments(TimeOffSchema, example={"time_off": [
        {"start": "2030-12-20T00:00", "end": "2031-01-05T00:00", "note": "Holiday"},
        {"start": "2031-03-01T00:00", "end": None, "note": "Sabbatical"}]})
    @blp.response(200, TimeOffViewSchema)
    @documents_errors(blp, 401, 403, 404, 422)
    def put(self, data: dict[str, Any], profile_id: uuid.UUID) -> Any:
        """Replace your time off: periods in your timezone (or with an offset), `end` null for until further notice.

        No slot, request or accept meets it. Pending requests inside it are declined at once (the mentee is told
        why); accepted bookings and group sessions inside it are not cancelled silently: the answer lists them, for
        you to cancel each with a reason (the mentee pays no fee). Periods already over are not kept.
        """
        ranges = [mentor_schedule.TimeOffSpec(r["start"], r["end"], r["note"]) for r in data["time_off"]]
        return mentor_schedule.set_time_off(db_session(), current_actor(), profile_id, ranges)


@blp.route("/<uuid:profile_id>/date-overrides")
class DateOverrides(MethodView):
    @blp.doc(operationId="getDateOverrides")
    @blp.response(200, DateOverridesViewSchema)
    @documents_errors(blp, 401, 403, 404)
    def get(self, profile_id: uuid.UUID) -> Any:
        """Your date overrides from today on, in your timezone."""
        return mentor_schedule.get_date_overrides(db_session(), current_actor(), profile_id)

    @blp.doc(operationId="setDateOverrides")
    @blp.arguments(DateOverridesSchema, example={"overrides": [
        {"date": "2030-12-24", "hours": [{"start": "09:00", "end": "12:00"}]}, {"date": "2030-12-31", "hours": []}]})
    @blp.response(200, DateOverridesViewSchema)
    @documents_errors(blp, 401, 403, 404, 422)
    def put(self, data: dict[str, Any], profile_id: uuid.UUID) -> Any:
        """Replace your date overrides: for a date, other hours than its weekday's windows, or none (away that day).

        Pending requests on such a date that its new hours do not hold are declined at once. Dates before today
        are not kept.
        """
        overrides = [mentor_schedule.OverrideSpec(o["date"], tuple(
            (minutes_from_hhmm(h["start"]), minutes_from_hhmm(h["end"])) for h in o["hours"]))
            for o in data["overrides"]]
        return mentor_schedule.set_date_overrides(db_session(), current_actor(), profile_id, overrides)


@blp.route("/<uuid:profile_id>/events")
class ScheduleHistory(MethodView):
    @blp.doc(operationId="listMentorScheduleEvents")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, TimelinePageSchema)
    @documents_errors(blp, 401, 403, 404, 422)
    def get(self, args: dict[str, Any], profile_id: uuid.UUID) -> Any:
        """Your schedule's history, oldest first: each change of your availability, time off, date overrides and
        scheduling rules (`schedule.changed`), and when. Yours only."""
        return history.mentor_timeline(db_session(), current_actor(), profile_id, **args)
