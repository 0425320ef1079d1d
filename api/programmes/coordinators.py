"""Coordinators named by address: an admin's invitation (under ``/admin``), and the link it mails (``blp``: the
token is the key). Their rights start once the address is confirmed as an account's."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from api.accounts import audit, cookie
from api.accounts.routes import EXAMPLE_TOKEN, signed_in_body
from api.accounts.schemas import TokenSchema
from api.common.docs import PUBLIC, documents_errors
from api.common.schemas import EmailAddress, PaginationArgs, Schema, page_of
from api.database import db_session
from api.operations.routes import blp as admin_blp
from api.operations.schemas import AdminReasonSchema
from api.programmes.enrolment_schemas import (
    ProgrammeInvitationRegisterSchema,
    ProgrammeSummarySchema,
    ProgrammeTokenSchema,
)
from api.programmes.schemas import ProgrammeSchema
from api.ratelimit import limit_public_reads, limit_registrations
from api.security import current_actor, require_login
from models import AuthEventKind, InvitationStatus
from workflows.programmes import coordinator_invitations as invited

blp = Blueprint("coordinator_invitations", __name__, url_prefix="/api/v1/coordinator-invitations",
                description="An invitation to coordinate a programme, answered with the token its mail carries.")
TOKEN = {"token": "Xq3k9vN2wT8rL0aB5cD7eF1gH3iJ5kL7mN9oP1qR3sT"}


class CoordinatorInviteSchema(AdminReasonSchema):
    email = EmailAddress(required=True, metadata={"example": "grace@example.com"})


class CoordinatorInvitationSchema(Schema):
    id = fields.UUID()
    programme_id = fields.UUID()
    email = fields.String()
    status = fields.Enum(InvitationStatus, by_value=True)
    invited_by_user_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    user_id = fields.UUID(allow_none=True, metadata={"description": "Who coordinates by it, once accepted."})
    email_status = fields.String()
    emailed_at = fields.DateTime(allow_none=True)


class CoordinatorNamedSchema(Schema):
    granted = fields.Boolean(metadata={"description": "The address is a confirmed account's: they coordinate now."})
    programme = fields.Nested(ProgrammeSchema, allow_none=True)
    invitation = fields.Nested(CoordinatorInvitationSchema, allow_none=True, metadata={
        "description": "Any other address: invited, coordinating once the address is confirmed."})


class CoordinatorInvitationPreviewSchema(Schema):
    programme = fields.Nested(ProgrammeSummarySchema)
    email = fields.String()
    usable = fields.Boolean()
    account_exists = fields.Boolean()


class CoordinatorInvitationAcceptedSchema(Schema):
    programme_id = fields.UUID()


@admin_blp.route("/programmes/<uuid:programme_id>/coordinator-invitations")
class CoordinatorInvitations(MethodView):
    @admin_blp.doc(operationId="adminInviteCoordinator")
    @admin_blp.arguments(CoordinatorInviteSchema, example={"email": "grace@example.com",
                                                            "reason": "Runs the spring cohort."})
    @admin_blp.response(200, CoordinatorNamedSchema)
    @documents_errors(admin_blp, 400, 401, 403, 404, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Name a coordinator by address: a confirmed account's coordinates now (`granted`); any other address (no
        account, or one whose address is not confirmed) is invited by mail, and coordinates once the address is
        confirmed (registering from the link, opening it signed in, or confirming the account's address). The
        audit trail names the admin, with the reason, at the invitation and at the grant. 400 for one who
        coordinates it already, one invited already, or past 20 coordinators."""
        named = invited.name_by_address(db_session(), current_actor(), programme_id, body["email"],
                                        reason=body["reason"])
        return {"granted": named.programme is not None, "programme": named.programme,
                "invitation": named.invitation}

    @admin_blp.doc(operationId="adminListCoordinatorInvitations")
    @admin_blp.arguments(PaginationArgs, location="query")
    @admin_blp.response(200, page_of(CoordinatorInvitationSchema, "CoordinatorInvitationPage"))
    @documents_errors(admin_blp, 401, 403, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """A programme's coordinator invitations, newest first."""
        return invited.list_invitations(db_session(), current_actor(), programme_id, **args)


@admin_blp.route("/programmes/<uuid:programme_id>/coordinator-invitations/<uuid:invitation_id>/withdraw")
class WithdrawCoordinatorInvitation(MethodView):
    @admin_blp.doc(operationId="adminWithdrawCoordinatorInvitation")
    @admin_blp.arguments(AdminReasonSchema, example={"reason": "Sent to the wrong address."})
    @admin_blp.response(200, CoordinatorInvitationSchema)
    @documents_errors(admin_blp, 400, 401, 403, 404, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID, invitation_id: uuid.UUID) -> Any:
        """Withdraw a pending invitation: its link stops working; recorded with the reason."""
        return invited.withdraw(db_session(), current_actor(), programme_id, invitation_id, **body)


@blp.route("/preview")
class Preview(MethodView):
    @blp.doc(operationId="previewCoordinatorInvitation", security=PUBLIC)
    @blp.arguments(ProgrammeTokenSchema, example=TOKEN)
    @blp.response(200, CoordinatorInvitationPreviewSchema)
    @documents_errors(blp, 422, 429)
    def post(self, body: dict[str, Any]) -> Any:
        """What the link invites to (no sign-in: the token is the key): the programme, the address, whether it may
        still be answered and whether the address has an account (sign in, or register)."""
        limit_public_reads()
        found = invited.preview(db_session(), body["token"])
        usable = found.usable  # an answered, withdrawn or lapsed one tells no more than that
        return {"programme": found.programme, "email": found.invitation.email if usable else "", "usable": usable,
                "account_exists": found.account_exists and usable}


@blp.route("/accept")
class Accept(MethodView):
    @blp.doc(operationId="acceptCoordinatorInvitation")
    @blp.arguments(ProgrammeTokenSchema, example=TOKEN)
    @blp.response(200, CoordinatorInvitationAcceptedSchema)
    @documents_errors(blp, 401, 403, 422)
    def post(self, body: dict[str, Any]) -> Any:
        """Accept, signed in to the account of the invited address: the address counts as confirmed (the mail
        reached it) and you coordinate the programme. 403 for another account; 422 for a link used, withdrawn or
        expired."""
        require_login()
        return {"programme_id": invited.accept(db_session(), current_actor(), body["token"])}


@blp.route("/register")
class Register(MethodView):
    @blp.doc(operationId="registerFromCoordinatorInvitation", security=PUBLIC)
    @blp.arguments(ProgrammeInvitationRegisterSchema, example={**TOKEN, "display_name": "Grace",
                                                               "password": "a longer passphrase nobody has seen"})
    @blp.response(201, TokenSchema, example=EXAMPLE_TOKEN)
    @documents_errors(blp, 403, 409, 422, 429)
    def post(self, body: dict[str, Any]) -> Any:
        """Create the account of the invited address, confirmed (the mail reached it), coordinating the programme
        (rate-limited as registrations are); signs you in. 409 when the address has an account: sign in and
        accept."""
        limit_registrations()
        by_cookie = body.pop("refresh_cookie")
        user, _ = invited.register(db_session(), body.pop("token"), **body)
        audit.record(AuthEventKind.SIGNED_IN, user.id)
        return cookie.deliver(signed_in_body(user), cookie=by_cookie)
