"""What administrators send and see when they look after people, sessions and reviews."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import PaginationArgs, StartWindowArgs, Text, page_of
from models import AuthEventKind, BookingStatus, DisputeStatus, NoShow, SessionStatus
from models.attendance import MAX_DISPUTE_TEXT
from workflows.operations import admin as administration

EXAMPLE_USER: dict[str, Any] = {
    "id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", "email": "ada@example.com", "display_name": "Ada Lovelace",
    "is_admin": False, "created_at": "2030-03-01T12:00:00+00:00", "deleted_at": None,
}


class AdminUserSchema(ma.Schema):
    id = fields.UUID()
    email = fields.String()
    display_name = fields.String()
    is_admin = fields.Boolean()
    created_at = fields.DateTime()
    deleted_at = fields.DateTime(allow_none=True)


AdminUserPageSchema = page_of(AdminUserSchema, "AdminUserPage")


class UserSearchArgs(PaginationArgs):
    q = Text(load_default=None, validate=validate.Length(min=1, max=200), metadata={
        "description": "A part of the email or display name (case-insensitive)."})
    is_admin = fields.Boolean(load_default=None)


class AdminBookingArgs(StartWindowArgs):
    mentor_profile_id = fields.UUID(load_default=None)
    status = Text(load_default=None, validate=validate.OneOf([s.value for s in BookingStatus]))
    mentee_user_id = fields.UUID(load_default=None)


class AdminSessionArgs(StartWindowArgs):
    mentor_profile_id = fields.UUID(load_default=None)
    status = Text(load_default=None, validate=validate.OneOf([s.value for s in SessionStatus]))


class AdminReasonSchema(ma.Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))


class DisputeArgs(PaginationArgs):
    status = Text(load_default=None, validate=validate.OneOf([s.value for s in DisputeStatus]))


class ResolveDisputeSchema(ma.Schema):
    absent = Text(required=True, validate=validate.OneOf([n.value for n in NoShow]), metadata={
        "description": "Who was absent: `mentee`, `mentor`, or `none` (nobody)."})
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=MAX_DISPUTE_TEXT))

    @ma.post_load
    def _absent(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {**data, "absent": NoShow(data["absent"])}


class AdminActionSchema(ma.Schema):
    id = fields.UUID()
    admin_user_id = fields.UUID(allow_none=True, metadata={"description": "Null once that admin's account is gone."})
    action = fields.String(metadata={"enum": list(administration.ACTIONS)})
    target_type = fields.String(metadata={"enum": ["user", "session", "review", "dispute"]})
    target_id = fields.UUID()
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


AdminActionPageSchema = page_of(AdminActionSchema, "AdminActionPage")


class AuditArgs(PaginationArgs):
    target_id = fields.UUID(load_default=None, metadata={"description": "Of one user, session or review."})


class AuthEventSchema(ma.Schema):
    id = fields.UUID()
    user_id = fields.UUID(allow_none=True, metadata={
        "description": "Whose credentials; null for a failed sign-in of an address no account uses."})
    kind = fields.Enum(AuthEventKind, by_value=True)
    client_address = fields.String(allow_none=True, metadata={
        "description": "As the rate limits count it: an IPv4 address, or an IPv6 client's /64 network."})
    created_at = fields.DateTime()


AuthEventPageSchema = page_of(AuthEventSchema, "AuthEventPage")


class AuthEventArgs(PaginationArgs):
    user_id = fields.UUID(load_default=None, metadata={"description": "Of one user."})
    kind = fields.Enum(AuthEventKind, by_value=True, load_default=None, metadata={"description": "Of one kind."})


class HiddenReviewSchema(ma.Schema):
    id = fields.UUID()
    mentor_profile_id = fields.UUID()
    rating = fields.Integer()
    hidden_at = fields.DateTime()
    hidden_reason = fields.String()
