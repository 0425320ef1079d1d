from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from api.common.schemas import Schema, Text, Timestamp
from models import ProposalStatus
from models.bookings.reschedules import MAX_PROPOSED_TIMES

EXAMPLE_PROPOSAL: dict[str, Any] = {
    "id": "5b2a5c7e-3a10-4d1b-9a8e-1d2f3a4b5c6d", "booking_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "proposed_by": "mentee", "kind": "times", "start_times": ["2030-03-05T10:00:00+00:00", "2030-03-06T16:00:00+00:00"],
    "message": "A conference came up: would one of these suit you?", "status": "open",
    "expires_at": "2030-03-04T09:00:00+00:00", "chosen_start": None, "new_booking_id": None, "decided_at": None,
    "created_at": "2030-03-01T08:00:00+00:00",
}


class ProposalCreateSchema(Schema):
    start_times = fields.List(Timestamp(), required=True, validate=validate.Length(min=1, max=MAX_PROPOSED_TIMES),
                              metadata={"description": "One to three new start times, each free for both of you.",
                                        "example": EXAMPLE_PROPOSAL["start_times"]})
    message = Text(load_default="", validate=validate.Length(max=1000),
                   metadata={"example": EXAMPLE_PROPOSAL["message"]})


class ProposalAcceptSchema(Schema):
    start_time = Timestamp(required=True, metadata={
        "description": "One of the proposed times; answering the mentor's request, any free time.",
        "example": "2030-03-05T10:00:00+00:00"})


class RescheduleRequestSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000),
                  metadata={"example": "I have to travel that week, sorry."})


class ProposalSchema(Schema):
    id = fields.UUID()
    booking_id = fields.UUID()
    proposed_by = fields.String(metadata={"enum": ["mentor", "mentee"]})
    kind = fields.String(metadata={"enum": ["times", "request"], "description": (
        "`times`: choose one of `start_times`; `request`: the mentor asks the mentee to choose any free time.")})
    start_times = fields.List(fields.DateTime())
    message = fields.String()
    status = fields.String(metadata={"enum": [s.value for s in ProposalStatus]})
    expires_at = fields.DateTime(metadata={"description": (
        "The earliest proposed time, or the booking's start; a mentor's request, `RESCHEDULE_REQUEST_TTL_HOURS` "
        "after it was made (never past the start).")})
    chosen_start = fields.DateTime(allow_none=True)
    new_booking_id = fields.UUID(allow_none=True, metadata={"description": "The booking the move made."})
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class ProposalListSchema(Schema):
    items = fields.List(fields.Nested(ProposalSchema))
