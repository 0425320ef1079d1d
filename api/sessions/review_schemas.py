from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import Schema, Text, page_of
from workflows.sessions.reviews import PublicReview


class ReviewCreateSchema(Schema):
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5), metadata={"example": 5})
    comment = Text(load_default="", validate=validate.Length(max=5000),
                   metadata={"example": "Clear explanations and useful homework."})
    anonymous = fields.Boolean(load_default=False, metadata={
        "description": "Shown in public as \"A mentee\" rather than your first name and initial."})


class PublicReviewSchema(Schema):
    """A review as anyone reads it: no session, no author's id; the author as a first name and initial."""

    id = fields.UUID(metadata={"description": "The review's own id (admins hide reviews by it)."})
    mentor_profile_id = fields.UUID()
    reviewer = fields.String(metadata={"description": "\"Grace H.\", or \"A mentee\" when anonymous.",
                                       "example": "Grace H."})
    rating = fields.Integer()
    comment = fields.String()
    created_at = fields.DateTime()

    @ma.pre_dump
    def _flatten(self, view: PublicReview, **_kwargs: Any) -> dict[str, Any]:
        review = view.review
        return {"id": review.id, "mentor_profile_id": review.mentor_profile_id, "reviewer": view.reviewer,
                "rating": review.rating, "comment": review.comment, "created_at": review.created_at}


class ReviewSchema(PublicReviewSchema):
    """Your own review, as you posted it."""

    session_id = fields.UUID()
    anonymous = fields.Boolean()

    @ma.pre_dump
    def _flatten(self, view: PublicReview, **_kwargs: Any) -> dict[str, Any]:
        return {**super()._flatten(view), "session_id": view.review.session_id, "anonymous": view.review.anonymous}


ReviewPageSchema = page_of(PublicReviewSchema, "ReviewPage")


class MonthSchema(Schema):
    month = fields.String(metadata={"example": "2030-03", "description": "A calendar month in the mentor profile's "
                                                                        "timezone; its sessions by their start."})
    completed = fields.Integer(metadata={"example": 9})
    cancelled = fields.Integer(allow_none=True, metadata={
        "example": 1, "description": "Cancelled by anyone (a move by agreement is not a cancellation): shown to "
                                     "administrators and the mentor, null to anyone else."})
    no_show = fields.Integer(allow_none=True, metadata={
        "example": 0, "description": "Ended with the mentor or the mentee absent: shown to administrators and the "
                                     "mentor, null to anyone else."})
    missed = fields.Integer(metadata={"example": 0, "description": "Nobody came."})


class StatsSchema(Schema):
    sessions_completed = fields.Integer(metadata={"example": 12})
    minutes_completed = fields.Integer(metadata={"example": 720})
    sessions_cancelled = fields.Integer(metadata={"example": 1})
    sessions_missed = fields.Integer(metadata={"example": 0})
    average_rating = fields.Float(allow_none=True, metadata={"example": 4.75})
    reviews_count = fields.Integer(metadata={"example": 8})
    no_show_count = fields.Integer(allow_none=True, metadata={
        "example": 1, "description": "Sessions the mentor was found absent from, after any correction: shown to "
                                    "administrators and the mentor, null to anyone else."})
    no_show_rate = fields.Float(allow_none=True, metadata={
        "example": 0.077, "description": "The share of the mentor's sessions whose time came (completed, missed, or "
                                         "with someone absent) that they were absent from: shown once there are 10 "
                                         "such sessions, else null."})
    sessions_per_month = fields.List(fields.Nested(MonthSchema), metadata={
        "description": "This month and the 11 before it, oldest first, in the mentor profile's timezone (12 items, "
                       "months without sessions at 0)."})
    ratings = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "example": {"1": 0, "2": 0, "3": 1, "4": 2, "5": 5},
        "description": "The visible reviews by their stars, \"1\" to \"5\" (those the average is of)."})
    mentees = fields.Integer(metadata={
        "example": 6, "description": "Mentees of the sessions completed in those 12 months (a group session's: its "
                                     "seats not found absent), each once."})
    repeat_mentees = fields.Integer(allow_none=True, metadata={
        "example": 3, "description": "Of those mentees, the ones with two or more completed sessions: shown to "
                                     "administrators and the mentor, null to anyone else."})

