"""Operator views for administrators: outbox backlog, failed deliveries, webhook recovery."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs, Timestamp, page_of
from api.database import db_session
from api.security import current_actor, require_login
from workflows import operations
from workflows.errors import Forbidden

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Operators (admins only).")


@blp.before_request
def _admins_only() -> None:
    require_login()
    if not current_actor().is_admin:
        raise Forbidden("administrators only")


class HandlerBacklogSchema(ma.Schema):
    handler = fields.String(metadata={"example": "webhooks.fan_out"})
    pending = fields.Integer(metadata={"example": 3})
    oldest_pending_at = fields.DateTime(allow_none=True)
    failing = fields.Integer(metadata={"description": "Pending rows whose last attempt failed."})
    last_error = fields.String(allow_none=True)


class OutboxReportSchema(ma.Schema):
    pending = fields.Integer(metadata={"example": 3})
    oldest_pending_at = fields.DateTime(allow_none=True)
    handlers = fields.List(fields.Nested(HandlerBacklogSchema))


class FailedDeliverySchema(ma.Schema):
    id = fields.String(metadata={"description": "The message id, also its `webhook-id`."})
    endpoint_id = fields.UUID()
    event_type = fields.String()
    attempts = fields.Integer()
    last_status_code = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


FailedDeliveryPageSchema = page_of(FailedDeliverySchema, "FailedDeliveryPage")


class FailedDeliveryArgs(PaginationArgs):
    endpoint_id = fields.UUID(load_default=None)


class RecoverSchema(ma.Schema):
    since = Timestamp(required=True, metadata={"example": "2030-03-01T00:00:00Z"})
    until = Timestamp(load_default=None, allow_none=True)


class RecoveredSchema(ma.Schema):
    recovered = fields.Integer(metadata={"example": 12})


@blp.route("/outbox")
class Outbox(MethodView):
    @blp.response(200, OutboxReportSchema, example={"pending": 0, "oldest_pending_at": None, "handlers": []})
    @documents_errors(blp, 401, 403)
    def get(self) -> Any:
        """Work not done yet, per handler, with the latest error."""
        return operations.outbox_report(db_session())


@blp.route("/webhook-deliveries")
class FailedDeliveries(MethodView):
    @blp.arguments(FailedDeliveryArgs, location="query")
    @blp.response(200, FailedDeliveryPageSchema)
    @documents_errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Failed webhook messages across endpoints, newest first."""
        return operations.failed_deliveries(db_session(), **args)


@blp.route("/webhook-endpoints/<uuid:endpoint_id>/recover")
class Recover(MethodView):
    @blp.arguments(RecoverSchema, example={"since": "2030-03-01T00:00:00Z"})
    @blp.response(202, RecoveredSchema, example={"recovered": 12})
    @documents_errors(blp, 401, 403, 404, 409, 422)
    def post(self, data: dict[str, Any], endpoint_id: uuid.UUID) -> Any:
        """Send an endpoint's failed messages since a time again, keeping their webhook-ids."""
        return {"recovered": operations.recover_failed_messages(db_session(), endpoint_id, **data)}
