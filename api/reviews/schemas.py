from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import Text, page_of


class ReviewCreateSchema(ma.Schema):
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5), metadata={"example": 5})
    comment = Text(load_default="", validate=validate.Length(max=5000),
                   metadata={"example": "Clear explanations and useful homework."})


class ReviewSchema(ma.Schema):
    id = fields.UUID()
    session_id = fields.UUID()
    mentor_profile_id = fields.UUID()
    mentee_user_id = fields.UUID()
    rating = fields.Integer()
    comment = fields.String()
    created_at = fields.DateTime()


ReviewPageSchema = page_of(ReviewSchema, "ReviewPage")


class StatsSchema(ma.Schema):
    sessions_completed = fields.Integer(metadata={"example": 12})
    minutes_completed = fields.Integer(metadata={"example": 720})
    sessions_cancelled = fields.Integer(metadata={"example": 1})
    sessions_missed = fields.Integer(metadata={"example": 0})
    average_rating = fields.Float(allow_none=True, metadata={"example": 4.75})
    reviews_count = fields.Integer(metadata={"example": 8})
