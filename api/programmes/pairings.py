"""A programme's pairings: made by its coordinators, moved by them and by the pair, surveyed once ended."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs, Schema, Text, page_of, search_text
from api.database import db_session
from api.programmes.routes import blp
from api.security import current_actor
from models import PairingStatus
from models.programmes.pairings import MAX_OVERRIDE_REASON, MAX_SURVEY_TEXT
from models.programmes.programmes import CADENCE_WEEKS, SESSION_COUNT
from workflows.matching import hand
from workflows.programmes import pairings, pausing, roster, surveys
from workflows.programmes.pairings import MAX_REASON

EXAMPLE_PAIRING: dict[str, Any] = {
    "id": "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a", "programme_id": "5a0c9e1b-7d3f-4e2a-9b8c-1d2e3f4a5b6c",
    "mentor_participant_id": "3f2e1d0c-9b8a-4765-8432-10fedcba9876",
    "mentee_participant_id": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", "mentor_name": "Ada Lovelace",
    "mentee_name": "Lin Chen", "mentor_profile_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
    "mentee_user_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "listing_id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    "status": "proposed", "cadence_weeks": 1, "session_minutes": 45, "session_count": 12,
    "series_id": "4d5e6f7a-8b9c-4d0e-a1f2-b3c4d5e6f7a8", "first_start": "2031-03-04T17:00:00+00:00",
    "sessions_before": 0, "resume_on": None, "created_at": "2031-02-25T10:00:00+00:00", "activated_at": None,
    "ended_at": None, "ended_by": None, "end_reason": None, "rules_overridden": [], "override_reason": None,
    "viewer_role": "coordinator", "surveys": []}


class PairingCreateSchema(Schema):
    mentor_participant_id = fields.UUID(required=True)
    mentee_participant_id = fields.UUID(required=True)
    first_start = fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "The first session; else the first time in the next four weeks when the mentor is free and "
                       "the mentee said they are."})
    cadence_weeks = fields.Integer(load_default=None, allow_none=True, validate=validate.OneOf(CADENCE_WEEKS),
                                   metadata={"description": "The programme's unless given."})
    session_count = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(*SESSION_COUNT),
                                   metadata={"description": "The programme's unless given."})
    override_reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=MAX_OVERRIDE_REASON),
                           metadata={"description": "Why the pair should be made though they break one of the "
                                                    "programme's hard rules (matching's `differ` and `above`); "
                                                    "without it such a pair is refused (409, rule `hard_rule`)."})


class SurveySchema(Schema):
    role = fields.String()
    rating = fields.Integer()
    comment = fields.String()
    answered_at = fields.DateTime()


class PairingSchema(Schema):
    id = fields.UUID()
    programme_id = fields.UUID()
    mentor_participant_id = fields.UUID()
    mentee_participant_id = fields.UUID()
    mentor_name = fields.String()
    mentee_name = fields.String()
    mentor_profile_id = fields.UUID()
    mentee_user_id = fields.UUID()
    listing_id = fields.UUID(metadata={"description": "The mentor's programme listing its sessions are booked on."})
    status = fields.Enum(PairingStatus, by_value=True)
    cadence_weeks = fields.Integer()
    session_minutes = fields.Integer()
    session_count = fields.Integer()
    series_id = fields.UUID(allow_none=True, metadata={"description": "The series of its sessions now."})
    first_start = fields.DateTime(allow_none=True)
    sessions_before = fields.Integer(metadata={"description": "Sessions held before a pause."})
    resume_on = fields.Date(allow_none=True, metadata={
        "description": "A paused pairing's day to go on: the system resumes it that day (UTC)."})
    created_at = fields.DateTime()
    activated_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    ended_by = fields.String(allow_none=True)
    end_reason = fields.String(allow_none=True)
    rules_overridden = fields.List(fields.String(), metadata={
        "description": "The programme's hard rules a coordinator paired them across, in words."})
    override_reason = fields.String(allow_none=True, metadata={"description": "The coordinator's reason for it."})
    viewer_role = fields.String(metadata={"description": "Your part: mentor, mentee, coordinator or admin."})
    surveys = fields.List(fields.Nested(SurveySchema), metadata={
        "description": "Closing surveys answered: your own (the pair), or both (its coordinators)."})


PairingPageSchema = page_of(PairingSchema, "PairingPage")


class PairingListArgs(PaginationArgs):
    status = fields.Enum(PairingStatus, by_value=True, load_default=None)
    q = search_text("A part of the mentor's or mentee's name (case-insensitive; its coordinators).")


class PairingReasonSchema(Schema):
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=MAX_REASON))


class PairingPauseSchema(PairingReasonSchema):
    resume_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "The day it goes on by itself (optional): after today, within a year, not after the "
                       "programme's last day."})


class PairingResumeSchema(Schema):
    first_start = fields.AwareDateTime(load_default=None, allow_none=True)


class PairingSurveyInputSchema(Schema):
    rating = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    comment = Text(load_default="", validate=validate.Length(max=MAX_SURVEY_TEXT))


@blp.route("/<uuid:programme_id>/pairings")
class Pairings(MethodView):
    @blp.doc(operationId="listPairings")
    @blp.arguments(PairingListArgs, location="query")
    @blp.response(200, PairingPageSchema, example={"items": [EXAMPLE_PAIRING], "next_cursor": None})
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """The programme's pairings, newest first: every one for its coordinators, your own for a participant."""
        return roster.list_pairings(db_session(), current_actor(), programme_id, **args)

    @blp.doc(operationId="proposePairing")
    @blp.arguments(PairingCreateSchema, example={"mentor_participant_id": EXAMPLE_PAIRING["mentor_participant_id"],
                                                "mentee_participant_id": EXAMPLE_PAIRING["mentee_participant_id"]})
    @blp.response(201, PairingSchema, example=EXAMPLE_PAIRING)
    @documents_errors(blp, 400, 401, 403, 404, 409, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Pair a mentor and a mentee (its coordinators): their sessions are asked for at once, as a series on the
        mentor's programme listing at the agreed cadence (every time checked as any request is); the mentor's accept
        of it (`POST /booking-series/{id}/accept`) makes the pairing active. No session comes before the
        programme's first day (400 for a `first_start` before it). 409 for a pair that breaks one of the
        programme's hard rules (rule `hard_rule`; give `override_reason` to pair them all the same), for a mentee
        who has a live pairing already (rule `one_pairing`: one at a time), past the mentor's capacity, or when
        they have no time in common in the next four weeks."""
        proposed = hand.propose(db_session(), current_actor(), programme_id, **body)
        return pairings.get(db_session(), current_actor(), programme_id, proposed.id)


@blp.route("/<uuid:programme_id>/pairings/<uuid:pairing_id>")
class PairingItem(MethodView):
    @blp.doc(operationId="getPairing")
    @blp.response(200, PairingSchema, example=EXAMPLE_PAIRING)
    @documents_errors(blp, 401, 404)
    def get(self, programme_id: uuid.UUID, pairing_id: uuid.UUID) -> Any:
        """A pairing: its pair and the programme's coordinators; 404 for anyone else."""
        return pairings.get(db_session(), current_actor(), programme_id, pairing_id)


@blp.route("/<uuid:programme_id>/pairings/<uuid:pairing_id>/pause")
class PausePairing(MethodView):
    @blp.doc(operationId="pausePairing")
    @blp.arguments(PairingPauseSchema, example={"reason": "Lin is on leave in April", "resume_on": "2027-05-03"})
    @blp.response(200, PairingSchema, example=EXAMPLE_PAIRING)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID, pairing_id: uuid.UUID) -> Any:
        """Put an active pairing on hold (either of the pair, or a coordinator): its coming sessions are
        cancelled by the usual rules. With `resume_on`, the system resumes it that day (as `resume` does); one that
        cannot go on then stays paused and its people are told why (`pairing.not_resumed`). 400 for a day after
        the programme's end; 422 for one not after today or more than a year away."""
        return pausing.pause(db_session(), current_actor(), programme_id, pairing_id, **body)


@blp.route("/<uuid:programme_id>/pairings/<uuid:pairing_id>/resume")
class ResumePairing(MethodView):
    @blp.doc(operationId="resumePairing")
    @blp.arguments(PairingResumeSchema, example={"first_start": None})
    @blp.response(200, PairingSchema, example=EXAMPLE_PAIRING)
    @documents_errors(blp, 400, 401, 403, 404, 409, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID, pairing_id: uuid.UUID) -> Any:
        """Go on with a paused pairing: its remaining sessions are asked for again (proposed until the mentor
        accepts them). 409 when none remain, or no time in common."""
        return pausing.resume(db_session(), current_actor(), programme_id, pairing_id, **body)


@blp.route("/<uuid:programme_id>/pairings/<uuid:pairing_id>/end")
class EndPairing(MethodView):
    @blp.doc(operationId="endPairing")
    @blp.arguments(PairingReasonSchema, example={"reason": "Goals reached early"})
    @blp.response(200, PairingSchema, example=EXAMPLE_PAIRING)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID, pairing_id: uuid.UUID) -> Any:
        """End a pairing (either of the pair, or a coordinator): its coming sessions are cancelled by the usual
        rules, and both are asked for a closing survey. 400 once ended."""
        return pairings.end(db_session(), current_actor(), programme_id, pairing_id, **body)


@blp.route("/<uuid:programme_id>/pairings/<uuid:pairing_id>/survey")
class PairingSurvey(MethodView):
    @blp.doc(operationId="answerPairingSurvey")
    @blp.arguments(PairingSurveyInputSchema, example={"rating": 5, "comment": "Lin helped me plan my first talk."})
    @blp.response(200, PairingSchema, example=EXAMPLE_PAIRING)
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID, pairing_id: uuid.UUID) -> Any:
        """Say how an ended pairing went (either of the pair, once): a rating of 1 to 5 and a few words. 409 the
        second time; 400 before it ended."""
        return surveys.answer_survey(db_session(), current_actor(), programme_id, pairing_id, **body)
