from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from api.common.schemas import OneLine, PaginationArgs, Schema, Text, page_of
from models import PairingMode, ProgrammeStatus
from models.programmes.programmes import (
    CADENCE_WEEKS,
    MAX_COORDINATORS,
    MAX_DESCRIPTION,
    MAX_NAME,
    SESSION_COUNT,
    SESSION_MINUTES,
)

EXAMPLE_PROGRAMME: dict[str, Any] = {
    "id": "5a0c9e1b-7d3f-4e2a-9b8c-1d2e3f4a5b6c", "name": "Spring 2031 engineering cohort",
    "description": "Twelve weeks, one mentor per new engineer.", "starts_on": "2031-03-02", "ends_on": "2031-05-24",
    "status": "draft", "cadence_weeks": 1, "session_minutes": 45, "session_count": 12,
    "mentees_book_outside": True, "intake_open": True,
    "pairing_mode": "coordinator", "coordinator_user_ids": ["8e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"],
    "created_at": "2031-01-10T09:00:00+00:00", "updated_at": "2031-01-10T09:00:00+00:00", "closed_at": None,
    "viewer_role": "coordinator", "participant_id": None}


class _Settings(Schema):
    """A programme's settings, as written: the defaults its pairings take."""

    description = Text(validate=validate.Length(max=MAX_DESCRIPTION))
    starts_on = fields.Date(allow_none=True, metadata={"description": "A cohort's first day; null: ongoing."})
    ends_on = fields.Date(allow_none=True, metadata={"description": "A cohort's last day, not before its first."})
    cadence_weeks = fields.Integer(validate=validate.OneOf(CADENCE_WEEKS),
                                   metadata={"description": "A pairing meets every week (1) or every other (2)."})
    session_minutes = fields.Integer(validate=validate.Range(*SESSION_MINUTES),
                                     metadata={"description": "A pairing's session length."})
    session_count = fields.Integer(validate=validate.Range(*SESSION_COUNT),
                                   metadata={"description": "How many sessions a pairing's agreement holds."})
    mentees_book_outside = fields.Boolean(
        metadata={"description": "Whether its mentees may also book mentors outside their pairing."})
    intake_open = fields.Boolean(metadata={
        "description": "Whether participants may still answer and change their intake (close it to match)."})


class ProgrammeCreateSchema(_Settings):
    name = OneLine(required=True, validate=validate.Length(min=1, max=MAX_NAME))
    coordinator_user_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=MAX_COORDINATORS),
                                       metadata={"description": "Who runs it, by user: any user, not only admins."})


class ProgrammePatchSchema(_Settings):
    name = OneLine(validate=validate.Length(min=1, max=MAX_NAME))


class CoordinatorsSchema(Schema):
    coordinator_user_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(max=MAX_COORDINATORS))


class ProgrammeListArgs(PaginationArgs):
    status = fields.Enum(ProgrammeStatus, by_value=True, load_default=None)


class ProgrammeSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    description = fields.String()
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    status = fields.Enum(ProgrammeStatus, by_value=True)
    cadence_weeks = fields.Integer()
    session_minutes = fields.Integer()
    session_count = fields.Integer()
    mentees_book_outside = fields.Boolean()
    intake_open = fields.Boolean()
    pairing_mode = fields.Enum(PairingMode, by_value=True, metadata={
        "description": "How it pairs its people (set with its matching): `coordinator`, `mentee_choice` (each mentee "
                       "asks one of their recommended mentors) or `manual`."})
    coordinator_user_ids = fields.List(fields.UUID())
    coordinator_names = fields.List(fields.String(), metadata={
        "description": "Its coordinators' names, in the order of `coordinator_user_ids` (empty in the list of "
                       "programmes)."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    viewer_role = fields.String(metadata={
        "description": "Your part in it: `coordinator`, `admin`, or as a participant `mentor` or `mentee`."})
    participant_id = fields.UUID(allow_none=True, metadata={"description": "Your participation, as a participant."})


ProgrammePageSchema = page_of(ProgrammeSchema, "ProgrammePage")
