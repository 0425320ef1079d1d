"""Webhook endpoints and their deliveries (Standard Webhooks). Only an endpoint's owner sees it."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs
from api.database import db_session
from api.idempotency import idempotent
from api.security import current_actor, require_login
from api.webhooks.schemas import (
    EXAMPLE_DELIVERY,
    EXAMPLE_ENDPOINT,
    EXAMPLE_SECRET,
    DeliveryListArgs,
    DeliveryPageSchema,
    DeliverySchema,
    EndpointCreateSchema,
    EndpointPageSchema,
    EndpointPatchSchema,
    EndpointSchema,
    EndpointWithSecretSchema,
)
from workflows.webhooks import endpoints
from workflows.webhooks.endpoints import DeliveryView

blp = Blueprint("webhook_endpoints", __name__, url_prefix="/api/v1/webhook-endpoints",
                description="Signed webhook deliveries (Standard Webhooks). Each delivery is a POST of "
                            "`{type, timestamp, data}` with `webhook-id`, `webhook-timestamp` and "
                            "`webhook-signature` headers; verify them with the endpoint's secret.")
blp.before_request(require_login)

_WITH_SECRET = {**EXAMPLE_ENDPOINT, "secret": EXAMPLE_SECRET}
_DELIVERY_PATH = "/<uuid:endpoint_id>/deliveries/<string(maxlength=64):delivery_id>/retry"


@blp.route("")
class Endpoints(MethodView):
    @blp.doc(operationId="listWebhookEndpoints")
    @blp.arguments(PaginationArgs, location="query")
    @blp.response(200, EndpointPageSchema, example={"items": [EXAMPLE_ENDPOINT], "next_cursor": None})
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Your webhook endpoints, newest first (secrets are not shown)."""
        return endpoints.list_endpoints(db_session(), current_actor(), **args)

    @blp.doc(operationId="createWebhookEndpoint")
    @idempotent(blp, never_stored=("secret",))
    @blp.arguments(EndpointCreateSchema, example={
        "url": "https://hooks.example.com/mentorship", "event_types": ["booking.accepted", "session.completed"],
        "description": "Our CRM"})
    @blp.response(201, EndpointWithSecretSchema, example=_WITH_SECRET)
    @documents_errors(blp, 401, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Register an endpoint. The answer holds its signing `secret`, shown this once (and on rotation).
        409 beyond `WEBHOOK_MAX_ENDPOINTS_PER_USER` endpoints. A replay of the same `Idempotency-Key` shows
        the endpoint without its secret: if the first answer was lost, rotate the secret."""
        return endpoints.create_endpoint(db_session(), current_actor(), **data)


@blp.route("/<uuid:endpoint_id>")
class EndpointById(MethodView):
    @blp.doc(operationId="getWebhookEndpoint")
    @blp.response(200, EndpointSchema, example=EXAMPLE_ENDPOINT)
    @documents_errors(blp, 401, 404)
    def get(self, endpoint_id: uuid.UUID) -> Any:
        """One of your endpoints."""
        return endpoints.get_endpoint(db_session(), current_actor(), endpoint_id)

    @blp.doc(operationId="updateWebhookEndpoint")
    @blp.arguments(EndpointPatchSchema, example={"enabled": True, "event_types": ["*"]})
    @blp.response(200, EndpointSchema, example=EXAMPLE_ENDPOINT)
    @documents_errors(blp, 401, 404, 422)
    def patch(self, data: dict[str, Any], endpoint_id: uuid.UUID) -> Any:
        """Change the URL, event types or description, or pause/resume deliveries with `enabled`."""
        return endpoints.update_endpoint(db_session(), current_actor(), endpoint_id, data)

    @blp.doc(operationId="deleteWebhookEndpoint")
    @blp.response(204)
    @documents_errors(blp, 401, 404)
    def delete(self, endpoint_id: uuid.UUID) -> None:
        """Delete the endpoint and its delivery history."""
        endpoints.delete_endpoint(db_session(), current_actor(), endpoint_id)


@blp.route("/<uuid:endpoint_id>/rotate-secret")
class RotateSecret(MethodView):
    @blp.doc(operationId="rotateWebhookSecret")
    @blp.response(200, EndpointWithSecretSchema, example=_WITH_SECRET)
    @documents_errors(blp, 401, 404)
    def post(self, endpoint_id: uuid.UUID) -> Any:
        """Replace the signing secret; the answer shows the new one. Every later attempt is signed with it,
        and also with the old one until `WEBHOOK_SECRET_OVERLAP` (24 h) has passed."""
        return endpoints.rotate_secret(db_session(), current_actor(), endpoint_id)


@blp.route("/<uuid:endpoint_id>/test")
class SendTest(MethodView):
    @blp.doc(operationId="sendWebhookTest")
    @blp.response(202, DeliverySchema, example={
        **EXAMPLE_DELIVERY, "event_type": "webhook.test", "event_id": None, "attempt_count": 0, "attempts": [],
        "last_status_code": None, "payload": {"endpoint_id": EXAMPLE_ENDPOINT["id"], "message": "…"}})
    @documents_errors(blp, 401, 404, 409, 429)
    def post(self, endpoint_id: uuid.UUID) -> Any:
        """Send a `webhook.test` delivery to this endpoint now, even while it backs off; follow it in its
        deliveries. 409 if disabled, 429 beyond `WEBHOOK_TESTS_PER_MINUTE` per endpoint."""
        return DeliveryView(endpoints.send_test(db_session(), current_actor(), endpoint_id), [])


@blp.route("/<uuid:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @blp.doc(operationId="listWebhookDeliveries")
    @blp.arguments(DeliveryListArgs, location="query")
    @blp.response(200, DeliveryPageSchema, example={"items": [EXAMPLE_DELIVERY], "next_cursor": None})
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], endpoint_id: uuid.UUID) -> Any:
        """The endpoint's deliveries, newest first, each with its attempts."""
        return endpoints.list_deliveries(db_session(), current_actor(), endpoint_id, **args)


@blp.route(_DELIVERY_PATH)
class RetryDelivery(MethodView):
    @blp.doc(operationId="retryWebhookDelivery")
    @blp.response(202, DeliverySchema, example={**EXAMPLE_DELIVERY, "attempt_count": 0,
                                                "next_attempt_at": "2030-03-01T13:00:00+00:00"})
    @documents_errors(blp, 401, 404, 409, 429)
    def post(self, endpoint_id: uuid.UUID, delivery_id: str) -> Any:
        """Send a delivery again now, with the same `webhook-id`, even while the endpoint backs off. 409 while
        an attempt is in progress or the endpoint is disabled, 429 beyond `WEBHOOK_RETRIES_PER_MINUTE` per
        endpoint."""
        return endpoints.retry_delivery(db_session(), current_actor(), endpoint_id, delivery_id)
