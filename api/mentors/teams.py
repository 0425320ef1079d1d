"""Invitations to teach a listing: a mentor joins a team by accepting one."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs
from api.database import db_session
from api.mentors.team_schemas import EXAMPLE_INVITATION, InvitationPageSchema, InvitationSchema
from api.security import current_actor, require_login
from workflows.mentors import invitations as team_invitations

blp = Blueprint("team_invitations", __name__, url_prefix="/api/v1/team-invitations",
                description="Invitations to teach on another mentor's listing.")
blp.before_request(require_login)


@blp.route("")
class Invitations(MethodView):
    @blp.doc(operationId="listTeamInvitations")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, InvitationPageSchema, example={"items": [EXAMPLE_INVITATION], "next_cursor": None})
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Your invitations to listings' teams still waiting for your answer, newest first."""
        return team_invitations.list_invitations(db_session(), current_actor(), **args)


@blp.route("/<uuid:invitation_id>/accept")
class AcceptInvitation(MethodView):
    @blp.doc(operationId="acceptTeamInvitation")
    @blp.response(200, InvitationSchema, example={**EXAMPLE_INVITATION, "status": "accepted",
                                                  "decided_at": "2030-03-02T08:00:00+00:00"})
    @documents_errors(blp, 400, 401, 404)
    def post(self, invitation_id: uuid.UUID) -> Any:
        """Join the listing's team: from now on requests may come to you, and your free times count in its slots.
        400 once answered or withdrawn; 404 unless the invitation is yours."""
        return team_invitations.accept(db_session(), current_actor(), invitation_id)


@blp.route("/<uuid:invitation_id>/decline")
class DeclineInvitation(MethodView):
    @blp.doc(operationId="declineTeamInvitation")
    @blp.response(200, InvitationSchema, example={**EXAMPLE_INVITATION, "status": "declined",
                                                  "decided_at": "2030-03-02T08:00:00+00:00"})
    @documents_errors(blp, 400, 401, 404)
    def post(self, invitation_id: uuid.UUID) -> Any:
        """Turn the invitation down (the owner is told). 400 once answered or withdrawn; 404 unless it is yours."""
        return team_invitations.decline(db_session(), current_actor(), invitation_id)
