"""What the public routes show: a mentor's public face and a listing's booking page, nothing private."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import marshmallow as ma
from marshmallow import fields

from api.common.schemas import Schema, page_of
from api.mentors.listing_schemas import SlotsArgs

# A visitor reads at most a month of times at once (a signed-in viewer 62 days): the page shows a week.
MAX_PUBLIC_RANGE = timedelta(days=31)


def _skills(profile: Any) -> list[str]:
    return [skill.name for skill in profile.skills]


class PublicMentorSummarySchema(Schema):
    id = fields.UUID()
    display_name = fields.Function(lambda profile: profile.user.display_name,
                                   metadata={"type": "string", "example": "Grace Hopper"})
    headline = fields.String()
    avatar_url = fields.String(allow_none=True)
    rating_average = fields.Float(allow_none=True)
    rating_count = fields.Integer()


class PublicListingSchema(Schema):
    slug = fields.String(metadata={"description": "The listing's booking page is `/book/<slug>`."})
    id = fields.UUID(metadata={"description": "What `POST /bookings` takes, once signed in."})
    title = fields.String()
    description = fields.String()
    skill = fields.Function(lambda listing: listing.skill.name, metadata={"type": "string"})
    duration_minutes = fields.Integer()
    price_cents = fields.Integer()
    currency = fields.String()
    kind = fields.String(metadata={"enum": ["individual", "group"]})
    capacity = fields.Integer(allow_none=True)
    instant_booking = fields.Boolean(metadata={"description": "A free time is confirmed at once, without approval."})
    max_days_ahead = fields.Integer(allow_none=True, metadata={"description": "How far ahead it may be booked; "
                                                                              "null: a year."})


class PublicListingPageSchema(PublicListingSchema):
    mentor = fields.Function(lambda listing: PublicMentorSummarySchema().dump(listing.mentor_profile),
                             metadata={"type": "object"})


class PublicMentorSchema(PublicMentorSummarySchema):
    bio = fields.String()
    skills = fields.Function(_skills, metadata={"type": "array", "items": {"type": "string"}})


class PublicMentorWithListingsSchema(PublicMentorSchema):
    listings = fields.List(fields.Nested(PublicListingSchema), metadata={
        "description": "Their active listings, newest first (50 at most)."})


PublicMentorListSchema = page_of(PublicMentorSchema, "PublicMentorPage")


class PublicTimesArgs(SlotsArgs):
    @ma.validates_schema
    def _within_a_month(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data["from_"] < data["to"] <= data["from_"] + MAX_PUBLIC_RANGE:
            raise ma.ValidationError("`to` must be after `from`, at most 31 days later", "to")


class PublicTimeSchema(Schema):
    start_time = fields.DateTime()
    end_time = fields.DateTime()
    seats_left = fields.Integer(allow_none=True, metadata={"description": "A group session's free seats; null for "
                                                                          "a one-to-one listing."})


class PublicTimeListSchema(Schema):
    items = fields.List(fields.Nested(PublicTimeSchema))
