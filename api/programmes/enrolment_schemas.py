from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import fields, validate

from api.accounts.schemas import NEW_PASSWORD_LENGTH
from api.common.schemas import OneLine, PaginationArgs, Schema, Text, locale_tag, page_of, search_text, timezone_name
from models import InvitationStatus, ParticipantRole, ParticipantStatus
from models.programmes.enrolment import CAPACITY, JOIN_LINK_USES, MAX_EMAIL, MAX_INVITEE_NAME
from workflows.programmes.roster import Step
from workflows.programmes.rows import MAX_ROWS


def _role(**kwargs: Any) -> fields.Enum[ParticipantRole]:
    return fields.Enum(ParticipantRole, by_value=True, **kwargs)


_TOKEN = validate.Length(min=1, max=200)

EXAMPLE_PARTICIPANT: dict[str, Any] = {
    "id": "3f2e1d0c-9b8a-4765-8432-10fedcba9876", "programme_id": "5a0c9e1b-7d3f-4e2a-9b8c-1d2e3f4a5b6c",
    "user_id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f",
    "display_name": "Ada Lovelace", "email": "ada@example.com", "role": "mentor", "status": "active", "capacity": 2,
    "joined_at": "2031-02-20T09:00:00+00:00", "ended_at": None}


class InviteeSchema(Schema):
    """One person of a typed list, checked with the rest (a wrong entry is reported, the others are invited)."""

    email = Text(required=True, validate=validate.Length(max=MAX_EMAIL * 2))
    name = Text(load_default="", validate=validate.Length(max=MAX_INVITEE_NAME * 2))
    role = Text(required=True, validate=validate.Length(max=20), metadata={"description": "`mentor` or `mentee`."})
    capacity = fields.Integer(load_default=None, allow_none=True, strict=True, metadata={
        "description": f"A mentor's mentees at once, {CAPACITY[0]} to {CAPACITY[1]} (2 if not given)."})


class InviteListSchema(Schema):
    invitees = fields.List(fields.Nested(InviteeSchema), required=True,
                           validate=validate.Length(min=1, max=MAX_ROWS))


class UploadSchema(Schema):
    file = Upload(required=True, metadata={
        "description": "CSV in UTF-8: a header naming `email` and `role` (and `name`, `capacity`), then a row per "
                       f"person; at most {MAX_ROWS:,} rows, within the request size limit (`MAX_CONTENT_LENGTH`)."})


class InviteRowSchema(Schema):
    line = fields.Integer(metadata={"description": "The row's line in the file (the header is line 1), or its "
                                                   "place in the list (from 1)."})
    email = fields.String(allow_none=True)
    message = fields.String()


class InvitedSchema(Schema):
    line = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = _role()
    capacity = fields.Integer(allow_none=True)


class InviteReportSchema(Schema):
    invited = fields.List(fields.Nested(InvitedSchema), metadata={"description": "Invited now."})
    skipped = fields.List(fields.Nested(InviteRowSchema), metadata={
        "description": "Not invited again: already invited, or already taking part."})
    errors = fields.List(fields.Nested(InviteRowSchema), metadata={"description": "Refused rows, each saying why."})


class ProgrammeInvitationSchema(Schema):
    id = fields.UUID()
    email = fields.String()
    name = fields.String()
    role = _role()
    capacity = fields.Integer(allow_none=True)
    status = fields.Enum(InvitationStatus, by_value=True)
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    user_id = fields.UUID(allow_none=True, metadata={"description": "Who joined with it."})
    email_status = fields.String(metadata={
        "description": "`pending`: its mail waits (for the programme to open, or for the hourly cap); `sent`; "
                       "`failed`; `none`: no mail goes (no mail server, or decided first)."})
    emailed_at = fields.DateTime(allow_none=True)


InvitationPageSchema = page_of(ProgrammeInvitationSchema, "ProgrammeInvitationPage")


class ProgrammeInvitationListArgs(PaginationArgs):
    status = fields.Enum(InvitationStatus, by_value=True, load_default=None)
    q = search_text("A part of the invitee's name or address (case-insensitive).")


class ProgrammeTokenSchema(Schema):
    token = Text(required=True, validate=_TOKEN)


class ProgrammeInvitationRegisterSchema(ProgrammeTokenSchema):
    password = Text(required=True, load_only=True, validate=NEW_PASSWORD_LENGTH)
    display_name = OneLine(load_default="", validate=validate.Length(max=100),
                        metadata={"description": "Your name; the one the coordinator gave if empty."})
    timezone = timezone_name(load_default=None)
    locale = locale_tag(load_default=None)
    refresh_cookie = fields.Boolean(load_default=False, metadata={
        "description": "Set the refresh token as an `HttpOnly` cookie instead of returning it (the web app)."})


class ProgrammeSummarySchema(Schema):
    id = fields.UUID()
    name = fields.String()
    description = fields.String()
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    status = fields.String()


class ProgrammeInvitationPreviewSchema(Schema):
    programme = fields.Nested(ProgrammeSummarySchema)
    email = fields.String()
    name = fields.String()
    role = _role()
    status = fields.Enum(InvitationStatus, by_value=True)
    expires_at = fields.DateTime()
    usable = fields.Boolean(metadata={"description": "Whether it can be answered now (pending, not expired, the "
                                                     "programme taking participants)."})
    account_exists = fields.Boolean(metadata={"description": "Sign in to accept (true), or register (false)."})


class MyProgrammeInvitationSchema(Schema):
    id = fields.UUID()
    programme = fields.Nested(ProgrammeSummarySchema)
    role = _role()
    expires_at = fields.DateTime()


class MyProgrammeInvitationsSchema(Schema):
    items = fields.List(fields.Nested(MyProgrammeInvitationSchema))


class ProgrammeJoinLinkCreateSchema(Schema):
    role = _role(required=True)
    capacity = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(*CAPACITY))
    max_uses = fields.Integer(required=True, validate=validate.Range(*JOIN_LINK_USES))
    expires_at = fields.AwareDateTime(required=True, metadata={
        "description": "When it stops working: an hour to a year from now."})


class ProgrammeJoinLinkSchema(Schema):
    id = fields.UUID()
    role = _role()
    capacity = fields.Integer(allow_none=True)
    max_uses = fields.Integer()
    uses = fields.Integer()
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    token = fields.String(metadata={"description": "The secret the link carries: share the web app's "
                                                   "`#/join?token=…`."})
    works = fields.Boolean()


JoinLinkPageSchema = page_of(ProgrammeJoinLinkSchema, "ProgrammeJoinLinkPage")


class ProgrammeJoinLinkPreviewSchema(Schema):
    programme = fields.Nested(ProgrammeSummarySchema)
    role = _role()


class ProgrammeParticipantSchema(Schema):
    id = fields.UUID()
    programme_id = fields.UUID()
    user_id = fields.UUID()
    display_name = fields.String()
    email = fields.String(allow_none=True, metadata={"description": "Shown to its coordinators only."})
    role = _role()
    status = fields.Enum(ParticipantStatus, by_value=True)
    capacity = fields.Integer(allow_none=True)
    joined_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    intake_answered_at = fields.DateTime(allow_none=True, metadata={
        "description": "When they last answered their intake (its coordinators only)."})
    intake_finished_at = fields.DateTime(allow_none=True, metadata={
        "description": "When their intake was finished (a mentor's once their hours are confirmed): only then are they "
                       "matched or paired (its coordinators only)."})


ParticipantPageSchema = page_of(ProgrammeParticipantSchema, "ProgrammeParticipantPage")


class ProgrammeParticipantListArgs(PaginationArgs):
    role = fields.Enum(ParticipantRole, by_value=True, load_default=None)
    status = fields.Enum(ParticipantStatus, by_value=True, load_default=None)
    q = search_text("A part of the name, or for its coordinators of the address (case-insensitive).")
    step = fields.Enum(Step, by_value=True, load_default=None, metadata={
        "description": "Those at a step of the enrolment funnel (its coordinators): `intake_due`, `intake_done`, "
                       "`unpaired` (intake done, no live pairing), `matched` (a live pairing), `meeting` (one the "
                       "mentor accepted), `met` (a session of theirs held)."})


class FunnelRowSchema(Schema):
    role = fields.Enum(ParticipantRole, by_value=True)
    invited = fields.Integer(metadata={"description": "Taking part, or an invitation waiting (not expired)."})
    joined = fields.Integer()
    intake_done = fields.Integer()
    matched = fields.Integer()
    meeting = fields.Integer()
    met = fields.Integer()


class FunnelSchema(Schema):
    roles = fields.List(fields.Nested(FunnelRowSchema))


class LeaveSchema(Schema):
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=900), metadata={
        "description": "Why you leave (optional): its coordinators, and the other of each pairing it ends, read it."})


class ParticipantCapacitySchema(Schema):
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(*CAPACITY))
