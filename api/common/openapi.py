"""The OpenAPI document's shape for integrators: named query enums, the webhooks we send, the version.

Generated clients name an inline query enum after the route (``ListBookingsRoleType2Type1``), so
:class:`NamedQueryEnums` turns every query enum into a named schema. The ``webhooks`` section
(OpenAPI 3.1) has one entry per event type we send, whose body schema is derived from the typed
payloads in ``workflows/events.py``, so the document cannot drift from what fan-out sends.
"""

from __future__ import annotations

import tomllib
import types
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

from apispec import APISpec, BasePlugin

from models import BookingStatus, ListingKind, SessionStatus, WebhookMessageStatus
from workflows.events import EventType
from workflows.payloads import GROUP_KEY
from workflows.webhooks.endpoints import EVENT_TYPES

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

# The name of each query enum, by its values.
_ENUM_NAMES: dict[frozenset[str], str] = {
    frozenset(BookingStatus): "BookingStatus",
    frozenset(SessionStatus): "SessionStatus",
    frozenset(WebhookMessageStatus): "DeliveryStatus",
    frozenset(ListingKind): "ListingKind",
    frozenset({"mentee", "mentor"}): "ParticipantRole",
}


@cache
def service_version() -> str:
    """The package version (``pyproject.toml``): the document's ``info.version``."""
    with PYPROJECT.open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


class NamedQueryEnums(BasePlugin):
    """Every enum of a query parameter becomes a named schema (``BookingStatus``), referenced by name."""

    def init_spec(self, spec: APISpec) -> None:
        self.spec = spec

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **_kwargs: Any) -> None:
        for operation in (operations or {}).values():
            for parameter in operation.get("parameters", []):
                if not isinstance(parameter, dict):
                    continue  # a reference to a shared parameter (an ETag's If-None-Match)
                values = [value for value in (parameter.get("schema") or {}).get("enum", []) if value is not None]
                if parameter.get("in") != "query" or not values:
                    continue
                name = _ENUM_NAMES.get(frozenset(values)) or _pascal(parameter["name"])
                if name not in self.spec.components.schemas:
                    self.spec.components.schema(name, {"type": "string", "enum": values})
                parameter["schema"] = {"$ref": f"#/components/schemas/{name}"}


# --- webhooks -----------------------------------------------------------------------------------

WEBHOOK_HEADERS = (
    ("webhook-id", "The message id (`msg_…`): the same on every retry of this message; deduplicate on it."),
    ("webhook-timestamp", "Seconds since the epoch when this attempt was signed; refuse stale ones."),
    ("webhook-signature", ("`v1,<base64 HMAC-SHA256>` of `{id}.{timestamp}.{body}`, space-separated when "
                          "a rotated secret still signs too (Standard Webhooks).")),
)


def _json_type(annotation: Any) -> dict[str, Any]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        inner = _json_type(options[0])
        if len(options) == len(get_args(annotation)):
            return inner
        nullable = {**inner, "type": [inner["type"], "null"]}
        return {**nullable, "enum": [*inner["enum"], None]} if "enum" in inner else nullable
    if origin is list:
        return {"type": "array", "items": _json_type(get_args(annotation)[0])}
    if is_typeddict(annotation):
        return payload_schema(annotation)
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return {"type": "string", "enum": [member.value for member in annotation]}
    return {"type": {str: "string", int: "integer", float: "number", bool: "boolean"}[annotation]}


def payload_schema(payload: type, *, optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The JSON Schema of a payload ``TypedDict``: every key required unless named in ``optional``."""
    hints = get_type_hints(payload)
    return {
        "type": "object",
        "description": (payload.__doc__ or "").strip(),
        "properties": {key: _json_type(hint) for key, hint in hints.items()},
        "required": sorted(set(hints) - optional),
        "additionalProperties": False,
    }


def schema_name(payload: type) -> str:
    """A payload's schema in the document: ``BookingPayload`` is ``BookingEventData``."""
    return payload.__name__.removesuffix("Payload") + "EventData"


def payload_schemas() -> dict[str, tuple[type, frozenset[str]]]:
    """Schema name -> (payload type, keys a receiver may not get), for every shape an event's data takes. A
    group's participant list goes to the mentor's and admins' endpoints only."""
    shapes = {payload for event_type in EventType for payload in event_type.payloads}
    return {schema_name(payload): (payload, frozenset({GROUP_KEY}) & set(get_type_hints(payload)))
            for payload in sorted(shapes, key=lambda shape: shape.__name__)}


def sent_event_types() -> list[str]:
    """Every event type a webhook endpoint can receive."""
    return sorted(EVENT_TYPES)


def data_schemas(event_type: str) -> list[str]:
    """The payload schemas an event type's ``data`` may take."""
    return [schema_name(payload) for payload in EventType(event_type).payloads]


def envelope_schema_name(event_type: str) -> str:
    return "".join(_pascal(part) for part in event_type.split(".")) + "Webhook"


def document_webhooks(spec: APISpec) -> None:
    """Register the payload and envelope schemas, and one ``webhooks`` entry per event type we send."""
    for name, (payload, optional) in payload_schemas().items():
        spec.components.schema(name, payload_schema(payload, optional=optional))
    webhooks: dict[str, Any] = {}
    for event_type in sent_event_types():
        refs = [{"$ref": f"#/components/schemas/{name}"} for name in data_schemas(event_type)]
        envelope = envelope_schema_name(event_type)
        spec.components.schema(envelope, {
            "type": "object",
            "description": f"The body of a `{event_type}` delivery (Standard Webhooks envelope).",
            "properties": {
                "type": {"type": "string", "const": event_type},
                "timestamp": {"type": "string", "format": "date-time",
                              "description": "When the event happened (UTC)."},
                "data": refs[0] if len(refs) == 1 else {"oneOf": refs},
            },
            "required": ["type", "timestamp", "data"],
            "additionalProperties": False,
        })
        webhooks[event_type] = {"post": {
            "operationId": "on" + envelope.removesuffix("Webhook"),
            "summary": f"`{event_type}`, POSTed to every enabled endpoint subscribed to it that may see it.",
            "tags": ["webhooks"],
            "parameters": [{"in": "header", "name": name, "required": True, "description": description,
                            "schema": {"type": "string"}} for name, description in WEBHOOK_HEADERS],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{envelope}"}}}},
            "responses": {"2XX": {"description": "Received. Any other answer, or none within the timeout, is "
                                                 "retried on the schedule (410 disables the endpoint)."}},
        }}
    spec.options["webhooks"] = webhooks
