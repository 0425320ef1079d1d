from __future__ import annotations

from marshmallow import fields, validate

from api.common.schemas import PaginationArgs, Schema, Timestamp, page_of


class BundleCreateSchema(Schema):
    sessions_count = fields.Integer(required=True, validate=validate.Range(min=1, max=100), metadata={"example": 5})
    price_cents = fields.Integer(required=True, validate=validate.Range(min=0, max=100_000_000),
                                 metadata={"example": 35000})
    valid_days = fields.Integer(required=True, validate=validate.Range(min=1, max=730), metadata={"example": 90})


class BundleSchema(Schema):
    id = fields.UUID()
    listing_id = fields.UUID()
    sessions_count = fields.Integer()
    price_cents = fields.Integer()
    currency = fields.String()
    valid_days = fields.Integer()
    active = fields.Boolean(metadata={"description": "False once withdrawn: no longer for sale."})
    withdrawn_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


BundlePageSchema = page_of(BundleSchema, "BundlePage")


class BundleListArgs(PaginationArgs):
    include_withdrawn = fields.Boolean(load_default=False, metadata={
        "description": "Also list withdrawn offers."})


class PurchaseCreateSchema(Schema):
    valid_from = Timestamp(load_default=None, allow_none=True, metadata={
        "example": "2030-04-01T00:00:00Z",
        "description": "When the credits start to pay for sessions (now if omitted or past; at most a year ahead)."})


class PurchaseSchema(Schema):
    id = fields.UUID()
    bundle_id = fields.UUID()
    remaining_sessions = fields.Integer(metadata={"example": 5})
    valid_from = fields.DateTime(metadata={"description": "Credits pay for sessions starting from here ..."})
    valid_until = fields.DateTime(metadata={"description": "... until here (exclusive)."})
    price_cents = fields.Integer()
    currency = fields.String()
    created_at = fields.DateTime()


PurchasePageSchema = page_of(PurchaseSchema, "BundlePurchasePage")

EXAMPLE_BUNDLE = {"id": "1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0", "listing_id": "0b9f7c5a-3f2e-4d1a-8c6b-5e4d3c2b1a09",
                  "sessions_count": 5, "price_cents": 35000, "currency": "EUR", "valid_days": 90, "active": True,
                  "withdrawn_at": None, "created_at": "2030-03-01T12:00:00+00:00"}
EXAMPLE_PURCHASE = {"id": "2c3d4e5f-6071-4283-94a5-b6c7d8e9f0a1", "bundle_id": EXAMPLE_BUNDLE["id"],
                    "remaining_sessions": 5, "valid_from": "2030-03-01T12:00:00+00:00",
                    "valid_until": "2030-05-30T12:00:00+00:00", "price_cents": 35000,
                    "currency": "EUR", "created_at": "2030-03-01T12:00:00+00:00"}
