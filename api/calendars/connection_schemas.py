"""A mentor's calendar connections as the API shows them: never the address nor the credentials, only the host."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import Schema, Text
from infra.http_targets import MAX_URL_LENGTH
from models import ConnectionStatus
from models.calendars import CALDAV, MAX_SOURCES_PER_CONNECTION, SUBSCRIPTION

EXAMPLE_CONNECTION: dict[str, Any] = {
    "id": "5e0c1d2b-7a3f-4c8e-9b1d-2f3a4b5c6d7e",
    "kind": "caldav",
    "host": "caldav.fastmail.com",
    "status": "active",
    "busy_synced_at": "2030-03-01T12:05:00+00:00",
    "last_error": None,
    "last_error_at": None,
    "calendars": [{"id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "name": "Personal", "busy": True, "target": True,
                   "writable": True, "writes_owed": 0, "last_write_error": None}],
    "created_at": "2030-03-01T12:00:00+00:00",
}

# A connection being connected is shown to nobody.
SHOWN_STATUSES = [status.value for status in ConnectionStatus if status != ConnectionStatus.CONNECTING]

class SourceSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    busy = fields.Boolean(metadata={"description": "Its events make the mentor busy."})
    target = fields.Boolean(metadata={"description": "Sessions are written to it (one calendar per mentor)."})
    writable = fields.Boolean(metadata={"description": "Whether the server lets sessions be written to it."})
    writes_owed = fields.Integer(metadata={"description": "Sessions' events not written to it yet (or not taken "
                                                          "away yet, when it stopped receiving sessions)."})
    last_write_error = fields.String(allow_none=True, metadata={
        "description": "What the server said to the last write that failed, while writes are owed."})


class ConnectionSchema(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"enum": [CALDAV, SUBSCRIPTION]})
    host = fields.String(metadata={"description": "The server's host; the address and credentials are never shown."})
    status = fields.String(metadata={"enum": SHOWN_STATUSES, "description":
                                     "`broken`: the server refused the credentials; nothing is read until new ones "
                                     "are given (`PATCH`)."})
    busy_synced_at = fields.DateTime(allow_none=True, attribute="synced_at", metadata={
        "description": "When the busy times were last read in full: slots and checks use what was read then."})
    last_error = fields.String(allow_none=True)
    last_error_at = fields.DateTime(allow_none=True)
    calendars = fields.List(fields.Nested(SourceSchema))
    created_at = fields.DateTime()


class ConnectionListSchema(Schema):
    items = fields.List(fields.Nested(ConnectionSchema))


class ConnectionCreateSchema(Schema):
    kind = Text(required=True, validate=validate.OneOf([CALDAV, SUBSCRIPTION]), metadata={
        "description": "`caldav`: a CalDAV account (iCloud, Fastmail, Nextcloud…) with an app password; `ics`: a "
                       "secret iCalendar address (Google's or Outlook's), read-only."})
    url = Text(required=True, validate=validate.Length(min=8, max=MAX_URL_LENGTH))
    username = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    password = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500),
                             load_only=True)

    @ma.validates_schema
    def _credentials(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["kind"] == CALDAV and not (data.get("username") and data.get("password")):
            raise ma.ValidationError("a CalDAV account needs `username` and `password` (an app password)")
        if data["kind"] == SUBSCRIPTION and (data.get("username") or data.get("password")):
            raise ma.ValidationError("a subscription address takes no `username` nor `password`")


class SourceChoiceSchema(Schema):
    id = fields.UUID(required=True)
    busy = fields.Boolean()
    target = fields.Boolean()


class ConnectionPatchSchema(Schema):
    calendars = fields.List(fields.Nested(SourceChoiceSchema), load_default=list,
                            validate=validate.Length(max=MAX_SOURCES_PER_CONNECTION))
    username = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    password = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500),
                             load_only=True)
