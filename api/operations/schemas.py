"""What administrators send and see when they look after people, sessions and reviews."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import PaginationArgs, Schema, StartWindowArgs, Text, page_of, search_text
from models import AuthEventKind, BookingStatus, DisputeStatus, NoShow, SessionStatus
from models.sessions.attendance import MAX_DISPUTE_TEXT
from workflows.accounts import audit
from workflows.operations import accounts as account_actions
from workflows.operations import admin as administration
from workflows.operations import numbers
from workflows.sign_on import providers as sign_on_providers

EXAMPLE_USER: dict[str, Any] = {
    "id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", "email": "ada@example.com", "display_name": "Ada Lovelace",
    "is_admin": False, "created_at": "2030-03-01T12:00:00+00:00", "deleted_at": None, "disabled_at": None,
    "disabled_reason": None,
}


class AdminUserSchema(Schema):
    id = fields.UUID()
    email = fields.String()
    display_name = fields.String()
    is_admin = fields.Boolean()
    created_at = fields.DateTime()
    deleted_at = fields.DateTime(allow_none=True)
    disabled_at = fields.DateTime(allow_none=True, metadata={
        "description": "Set while an admin has the account disabled: no sign-in, no refresh."})
    disabled_reason = fields.String(allow_none=True, metadata={"description": "The admin's reason, while disabled."})


AdminUserPageSchema = page_of(AdminUserSchema, "AdminUserPage")


class UserSearchArgs(PaginationArgs):
    q = search_text("A part of the email or display name (case-insensitive).")
    is_admin = fields.Boolean(load_default=None)
    disabled = fields.Boolean(load_default=None, metadata={"description": "Only disabled accounts, or only others."})
    id = fields.UUID(load_default=None, metadata={"description": "The one user of this id."})


class AdminBookingArgs(StartWindowArgs):
    mentor_profile_id = fields.UUID(load_default=None)
    status = Text(load_default=None, validate=validate.OneOf([s.value for s in BookingStatus]))
    mentee_user_id = fields.UUID(load_default=None)


class AdminSessionArgs(StartWindowArgs):
    mentor_profile_id = fields.UUID(load_default=None)
    status = Text(load_default=None, validate=validate.OneOf([s.value for s in SessionStatus]))


class AdminReasonSchema(Schema):
    reason = Text(required=True, validate=[validate.Length(min=1, max=1000), validate.Regexp(
        r"\S", error="say why: the audit trail keeps the reason")])


class DisputeArgs(PaginationArgs):
    status = Text(load_default=None, validate=validate.OneOf([s.value for s in DisputeStatus]))


class ResolveDisputeSchema(Schema):
    absent = Text(required=True, validate=validate.OneOf([n.value for n in NoShow]), metadata={
        "description": "Who was absent: `mentee`, `mentor`, or `none` (nobody)."})
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=MAX_DISPUTE_TEXT))

    @ma.post_load
    def _absent(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {**data, "absent": NoShow(data["absent"])}


class AdminActionSchema(Schema):
    id = fields.UUID()
    admin_user_id = fields.UUID(allow_none=True, metadata={"description": "Null once that admin's account is gone."})
    action = fields.String(metadata={"enum": [*administration.ACTIONS, *account_actions.ACTIONS,
                                              *sign_on_providers.ACTIONS, *audit.PROGRAMME_ACTIONS]})
    target_type = fields.String(metadata={"enum": ["user", "session", "review", "dispute", "programme",
                                                   "programme_participant", "identity_provider"]})
    target_id = fields.UUID()
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


AdminActionPageSchema = page_of(AdminActionSchema, "AdminActionPage")


class AuditArgs(PaginationArgs):
    target_id = fields.UUID(load_default=None, metadata={
        "description": "Of one user, session, review, dispute, programme or programme participant."})


class AuthEventSchema(Schema):
    id = fields.UUID()
    user_id = fields.UUID(allow_none=True, metadata={
        "description": "Whose credentials; null for a failed sign-in of an address no account uses."})
    kind = fields.Enum(AuthEventKind, by_value=True)
    client_address = fields.String(allow_none=True, metadata={
        "description": "As the rate limits count it: an IPv4 address, or an IPv6 client's /64 network."})
    provider_id = fields.UUID(allow_none=True, metadata={
        "description": "A refused sign-in through an organisation's provider (`sso_refused`): which provider."})
    reason = fields.String(allow_none=True, metadata={
        "description": "`sso_refused`: the check that refused it (`aud`, `iss`, `signature`, `nonce`, `state`, "
                       "`expired`…)."})
    detail = fields.String(allow_none=True, metadata={"description": "`sso_refused`: what the check found."})
    created_at = fields.DateTime()


AuthEventPageSchema = page_of(AuthEventSchema, "AuthEventPage")


class AuthEventArgs(PaginationArgs):
    user_id = fields.UUID(load_default=None, metadata={"description": "Of one user."})
    kind = fields.Enum(AuthEventKind, by_value=True, load_default=None, metadata={"description": "Of one kind."})


class HiddenReviewSchema(Schema):
    id = fields.UUID()
    mentor_profile_id = fields.UUID()
    rating = fields.Integer()
    hidden_at = fields.DateTime()
    hidden_reason = fields.String()


class AdminReviewSchema(Schema):
    id = fields.UUID()
    mentor_profile_id = fields.UUID()
    session_id = fields.UUID()
    mentee_user_id = fields.UUID(metadata={"description": "Its author, even when it is shown anonymously."})
    rating = fields.Integer()
    comment = fields.String()
    anonymous = fields.Boolean()
    created_at = fields.DateTime()
    hidden_at = fields.DateTime(allow_none=True)
    hidden_reason = fields.String(allow_none=True)


AdminReviewPageSchema = page_of(AdminReviewSchema, "AdminReviewPage")


class AdminReviewArgs(PaginationArgs):
    mentor_profile_id = fields.UUID(load_default=None, metadata={"description": "Of one mentor."})
    hidden = fields.Boolean(load_default=None, metadata={"description": "Only hidden reviews, or only shown ones."})


class CoordinatorChangeSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))


class TroubledEndpointSchema(Schema):
    id = fields.UUID()
    owner_user_id = fields.UUID()
    url = fields.String()
    enabled = fields.Boolean()
    disabled_reason = fields.String(allow_none=True)
    failing_since = fields.DateTime(allow_none=True, metadata={
        "description": "First failure since the last success; after five days the endpoint is disabled."})
    consecutive_failures = fields.Integer()
    backoff_until = fields.DateTime(allow_none=True)
    last_disabled_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


TroubledEndpointPageSchema = page_of(TroubledEndpointSchema, "TroubledEndpointPage")


class NumbersArgs(Schema):
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=numbers.MAX_DAYS), metadata={
        "description": f"The window: the last `days` days (UTC), today's so far included; 1 to {numbers.MAX_DAYS}."})


class DayCountSchema(Schema):
    day = fields.Date()
    sessions = fields.Integer()


class DurationsSchema(Schema):
    count = fields.Integer(metadata={"description": "How many times the step was taken in the window."})
    median_seconds = fields.Float(allow_none=True)
    p90_seconds = fields.Float(allow_none=True)


class RefusalsSchema(Schema):
    rule = fields.String(metadata={"enum": list(numbers.REFUSAL_RULES)})
    description = fields.String()
    count = fields.Integer()


class NumbersSchema(Schema):
    days = fields.Integer()
    since = fields.DateTime(metadata={"description": "The window's start: midnight UTC, `days - 1` days ago."})
    until = fields.DateTime()
    sessions_per_day = fields.List(fields.Nested(DayCountSchema), metadata={
        "description": "Sessions created each day (UTC), every day of the window, oldest first."})
    bookings_requested = fields.Integer(metadata={
        "description": "One-to-one booking requests made in the window (group seats never become sessions)."})
    bookings_accepted = fields.Integer()
    bookings_became_sessions = fields.Integer()
    conversion = fields.Float(allow_none=True, metadata={
        "description": "`bookings_became_sessions / bookings_requested`; null with no request."})
    requested_to_accepted = fields.Nested(DurationsSchema, metadata={
        "description": "From a request to its acceptance (instant bookings, accepted as made, left out)."})
    accepted_to_scheduled = fields.Nested(DurationsSchema, metadata={
        "description": "From an acceptance to its session being created by the worker."})
    refusals = fields.List(fields.Nested(RefusalsSchema), metadata={
        "description": "What was refused, by rule, as durable rows record it. A request refused at the door (an "
                       "overlap, too little notice, a limit) writes no row: `/metrics` counts those by route and "
                       "status."})


EXAMPLE_NUMBERS: dict[str, Any] = {
    "days": 2, "since": "2030-03-01T00:00:00+00:00", "until": "2030-03-02T15:00:00+00:00",
    "sessions_per_day": [{"day": "2030-03-01", "sessions": 14}, {"day": "2030-03-02", "sessions": 6}],
    "bookings_requested": 25, "bookings_accepted": 21, "bookings_became_sessions": 20, "conversion": 0.8,
    "requested_to_accepted": {"count": 18, "median_seconds": 5400.0, "p90_seconds": 64800.0},
    "accepted_to_scheduled": {"count": 20, "median_seconds": 0.4, "p90_seconds": 1.9},
    "refusals": [{"rule": "booking_declined", "description": numbers.REFUSAL_RULES["booking_declined"], "count": 3}],
}
