"""Mentor profiles and their weekly availability."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import documents_errors
from api.database import db_session
from api.idempotency import idempotent
from api.mentors.schemas import (
    AvailabilitySchema,
    MentorProfileCreateSchema,
    MentorProfileListArgs,
    MentorProfilePageSchema,
    MentorProfilePatchSchema,
    MentorProfileSchema,
    minutes_from_hhmm,
)
from api.security import current_actor, require_login
from workflows import mentors

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
