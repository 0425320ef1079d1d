from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from api.bookings.reschedule_schemas import EXAMPLE_PROPOSAL, ProposalSchema
from api.common.schemas import PersonSchema, Schema
from models import WaitlistStatus
from workflows.waiting import Move, Place, Waiting


class WaitingMoveSchema(Schema):
    proposal = fields.Nested(ProposalSchema, metadata={"description": "Answer it with `/reschedule-proposals/{id}/…`."})
    answer_as = fields.String(metadata={"enum": ["mentee", "mentor"], "description": "Your side of the booking."})
    booking_id = fields.UUID()
    session_id = fields.UUID(allow_none=True, metadata={"description": "The meeting's session, where it is answered."})
    listing_id = fields.UUID()
    listing_title = fields.String()
    start_time = fields.DateTime(metadata={"description": "The meeting's time now."})
    end_time = fields.DateTime()
    other = fields.Nested(PersonSchema, metadata={"description": "Who asked: the other participant."})

    @ma.pre_dump
    def flatten(self, move: Move, **_: Any) -> dict[str, Any]:
        booking = move.booking.booking
        return {"proposal": move.proposal, "answer_as": move.answer_as, "booking_id": booking.id,
                "session_id": move.booking.session_id, "listing_id": booking.listing_id,
                "listing_title": move.listing_title, "start_time": booking.start_time, "end_time": booking.end_time,
                "other": move.booking.mentor if move.answer_as == "mentee" else move.booking.mentee}


class WaitlistPlaceSchema(Schema):
    session_id = fields.UUID()
    listing_id = fields.UUID()
    listing_title = fields.String()
    start_time = fields.DateTime()
    end_time = fields.DateTime()
    status = fields.String(metadata={"enum": [WaitlistStatus.WAITING.value, WaitlistStatus.OFFERED.value],
                                     "description": "`offered`: a seat is held for you until `offer_expires_at`."})
    position = fields.Integer(allow_none=True, metadata={"description": "1 for the next in line; null once offered."})
    offer_expires_at = fields.DateTime(allow_none=True)

    @ma.pre_dump
    def flatten(self, place: Place, **_: Any) -> dict[str, Any]:
        return {"session_id": place.session.id, "listing_id": place.session.listing_id,
                "listing_title": place.listing_title, "start_time": place.session.start_time,
                "end_time": place.session.end_time, "status": place.entry.status, "position": place.position,
                "offer_expires_at": place.entry.offer_expires_at}


class WaitingSchema(Schema):
    moves = fields.List(fields.Nested(WaitingMoveSchema), metadata={
        "description": "Moves of your meetings the other participant asks you to answer, the soonest due first."})
    waitlist = fields.List(fields.Nested(WaitlistPlaceSchema), metadata={
        "description": "Your places in line for full group sessions, and seats offered to you, soonest first."})
    requests_to_answer = fields.Integer(metadata={"description": "Requests waiting for your answer, as a mentor."})
    for_mentee = fields.Integer(metadata={"description": "What asks you to act as a mentee: moves, seats offered."})
    for_mentor = fields.Integer(metadata={"description": "What asks you to act as a mentor: requests, moves."})

    @ma.pre_dump
    def flatten(self, waiting: Waiting, **_: Any) -> dict[str, Any]:
        return {"moves": waiting.moves, "waitlist": waiting.places, "requests_to_answer": waiting.requests_to_answer,
                "for_mentee": waiting.for_mentee, "for_mentor": waiting.for_mentor}


EXAMPLE_WAITING: dict[str, Any] = {
    "moves": [{"proposal": {**EXAMPLE_PROPOSAL, "proposed_by": "mentor", "kind": "request", "start_times": []},
               "answer_as": "mentee", "booking_id": EXAMPLE_PROPOSAL["booking_id"],
               "session_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
               "listing_id": "0b9f7c5a-3f2e-4d1a-8c6b-5e4d3c2b1a09", "listing_title": "Code review",
               "start_time": "2030-03-04T09:00:00+00:00", "end_time": "2030-03-04T10:00:00+00:00",
               "other": {"id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f", "display_name": "Grace Hopper"}}],
    "waitlist": [{"session_id": "7c6b5a49-3827-4615-9e0d-1c2b3a4d5e6f", "listing_id":
                  "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "listing_title": "Interview practice group",
                  "start_time": "2030-03-06T17:00:00+00:00", "end_time": "2030-03-06T18:30:00+00:00",
                  "status": "waiting", "position": 2, "offer_expires_at": None}],
    "requests_to_answer": 0, "for_mentee": 1, "for_mentor": 0,
}
