"""Administrators: outbox backlog, failing webhook endpoints, failed deliveries, webhook recovery; finding users,
bookings, sessions and reviews; disabling, enabling and deleting accounts, granting or revoking admin, naming a
programme's coordinators, cancelling a session, hiding a review, resolving a dispute; the platform's numbers; the
audit trail of those actions and of sign-ins."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from api.bookings.schemas import BookingPageSchema
from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs, Schema, Timestamp, page_of
from api.database import db_session
from api.operations.schemas import (
    EXAMPLE_NUMBERS,
    EXAMPLE_USER,
    AdminActionPageSchema,
    AdminBookingArgs,
    AdminReasonSchema,
    AdminReviewArgs,
    AdminReviewPageSchema,
    AdminSessionArgs,
    AdminUserPageSchema,
    AdminUserSchema,
    AuditArgs,
    AuthEventArgs,
    AuthEventPageSchema,
    DisputeArgs,
    HiddenReviewSchema,
    NumbersArgs,
    NumbersSchema,
    ResolveDisputeSchema,
    TroubledEndpointPageSchema,
    UserSearchArgs,
)
from api.programmes.schemas import EXAMPLE_PROGRAMME, ProgrammeSchema
from api.security import current_actor, require_login
from api.sessions.schemas import EXAMPLE_SESSION, DisputePageSchema, DisputeSchema, SessionPageSchema, SessionSchema
from workflows import access
from workflows.accounts import audit as auth_events
from workflows.operations import accounts as account_actions
from workflows.operations import admin as administration
from workflows.operations import numbers
from workflows.operations import outbox as operations
from workflows.sessions import attendance

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Operators (admins only).")


@blp.before_request
def _admins_only() -> None:
    require_login()
    access.require_admin(current_actor())


class HandlerBacklogSchema(Schema):
    handler = fields.String(metadata={"example": "webhooks.fan_out"})
    pending = fields.Integer(metadata={"example": 3})
    oldest_pending_at = fields.DateTime(allow_none=True)
    failing = fields.Integer(metadata={"description": "Pending rows whose last attempt failed."})
    last_error = fields.String(allow_none=True)


class OutboxReportSchema(Schema):
    pending = fields.Integer(metadata={"example": 3})
    oldest_pending_at = fields.DateTime(allow_none=True)
    handlers = fields.List(fields.Nested(HandlerBacklogSchema))


class FailedDeliverySchema(Schema):
    id = fields.String(metadata={"description": "The message id, also its `webhook-id`."})
    endpoint_id = fields.UUID()
    event_type = fields.String()
    attempts = fields.Integer()
    last_status_code = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


FailedDeliveryPageSchema = page_of(FailedDeliverySchema, "FailedDeliveryPage")


class FailedDeliveryArgs(PaginationArgs):
    endpoint_id = fields.UUID(load_default=None)


class RecoverSchema(Schema):
    since = Timestamp(required=True, metadata={"example": "2030-03-01T00:00:00Z"})
    until = Timestamp(load_default=None, allow_none=True)


class RecoveredSchema(Schema):
    recovered = fields.Integer(metadata={"example": 12})


@blp.route("/outbox")
class Outbox(MethodView):
    @blp.doc(operationId="getOutboxStatus")
    @blp.response(200, OutboxReportSchema, example={"pending": 0, "oldest_pending_at": None, "handlers": []})
    @documents_errors(blp, 401, 403)
    def get(self) -> Any:
        """Work not done yet, per handler, with the latest error."""
        return operations.outbox_report(db_session())


@blp.route("/webhook-endpoints")
class TroubledEndpoints(MethodView):
    @blp.doc(operationId="adminListTroubledWebhookEndpoints")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, TroubledEndpointPageSchema)
    @documents_errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Webhook endpoints failing now or disabled, newest first; their failed messages are under
        `/admin/webhook-deliveries?endpoint_id=`."""
        return operations.troubled_endpoints(db_session(), **args)


@blp.route("/webhook-deliveries")
class FailedDeliveries(MethodView):
    @blp.doc(operationId="listFailedWebhookDeliveries")
    @blp.arguments(FailedDeliveryArgs, location="query")
    @blp.response(200, FailedDeliveryPageSchema)
    @documents_errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Failed webhook messages across endpoints, newest first."""
        return operations.failed_deliveries(db_session(), **args)


@blp.route("/webhook-endpoints/<uuid:endpoint_id>/recover")
class Recover(MethodView):
    @blp.doc(operationId="recoverWebhookEndpoint")
    @blp.arguments(RecoverSchema, example={"since": "2030-03-01T00:00:00Z"})
    @blp.response(202, RecoveredSchema, example={"recovered": 12})
    @documents_errors(blp, 401, 403, 404, 409, 422)
    def post(self, data: dict[str, Any], endpoint_id: uuid.UUID) -> Any:
        """Send an endpoint's failed messages since a time again, keeping their webhook-ids."""
        return {"recovered": operations.recover_failed_messages(db_session(), endpoint_id, **data)}


@blp.route("/users")
class Users(MethodView):
    @blp.doc(operationId="adminListUsers")
    @blp.arguments(UserSearchArgs, location="query")
    @blp.response(200, AdminUserPageSchema)
    @documents_errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Users, newest first, by a part of their email or name, or by admin flag."""
        return administration.list_users(db_session(), **args)


@blp.route("/users/<uuid:user_id>/admin")
class UserAdmin(MethodView):
    @blp.doc(operationId="grantAdmin")
    @blp.arguments(AdminReasonSchema, example={"reason": "Runs the platform with the support team from March."})
    @blp.response(200, AdminUserSchema, example={**EXAMPLE_USER, "is_admin": True})
    @documents_errors(blp, 401, 403, 404, 422)
    def put(self, data: dict[str, Any], user_id: uuid.UUID) -> Any:
        """Make a user an admin, saying why (recorded in the audit trail with the reason)."""
        return administration.grant_admin(db_session(), current_actor(), user_id, **data)

    @blp.doc(operationId="revokeAdmin")
    @blp.arguments(AdminReasonSchema, example={"reason": "Left the support team."})
    @blp.response(200, AdminUserSchema, example=EXAMPLE_USER)
    @documents_errors(blp, 401, 403, 404, 409, 422)
    def delete(self, data: dict[str, Any], user_id: uuid.UUID) -> Any:
        """Take admin away, saying why (recorded with the reason); 409 when it would leave no admin."""
        return administration.revoke_admin(db_session(), current_actor(), user_id, **data)


@blp.route("/users/<uuid:user_id>")
class UserItem(MethodView):
    @blp.doc(operationId="adminDeleteUser")
    @blp.arguments(AdminReasonSchema, example={"reason": "Asked by the account's owner in writing."})
    @blp.response(204)
    @documents_errors(blp, 401, 403, 404, 409, 422)
    def delete(self, data: dict[str, Any], user_id: uuid.UUID) -> None:
        """Delete someone's account as its owner can (`DELETE /me`): their future bookings and sessions are cancelled
        as if they cancelled them, their name, email and password erased, every token revoked, their listings
        withdrawn. Recorded with the reason. 409 for your own account or the last admin."""
        account_actions.delete_user(db_session(), current_actor(), user_id, **data)


@blp.route("/users/<uuid:user_id>/disable")
class DisableUser(MethodView):
    @blp.doc(operationId="adminDisableUser")
    @blp.arguments(AdminReasonSchema, example={"reason": "Repeated abusive messages to mentees."})
    @blp.response(200, AdminUserSchema, example={
        **EXAMPLE_USER, "disabled_at": "2030-03-02T09:00:00+00:00", "disabled_reason": "Repeated abusive messages."})
    @documents_errors(blp, 401, 403, 404, 409, 422)
    def post(self, data: dict[str, Any], user_id: uuid.UUID) -> Any:
        """Disable an account: every sign-in ends at once (tokens, refresh tokens, live streams), a new sign-in or
        refresh is refused with 403, their future bookings and sessions are cancelled as if they cancelled them
        (the policy applies; the other party reads "account disabled"), and their listings stop taking bookings.
        Recorded with the reason; disabling a disabled account changes nothing. 409 for your own account or the last
        admin."""
        return account_actions.disable_user(db_session(), current_actor(), user_id, **data)


@blp.route("/users/<uuid:user_id>/enable")
class EnableUser(MethodView):
    @blp.doc(operationId="adminEnableUser")
    @blp.arguments(AdminReasonSchema, example={"reason": "Cleared after review."})
    @blp.response(200, AdminUserSchema, example=EXAMPLE_USER)
    @documents_errors(blp, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], user_id: uuid.UUID) -> Any:
        """Enable a disabled account: its owner may sign in again. What was cancelled stays cancelled, and the
        listings stay inactive until their mentor turns them on again. Recorded with the reason."""
        return account_actions.enable_user(db_session(), current_actor(), user_id, **data)


@blp.route("/programmes/<uuid:programme_id>/coordinators/<uuid:user_id>")
class ProgrammeCoordinator(MethodView):
    @blp.doc(operationId="adminNameCoordinator")
    @blp.arguments(AdminReasonSchema, example={"reason": "Takes over from the previous coordinator."})
    @blp.response(200, ProgrammeSchema, example=EXAMPLE_PROGRAMME)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def put(self, data: dict[str, Any], programme_id: uuid.UUID, user_id: uuid.UUID) -> Any:
        """Name one more coordinator of a programme (`PUT /programmes/{id}/coordinators` replaces them all):
        they are told, the programme's history shows it, the audit trail the reason. 400 for no such user."""
        return administration.name_coordinator(db_session(), current_actor(), programme_id, user_id, **data)

    @blp.doc(operationId="adminRemoveCoordinator")
    @blp.arguments(AdminReasonSchema, example={"reason": "Left the organisation."})
    @blp.response(200, ProgrammeSchema, example=EXAMPLE_PROGRAMME)
    @documents_errors(blp, 401, 403, 404, 422)
    def delete(self, data: dict[str, Any], programme_id: uuid.UUID, user_id: uuid.UUID) -> Any:
        """Take one coordinator off a programme (told, in its history, and in the audit trail with the reason);
        404 when they do not coordinate it."""
        return administration.remove_coordinator(db_session(), current_actor(), programme_id, user_id, **data)


@blp.route("/reviews")
class Reviews(MethodView):
    @blp.doc(operationId="adminListReviews")
    @blp.arguments(AdminReviewArgs, location="query")
    @blp.response(200, AdminReviewPageSchema)
    @documents_errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Every review, newest first, hidden ones included, of one mentor or all: where an admin finds one to
        hide."""
        return administration.list_reviews(db_session(), **args)


@blp.route("/numbers")
class Numbers(MethodView):
    @blp.doc(operationId="adminGetPlatformNumbers")
    @blp.arguments(NumbersArgs, location="query")
    @blp.response(200, NumbersSchema, example=EXAMPLE_NUMBERS)
    @documents_errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """The platform's numbers over the last `days` days (UTC, 1 to 90): sessions created per day, booking
        requests that became sessions, the median and 90th percentile of the time from a request to its acceptance
        and from an acceptance to its session, and refusals by rule, from the database's rows."""
        return numbers.platform_numbers(db_session(), **args)


@blp.route("/bookings")
class Bookings(MethodView):
    @blp.doc(operationId="adminListBookings")
    @blp.arguments(AdminBookingArgs, location="query")
    @blp.response(200, BookingPageSchema)
    @documents_errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Every booking, newest first, by status, mentor, mentee and start time in [`from`, `to`)."""
        return administration.list_bookings(
            db_session(), start_from=args.pop("from_"), start_to=args.pop("to"), **args)


@blp.route("/sessions")
class Sessions(MethodView):
    @blp.doc(operationId="adminListSessions")
    @blp.arguments(AdminSessionArgs, location="query")
    @blp.response(200, SessionPageSchema)
    @documents_errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Every session in start order, by status, mentor and start time in [`from`, `to`)."""
        return administration.list_sessions(
            db_session(), start_from=args.pop("from_"), start_to=args.pop("to"), **args)


@blp.route("/sessions/<uuid:session_id>/cancel")
class CancelSession(MethodView):
    @blp.doc(operationId="adminCancelSession")
    @blp.arguments(AdminReasonSchema, example={"reason": "The mentor's account was suspended."})
    @blp.response(200, SessionSchema, example={**EXAMPLE_SESSION, "status": "cancelled"})
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], session_id: uuid.UUID) -> Any:
        """Cancel a scheduled session as the mentor would (never late, every seat refunded); its history shows
        the admin as the actor, and the audit trail the reason. 400 unless scheduled."""
        return administration.cancel_session(db_session(), current_actor(), session_id, **data)


@blp.route("/disputes")
class Disputes(MethodView):
    @blp.doc(operationId="adminListDisputes")
    @blp.arguments(DisputeArgs, location="query")
    @blp.response(200, DisputePageSchema)
    @documents_errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Disputes of who was absent, oldest first; `status=open` is the queue."""
        return attendance.list_disputes(db_session(), current_actor(), **args)


@blp.route("/disputes/<uuid:dispute_id>/resolve")
class ResolveDispute(MethodView):
    @blp.doc(operationId="adminResolveDispute")
    @blp.arguments(ResolveDisputeSchema, example={"absent": "none", "note": "The meeting's log shows both joined."})
    @blp.response(200, DisputeSchema)
    @documents_errors(blp, 401, 403, 404, 409, 422)
    def post(self, data: dict[str, Any], dispute_id: uuid.UUID) -> Any:
        """Set who was absent (`mentee`, `mentor`, or `none`): the credit and the fee follow it, the session's status
        stays; both participants are told (`attendance.resolved`), the audit trail records it. 409 once resolved."""
        return administration.resolve_dispute(db_session(), current_actor(), dispute_id, **data)


@blp.route("/reviews/<uuid:review_id>/hide")
class HideReview(MethodView):
    @blp.doc(operationId="hideReview")
    @blp.arguments(AdminReasonSchema, example={"reason": "Personal data in the comment."})
    @blp.response(200, HiddenReviewSchema)
    @documents_errors(blp, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], review_id: uuid.UUID) -> Any:
        """Hide a review from public lists and the mentor's rating (recorded with the reason)."""
        return administration.hide_review(db_session(), current_actor(), review_id, **data)


@blp.route("/audit")
class Audit(MethodView):
    @blp.doc(operationId="adminListAudit")
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AdminActionPageSchema)
    @documents_errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """What admins did, newest first: who, what, to which user, session or review, and why."""
        return administration.list_actions(db_session(), **args)


@blp.route("/audit/auth-events")
class AuthEvents(MethodView):
    @blp.doc(operationId="adminListAuthEvents")
    @blp.arguments(AuthEventArgs, location="query")
    @blp.response(200, AuthEventPageSchema, example={"items": [{
        "id": "3f2e1d0c-9b8a-4776-a655-443322110099", "user_id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f",
        "kind": "sign_in_failed", "client_address": "203.0.113.7", "created_at": "2030-03-01T12:00:00+00:00"}],
        "next_cursor": None})
    @documents_errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """The audit trail of credentials, newest first: sign-ins and their failures, lock-outs, sign-outs, reused
        refresh tokens, password changes and resets, email changes. Never a password, token or email."""
        return auth_events.list_events(db_session(), **args)
