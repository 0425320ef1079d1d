from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import PaginationArgs, Schema, Text, page_of
from infra.http_targets import MAX_URL_LENGTH
from models import WebhookMessageStatus
from workflows.webhooks.endpoints import EVENT_TYPES, DeliveryView
from workflows.webhooks.messages import ALL_EVENTS

_EVENT_TYPES_HELP = (
    f"Event types to receive, or `[\"*\"]` for all (default). Known types: {', '.join(EVENT_TYPES)}."
)
_URL_HELP = (
    "Where deliveries are POSTed: an absolute http(s) URL whose host resolves only to public addresses "
    "(loopback, private, link-local, CGNAT, multicast and reserved addresses are refused)."
)

EXAMPLE_ENDPOINT: dict[str, Any] = {
    "id": "5b0d3c1e-7a2f-4e8b-9c6d-1f2e3a4b5c6d",
    "url": "https://hooks.example.com/mentorship",
    "event_types": ["booking.accepted", "session.completed"],
    "description": "Our CRM",
    "enabled": True,
    "disabled_reason": None,
    "last_disabled_at": None,
    "last_disabled_reason": None,
    "failing_since": None,
    "consecutive_failures": 0,
    "backoff_until": None,
    "created_at": "2030-03-01T12:00:00+00:00",
    "updated_at": "2030-03-01T12:00:00+00:00",
}
EXAMPLE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6n3Cz9jY+6E="  # noqa: S105 - a documentation example

EXAMPLE_DELIVERY: dict[str, Any] = {
    "id": "msg_2f6c0b7e9a8d4c3b8e1f0a9b8c7d6e5f",
    "webhook_id": "msg_2f6c0b7e9a8d4c3b8e1f0a9b8c7d6e5f",
    "event_id": "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d",
    "event_type": "booking.accepted",
    "status": "pending",
    "attempt_count": 1,
    "next_attempt_at": "2030-03-01T12:05:03+00:00",
    "last_status_code": 503,
    "delivered_at": None,
    "created_at": "2030-03-01T12:00:00+00:00",
    "payload": {"id": "6f1c2f5e-8d4b-4a57-9a53-2a8b4f0f3c11", "status": "accepted"},
    "attempts": [
        {"attempted_at": "2030-03-01T12:00:01+00:00", "status_code": 503, "duration_ms": 84, "error": "HTTP 503"},
    ],
}


def _event_types(**kwargs: Any) -> fields.List[str]:
    return fields.List(
        Text(validate=validate.OneOf([ALL_EVENTS, *EVENT_TYPES])),
        validate=validate.Length(min=1, max=len(EVENT_TYPES) + 1),
        metadata={"description": _EVENT_TYPES_HELP, "example": ["booking.accepted", "session.completed"]},
        **kwargs,
    )


def _url(**kwargs: Any) -> fields.Url:
    return fields.Url(
        schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=MAX_URL_LENGTH),
        metadata={"description": _URL_HELP, "example": "https://hooks.example.com/mentorship"}, **kwargs,
    )


class EndpointCreateSchema(Schema):
    url = _url(required=True)
    event_types = _event_types(load_default=lambda: [ALL_EVENTS])
    description = Text(load_default="", validate=validate.Length(max=500), metadata={"example": "Our CRM"})


class EndpointPatchSchema(Schema):
    url = _url()
    event_types = _event_types()
    description = Text(validate=validate.Length(max=500))
    enabled = fields.Boolean(metadata={
        "description": "Pause (`false`) or resume (`true`) deliveries. Re-enabling clears `disabled_reason` and "
                       "resumes pending deliveries; the failure record stays (`failing_since`, "
                       "`consecutive_failures`, `backoff_until`, `last_disabled_at`, `last_disabled_reason`), so "
                       "the five days without a success count on. Send a test to try the endpoint at once. A new "
                       "`url` starts a clean record."})

    @ma.validates_schema
    def _not_empty(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("give at least one field to change")


class EndpointSchema(Schema):
    id = fields.UUID(dump_only=True)
    url = fields.String(dump_only=True)
    event_types = fields.List(fields.String(), dump_only=True)
    description = fields.String(dump_only=True)
    enabled = fields.Boolean(dump_only=True)
    disabled_reason = fields.String(allow_none=True, dump_only=True, metadata={
        "description": "While disabled, why deliveries stopped: the owner paused them, a 410 Gone, or five days "
                       "of failures."})
    last_disabled_at = fields.DateTime(allow_none=True, dump_only=True, metadata={
        "description": "When the endpoint was last disabled; kept after it is enabled again."})
    last_disabled_reason = fields.String(allow_none=True, dump_only=True, metadata={
        "description": "Why it was last disabled; kept after it is enabled again."})
    failing_since = fields.DateTime(allow_none=True, dump_only=True, metadata={
        "description": "First failure since the last success; after five days the endpoint is disabled. "
                       "Cleared by a successful delivery or a new `url`, not by re-enabling."})
    consecutive_failures = fields.Integer(dump_only=True, metadata={
        "description": "Failed attempts since the last success (cleared as `failing_since` is)."})
    backoff_until = fields.DateTime(allow_none=True, dump_only=True, metadata={
        "description": "After failures, no attempt starts before this time: the n-th failure in a row waits the "
                       "n-th step of `WEBHOOK_RETRY_SCHEDULE` (its last step beyond), longer if the endpoint "
                       "asked with `Retry-After`. A test send or a manual retry goes at once."})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class EndpointWithSecretSchema(EndpointSchema):
    secret = fields.String(dump_only=True, metadata={
        "description": "The signing secret (`whsec_` + base64), shown only on creation and rotation. "
                       "Verify deliveries with it, e.g. `standardwebhooks.Webhook(secret).verify(body, headers)`."})


EndpointPageSchema = page_of(EndpointSchema, "WebhookEndpointPage")


class AttemptSchema(Schema):
    attempted_at = fields.DateTime(dump_only=True)
    status_code = fields.Integer(allow_none=True, dump_only=True, metadata={
        "description": "The receiver's HTTP status; null when no response came (timeout, refused target) "
                       "or while the attempt is in progress."})
    duration_ms = fields.Integer(dump_only=True)
    error = fields.String(allow_none=True, dump_only=True)


class DeliverySchema(Schema):
    id = fields.String(dump_only=True, metadata={"description": "The delivery's id, also its `webhook-id`."})
    webhook_id = fields.String(dump_only=True, metadata={
        "description": "The `webhook-id` header, the same on every attempt and manual retry."})
    event_id = fields.UUID(allow_none=True, dump_only=True)
    event_type = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": [s.value for s in WebhookMessageStatus]})
    attempt_count = fields.Integer(dump_only=True, metadata={
        "description": "Attempts since the delivery was created or last retried by hand."})
    next_attempt_at = fields.DateTime(allow_none=True, dump_only=True)
    last_status_code = fields.Integer(allow_none=True, dump_only=True)
    delivered_at = fields.DateTime(allow_none=True, dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    payload = fields.Dict(dump_only=True, metadata={"description": "The `data` of the delivered body."})
    attempts = fields.List(fields.Nested(AttemptSchema), dump_only=True, metadata={
        "description": "Every attempt, oldest first."})

    @ma.pre_dump
    def _flatten(self, view: DeliveryView, **_kwargs: Any) -> dict[str, Any]:
        message = view.message
        return {
            "id": message.id, "webhook_id": message.id, "event_id": message.event_id,
            "event_type": message.event_type, "status": message.status, "attempt_count": message.attempts,
            "next_attempt_at": message.next_attempt_at, "last_status_code": message.last_status_code,
            "delivered_at": message.delivered_at, "created_at": message.created_at, "payload": message.payload,
            "attempts": view.attempts,
        }


DeliveryPageSchema = page_of(DeliverySchema, "WebhookDeliveryPage")


class DeliveryListArgs(PaginationArgs):
    status = Text(load_default=None, validate=validate.OneOf([s.value for s in WebhookMessageStatus]))
