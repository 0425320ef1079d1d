from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import PaginationArgs, Text, Timestamp, json_storable, page_of
from models import MentorshipSession, SessionStatus

EXAMPLE_SESSION: dict[str, Any] = {
    "id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
    "kind": "individual",
    "booking_id": "6f1c2f5e-8d4b-4a57-9a53-2a8b4f0f3c11",
    "listing_id": "0b9f7c5a-3f2e-4d1a-8c6b-5e4d3c2b1a09",
    "mentor_profile_id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f",
    "mentee_user_id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f",
    "start_time": "2030-03-04T09:00:00+00:00",
    "end_time": "2030-03-04T10:00:00+00:00",
    "status": "scheduled",
    "notes": None,
    "action_items": [],
    "metadata": {},
    "started_at": None,
    "completed_at": None,
    "completed_by": None,
    "cancellation": None,
    "capacity": None,
    "seats_taken": None,
    "full": None,
    "created_at": "2030-03-01T12:00:05+00:00",
    "updated_at": "2030-03-01T12:00:05+00:00",
}


class CancellationSchema(ma.Schema):
    cancelled_by = fields.String(metadata={"enum": ["mentor", "mentee"]})
    reason = fields.String()
    late = fields.Boolean()
    fee_cents = fields.Integer()
    credit_refunded = fields.Boolean()
    cancelled_at = fields.DateTime()


class SessionSchema(ma.Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"enum": ["individual", "group"]})
    booking_id = fields.UUID(allow_none=True)
    listing_id = fields.UUID()
    mentor_profile_id = fields.UUID()
    mentee_user_id = fields.UUID(allow_none=True)
    start_time = fields.DateTime()
    end_time = fields.DateTime()
    status = fields.String(metadata={"enum": [s.value for s in SessionStatus]})
    notes = fields.String(allow_none=True)
    action_items = fields.List(fields.Raw())
    metadata = fields.Dict(attribute="session_metadata")
    started_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True, metadata={"enum": ["mentor", "system"]})
    cancellation = fields.Method("_cancellation", allow_none=True,
                                 metadata={"type": "object", "nullable": True,
                                           "description": "Set when cancelled: who, why, late, fee, refund."})
    capacity = fields.Integer(allow_none=True)
    seats_taken = fields.Method("_seats_taken", allow_none=True, metadata={"type": "integer", "nullable": True})
    full = fields.Method("_full", allow_none=True, metadata={"type": "boolean", "nullable": True})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def _seats_taken(self, session: MentorshipSession) -> int | None:
        return session.seats_taken if session.kind == "group" else None

    def _full(self, session: MentorshipSession) -> bool | None:
        if session.kind != "group" or session.capacity is None:
            return None
        return session.seats_taken >= session.capacity

    def _cancellation(self, session: MentorshipSession) -> dict[str, Any] | None:
        if session.cancelled_at is None:
            return None
        result: dict[str, Any] = CancellationSchema().dump({
            "cancelled_by": session.cancelled_by, "reason": session.cancel_reason, "late": session.cancel_late,
            "fee_cents": session.cancel_fee_cents, "credit_refunded": session.credit_refunded,
            "cancelled_at": session.cancelled_at,
        })
        return result


SessionPageSchema = page_of(SessionSchema, "SessionPage")


class SessionListArgs(PaginationArgs):
    role = Text(load_default=None, validate=validate.OneOf(["mentee", "mentor"]))
    status = Text(load_default=None, validate=validate.OneOf([s.value for s in SessionStatus]))


class CompleteSchema(ma.Schema):
    notes = Text(load_default=None, allow_none=True, validate=validate.Length(max=10_000))
    action_items = fields.List(Text(validate=validate.Length(max=1000)), load_default=list,
                               validate=validate.Length(max=100))
    metadata = fields.Dict(keys=Text(validate=validate.Length(max=100)), load_default=dict,
                           validate=json_storable)


class GroupSessionCreateSchema(ma.Schema):
    start_time = Timestamp(required=True, metadata={"example": "2030-03-06T17:00:00Z"})


class CancelSchema(ma.Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))
