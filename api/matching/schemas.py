"""The shapes of a programme's matching: its settings, runs, drafts, explanations and a mentee's recommendations."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from api.common.schemas import Schema, page_of
from models import DraftStatus, MatchRunStatus, PairingMode
from workflows.matching.settings import MAX_CRITERIA, MAX_WEIGHT, TOP_K, Kind

_WEIGHT: dict[str, Any] = {"validate": validate.Range(0, MAX_WEIGHT),
                           "metadata": {"description": f"0 to {MAX_WEIGHT:g}."}}
RUN_ID = "6e5d4c3b-2a19-4f8e-9d7c-6b5a49382716"
MENTEE_ID, MENTOR_ID = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", "3f2e1d0c-9b8a-4765-8432-10fedcba9876"
REASONS = ["3 shared skills", "4.5 h a week in common", "6 h apart", "1 of 2 places left"]
EXAMPLE_SETTINGS: dict[str, Any] = {
    "pairing_mode": "coordinator",
    "criteria": [{"kind": "shared", "mentee_question_id": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
                  "mentor_question_id": None, "weight": 2, "label": "What do you want to learn?"},
                 {"kind": "differ", "mentee_question_id": "1c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e5f",
                  "mentor_question_id": "2d3e4f5a-6b7c-4d8e-8f9a-1b2c3d4e5f6a", "weight": 0, "label": "Department"}],
    "free_time_weight": 3, "timezone_weight": 1, "capacity_weight": 1, "reliability_weight": 0, "top_k": 3}
EXAMPLE_RUN: dict[str, Any] = {
    "id": RUN_ID, "programme_id": "5a0c9e1b-7d3f-4e2a-9b8c-1d2e3f4a5b6c", "status": "done", "stage": "done",
    "progress": 100, "cancel_requested": False, "created_at": "2031-02-25T10:00:00+00:00",
    "started_at": "2031-02-25T10:00:01+00:00", "finished_at": "2031-02-25T10:00:09+00:00", "error": None,
    "inputs_digest": "9f2c" + "0" * 60,
    "result": {"mentees": 2, "mentors": 1, "matched": 1, "total": 81.5, "greedy_total": 81.5, "top3": 1,
               "top3_share": 1.0, "distribution": [{"from": 80, "to": 90, "count": 1}],
               "pairs": [{"mentee_participant_id": MENTEE_ID, "mentor_participant_id": MENTOR_ID, "score": 81.5,
                          "rank": 1, "reasons": REASONS}],
               "unmatched": [{"mentee_participant_id": "8b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d5e", "name": "Bo",
                              "reason": "no mentor has time in common at 60-minute sessions every week in the "
                                        "mentee's windows (Asia/Tokyo)"}]}}
EXAMPLE_DRAFT: dict[str, Any] = {
    "id": "4c3b2a19-0f8e-4d7c-9b6a-594837261504", "run_id": RUN_ID, "mentee_participant_id": MENTEE_ID,
    "mentor_participant_id": MENTOR_ID, "mentee_name": "Lin Chen", "mentor_name": "Ada Lovelace", "score": 81.5,
    "reasons": REASONS, "pinned": False, "status": "draft", "problem": None, "created_at": "2031-02-25T10:00:09+00:00",
    "mentor_capacity": 2, "mentor_places_used": 2}


class CriterionSchema(Schema):
    kind = fields.Enum(Kind, by_value=True, required=True, metadata={
        "description": "shared: the more of the mentee's choices the mentor shares, the better; same: the same "
                       "answer is better; differ: a hard rule, never the same answer; above: a hard rule, the "
                       "mentor's answer ranks above the mentee's."})
    mentee_question_id = fields.UUID(required=True)
    mentor_question_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "A mentors' intake question; empty for the skills of the mentor's profile (shared only)."})
    weight = fields.Float(load_default=1.0, **_WEIGHT)
    label = fields.String(dump_only=True)


class MatchingSettingsSchema(Schema):
    pairing_mode = fields.Enum(PairingMode, by_value=True, required=True, metadata={
        "description": "coordinator: its coordinators run the match and publish the drafts; mentee_choice: each "
                       "mentee asks one of their best mentors; manual: pairs are made one by one."})
    criteria = fields.List(fields.Nested(CriterionSchema), load_default=list,
                           validate=validate.Length(max=MAX_CRITERIA))
    free_time_weight = fields.Float(load_default=3.0, **_WEIGHT)
    timezone_weight = fields.Float(load_default=1.0, **_WEIGHT)
    capacity_weight = fields.Float(load_default=1.0, **_WEIGHT)
    reliability_weight = fields.Float(load_default=0.0, **_WEIGHT)
    top_k = fields.Integer(load_default=3, strict=True, validate=validate.Range(*TOP_K), metadata={
        "description": "How many mentors a choosing mentee is shown."})


class MatchRunSummarySchema(Schema):
    id = fields.UUID()
    programme_id = fields.UUID()
    status = fields.Enum(MatchRunStatus, by_value=True)
    stage = fields.String()
    progress = fields.Integer(metadata={"description": "Percent."})
    cancel_requested = fields.Boolean()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)
    inputs_digest = fields.String(allow_none=True, metadata={
        "description": "SHA-256 of the inputs kept: two runs with the same digest made the same pairs."})


class MatchRunSchema(MatchRunSummarySchema):
    result = fields.Dict(allow_none=True, metadata={
        "description": "Once done: pairs (score, rank among the mentee's candidates, reasons), unmatched (with "
                       "why), mentees, mentors, matched, pinned (drafts kept, their mentees not in the run), "
                       "preferred (pairs the coordinators prefer, made), total, greedy_total, greedy_matched, "
                       "distribution, top3, top3_share."})


MatchRunPageSchema = page_of(MatchRunSummarySchema, "MatchRunPage")


class ExplainArgs(Schema):
    # Both needed; checked once the caller is known to run the programme (404 first for anyone else).
    mentee_participant_id = fields.UUID(load_default=None, metadata={"description": "Needed."})
    mentor_participant_id = fields.UUID(load_default=None, metadata={"description": "Needed."})


class ExplanationSchema(Schema):
    mentee_name = fields.String()
    mentor_name = fields.String()
    made = fields.Boolean()
    candidate = fields.Boolean(metadata={"description": "Whether they could meet at the cadence and keep every "
                                                         "hard rule."})
    score = fields.Float(allow_none=True)
    reasons = fields.List(fields.String())
    explanation = fields.String()


class DraftSchema(Schema):
    id = fields.UUID()
    run_id = fields.UUID(allow_none=True)
    mentee_participant_id = fields.UUID()
    mentor_participant_id = fields.UUID()
    mentee_name = fields.String()
    mentor_name = fields.String()
    score = fields.Float()
    reasons = fields.List(fields.String())
    pinned = fields.Boolean()
    status = fields.Enum(DraftStatus, by_value=True)
    problem = fields.String(allow_none=True)
    mentor_capacity = fields.Integer(metadata={"description": "The mentor's mentees at once."})
    mentor_places_used = fields.Integer(metadata={
        "description": "The mentor's places taken were the drafts published: their live pairings and drafts (any "
                       "not refused)."})
    created_at = fields.DateTime()


DraftPageSchema = page_of(DraftSchema, "MatchDraftPage")


class DraftUpdateSchema(Schema):
    mentor_participant_id = fields.UUID(load_default=None, allow_none=True)
    pinned = fields.Boolean(load_default=None, allow_none=True)


class SwapSchema(Schema):
    draft_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(equal=2))


class DraftCountsSchema(Schema):
    draft = fields.Integer(load_default=0)
    publishing = fields.Integer(load_default=0)
    failed = fields.Integer(load_default=0)


class RecommendationSchema(Schema):
    rank = fields.Integer()
    mentor_participant_id = fields.UUID()
    mentor_name = fields.String()
    reasons = fields.List(fields.String())


class RecommendationsSchema(Schema):
    items = fields.List(fields.Nested(RecommendationSchema))


class MentorRequestSchema(Schema):
    mentor_participant_id = fields.UUID(required=True)
