"""Moving an accepted booking by agreement: proposals of new times, and their answers."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.bookings.reschedule_schemas import (
    EXAMPLE_PROPOSAL,
    ProposalAcceptSchema,
    ProposalCreateSchema,
    ProposalListSchema,
    ProposalSchema,
    RescheduleRequestSchema,
)
from api.bookings.schemas import BookingSchema
from api.common.docs import documents_errors
from api.database import db_session
from api.security import current_actor, require_login
from workflows.bookings import reschedules

blp = Blueprint("reschedules", __name__, url_prefix="/api/v1",
                description="Moving an accepted booking to another time, when both participants agree.")
blp.before_request(require_login)


@blp.route("/bookings/<uuid:booking_id>/reschedule-proposals")
class BookingProposals(MethodView):
    @blp.doc(operationId="listRescheduleProposals")
    @blp.response(200, ProposalListSchema, example={"items": [EXAMPLE_PROPOSAL]})
    @documents_errors(blp, 401, 404)
    def get(self, booking_id: uuid.UUID) -> Any:
        """The booking's proposals to move it, newest first (its participants)."""
        return {"items": reschedules.proposals_of(db_session(), current_actor(), booking_id)}

    @blp.doc(operationId="proposeReschedule")
    @blp.arguments(ProposalCreateSchema, example={"start_times": EXAMPLE_PROPOSAL["start_times"],
                                                  "message": EXAMPLE_PROPOSAL["message"]})
    @blp.response(201, ProposalSchema, example=EXAMPLE_PROPOSAL)
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, data: dict[str, Any], booking_id: uuid.UUID) -> Any:
        """Propose one to three new times for an accepted one-to-one booking you take part in, before it starts.

        Each must be free under every scheduling rule (409 naming the rule). One open proposal per booking (409).
        It expires at the earliest proposed time or the booking's start. Not for a group seat (400: leave and join).
        """
        return reschedules.propose(db_session(), current_actor(), booking_id, data["start_times"],
                                   message=data["message"])


@blp.route("/bookings/<uuid:booking_id>/request-reschedule")
class RequestReschedule(MethodView):
    @blp.doc(operationId="requestReschedule")
    @blp.arguments(RescheduleRequestSchema, example={"reason": "I have to travel that week, sorry."})
    @blp.response(201, ProposalSchema, example={**EXAMPLE_PROPOSAL, "proposed_by": "mentor", "kind": "request",
                                                "start_times": []})
    @documents_errors(blp, 400, 401, 403, 404, 409, 422)
    def post(self, data: dict[str, Any], booking_id: uuid.UUID) -> Any:
        """Ask the mentee to choose another time (the mentor): they are told, with the listing's next free times.

        They pick any free time (`POST /reschedule-proposals/{id}/accept`: the meeting moves at once) or cancel at no
        cost (`…/decline`). With no answer within `RESCHEDULE_REQUEST_TTL_HOURS` (48; never past the start), the
        booking is cancelled by the mentor, at no cost to the mentee.
        """
        return reschedules.request_reschedule(db_session(), current_actor(), booking_id, reason=data["reason"])


@blp.route("/reschedule-proposals/<uuid:proposal_id>")
class Proposal(MethodView):
    @blp.doc(operationId="getRescheduleProposal")
    @blp.response(200, ProposalSchema, example=EXAMPLE_PROPOSAL)
    @documents_errors(blp, 401, 404)
    def get(self, proposal_id: uuid.UUID) -> Any:
        """One proposal (its booking's participants)."""
        return reschedules.get_proposal(db_session(), current_actor(), proposal_id)


@blp.route("/reschedule-proposals/<uuid:proposal_id>/accept")
class AcceptProposal(MethodView):
    @blp.doc(operationId="acceptRescheduleProposal")
    @blp.arguments(ProposalAcceptSchema, example={"start_time": "2030-03-05T10:00:00+00:00"})
    @blp.response(200, BookingSchema)
    @documents_errors(blp, 400, 401, 404, 409, 422)
    def post(self, data: dict[str, Any], proposal_id: uuid.UUID) -> Any:
        """Take one of the proposed times (the other participant): the meeting moves there, at no cost.

        The booking becomes `rescheduled`, its session is cancelled ("rescheduled", no fee), and the answer is the
        new booking, accepted, whose session the worker makes. 409 naming the rule if the time was taken meanwhile.
        """
        return reschedules.accept(db_session(), current_actor(), proposal_id, data["start_time"])


@blp.route("/reschedule-proposals/<uuid:proposal_id>/decline")
class DeclineProposal(MethodView):
    @blp.doc(operationId="declineRescheduleProposal")
    @blp.response(200, ProposalSchema)
    @documents_errors(blp, 400, 401, 404)
    def post(self, proposal_id: uuid.UUID) -> Any:
        """Turn the proposal down (the other participant): the booking stays as it is."""
        return reschedules.decline(db_session(), current_actor(), proposal_id)


@blp.route("/reschedule-proposals/<uuid:proposal_id>/withdraw")
class WithdrawProposal(MethodView):
    @blp.doc(operationId="withdrawRescheduleProposal")
    @blp.response(200, ProposalSchema)
    @documents_errors(blp, 400, 401, 404)
    def post(self, proposal_id: uuid.UUID) -> Any:
        """Take your proposal back."""
        return reschedules.withdraw(db_session(), current_actor(), proposal_id)
