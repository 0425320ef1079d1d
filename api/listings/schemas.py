from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import PaginationArgs, Text, Timestamp, page_of, skill_name
from models import ListingKind

MAX_PRICE_CENTS = 100_000_000


class ListingCreateSchema(ma.Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=200),
                 metadata={"example": "System design interview practice"})
    description = Text(load_default="", validate=validate.Length(max=10_000))
    skill = skill_name(required=True, metadata={"example": "system design"})
    duration_minutes = fields.Integer(required=True, validate=validate.Range(min=15, max=480),
                                      metadata={"example": 60})
    price_cents = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_PRICE_CENTS),
                                 metadata={"example": 8000})
    currency = Text(load_default="USD", validate=validate.Regexp(r"^[A-Za-z]{3}$", error="ISO 4217 code"),
                    metadata={"example": "EUR"})
    kind = Text(load_default=ListingKind.INDIVIDUAL.value, validate=validate.OneOf([k.value for k in ListingKind]))
    capacity = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=2, max=500),
                              metadata={"description": "Seats of a group listing (2-500); omit for individual."})


class ListingPatchSchema(ma.Schema):
    title = Text(validate=validate.Length(min=1, max=200))
    description = Text(validate=validate.Length(max=10_000))
    skill = skill_name()
    duration_minutes = fields.Integer(validate=validate.Range(min=15, max=480))
    price_cents = fields.Integer(validate=validate.Range(min=0, max=MAX_PRICE_CENTS))
    currency = Text(validate=validate.Regexp(r"^[A-Za-z]{3}$", error="ISO 4217 code"))
    capacity = fields.Integer(allow_none=True, validate=validate.Range(min=2, max=500))
    active = fields.Boolean()

    @ma.validates_schema
    def _not_empty(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("give at least one field to change")


class ListingSchema(ma.Schema):
    id = fields.UUID(dump_only=True)
    mentor_profile_id = fields.UUID(dump_only=True)
    title = fields.String(dump_only=True)
    description = fields.String(dump_only=True)
    skill = fields.Function(lambda listing: listing.skill.name, metadata={"type": "string"})
    duration_minutes = fields.Integer(dump_only=True)
    price_cents = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    capacity = fields.Integer(allow_none=True, dump_only=True)
    active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


ListingPageSchema = page_of(ListingSchema, "ListingPage")


class ListingListArgs(PaginationArgs):
    skill = Text(load_default=None, validate=validate.Length(max=50))
    mentor_profile_id = fields.UUID(load_default=None)
    active = fields.Boolean(load_default=None, allow_none=True)


class SlotsArgs(ma.Schema):
    from_ = Timestamp(required=True, data_key="from", metadata={"example": "2030-03-04T00:00:00Z"})
    to = Timestamp(required=True, metadata={"example": "2030-03-11T00:00:00Z"})


class SlotSchema(ma.Schema):
    start_time = fields.DateTime()
    end_time = fields.DateTime()


class SlotListSchema(ma.Schema):
    items = fields.List(fields.Nested(SlotSchema))
