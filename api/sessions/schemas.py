from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, has_app_context
from marshmallow import fields, validate

from api.common.schemas import (
    PaginationArgs,
    PersonSchema,
    Schema,
    ShownSchema,
    StartWindowArgs,
    Text,
    Timestamp,
    https_url,
    json_storable,
    page_of,
)
from api.database import db_session
from api.security import current_actor
from infra.config import Settings, get_settings
from models import CancelCause, CancelledBy, ListingKind, MentorshipSession, SessionStatus, WaitlistStatus
from models.programmes.goals import MAX_ITEM
from models.sessions.attendance import MAX_DISPUTE_TEXT
from workflows.people import NamedSession, name_sessions
from workflows.roles import Role
from workflows.sessions.lifecycle import meeting_url
from workflows.sessions.pairing_items import WrittenItem

EXAMPLE_SESSION: dict[str, Any] = {
    "id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
    "kind": "individual",
    "booking_id": "6f1c2f5e-8d4b-4a57-9a53-2a8b4f0f3c11",
    "listing_id": "0b9f7c5a-3f2e-4d1a-8c6b-5e4d3c2b1a09",
    "mentor_profile_id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f",
    "mentee_user_id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f",
    "mentor": {"id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f", "display_name": "Grace Hopper"},
    "mentee": {"id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", "display_name": "Ada Lovelace"},
    "participants": None,
    "start_time": "2030-03-04T09:00:00+00:00",
    "end_time": "2030-03-04T10:00:00+00:00",
    "status": "scheduled",
    "notes": None,
    "action_items": [],
    "metadata": {},
    "started_at": None,
    "completed_at": None,
    "completed_by": None,
    "cancellation": None,
    "meeting_url": "https://meet.example.com/9d8c7b6a",
    "location": None,
    "agenda": "Walk through the design of a URL shortener.",
    "reviewed": None,
    "capacity": None,
    "seats_taken": None,
    "seats_left": None,
    "full": None,
    "attendance": [
        {"role": "mentor", "id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f", "display_name": "Grace Hopper",
         "checked_in_at": None, "booking_id": None, "no_show": None, "no_show_fee_cents": None, "credit_status": None,
         "disputable_until": None, "dispute_status": None, "no_show_final": None},
        {"role": "mentee", "id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", "display_name": "Ada Lovelace",
         "checked_in_at": None, "booking_id": "6f1c2f5e-8d4b-4a57-9a53-2a8b4f0f3c11", "no_show": None,
         "no_show_fee_cents": None, "credit_status": None, "disputable_until": None, "dispute_status": None,
         "no_show_final": None},
    ],
    "created_at": "2030-03-01T12:00:05+00:00",
    "updated_at": "2030-03-01T12:00:05+00:00",
}


class CancellationSchema(Schema):
    """Who cancelled the session and why. ``cancelled_by``: one of the pair, a programme's coordinator (pausing or
    ending a pairing, or taking one of the pair off), an admin, or the system (the meeting moved by agreement).
    ``cause``: ``request`` (someone asked: the session, or its series from a date), ``pause``, ``end`` (of its
    pairing), ``leave`` (one of the pair left the programme, or deleted their account), ``removal`` (taken off the
    programme), ``reschedule`` (moved); null for a cancellation recorded before causes were."""

    cancelled_by = fields.Enum(CancelledBy, by_value=True)
    cause = fields.Enum(CancelCause, by_value=True, allow_none=True)
    reason = fields.String()
    late = fields.Boolean()
    fee_cents = fields.Integer()
    credit_refunded = fields.Boolean()
    cancelled_at = fields.DateTime()


class AttendeeSchema(Schema):
    """One participant's attendance. A mentee's also says who was found absent from their meeting, and its effects."""

    role = fields.String(metadata={"enum": ["mentor", "mentee"]})
    id = fields.UUID(metadata={"description": "The mentor's profile id, or the mentee's user id."})
    display_name = fields.String()
    checked_in_at = fields.DateTime(allow_none=True, metadata={"description": "When they checked in (or started it)."})
    booking_id = fields.UUID(allow_none=True, metadata={
        "description": "A mentee's booking (or seat) for the session: what a group's mentor names to dispute it."})
    no_show = fields.String(allow_none=True, metadata={
        "enum": ["mentee", "mentor", "none", None],
        "description": "Who was found absent from this mentee's meeting once its time came (`none`: an "
                       "administrator found nobody was); null when nobody was found absent."})
    no_show_fee_cents = fields.Integer(allow_none=True, metadata={
        "description": "What the absence cost the mentee: the late-cancellation fee, when no bundle credit paid "
                       "(0 until the finding is final)."})
    credit_status = fields.String(allow_none=True, metadata={
        "description": "The bundle credit of the meeting, when one paid: `held` (used), `forfeited`, `returned`."})
    disputable_until = fields.DateTime(allow_none=True, metadata={
        "description": "Until when either participant may dispute the finding (`POST /sessions/{id}/"
                       "attendance-disputes`); null when there is nothing to dispute or it was disputed."})
    dispute_status = fields.String(allow_none=True, metadata={"enum": ["open", "resolved", None]})
    no_show_final = fields.Boolean(allow_none=True, metadata={
        "description": "Whether the finding is final: a finding rests on one side's word and moves no credit and no "
                       "fee until its dispute window has passed undisputed, or an administrator decided it "
                       "(`booking.no_show_confirmed`); null when nobody was found absent."})

class SessionSchema(ShownSchema):
    records = MentorshipSession

    id = fields.UUID()
    kind = fields.String(metadata={"enum": ["individual", "group"]})
    booking_id = fields.UUID(allow_none=True)
    listing_id = fields.UUID()
    mentor_profile_id = fields.UUID()
    mentee_user_id = fields.UUID(allow_none=True)
    mentor = fields.Nested(PersonSchema, metadata={"description": "The mentor: mentor profile id and name."})
    mentee = fields.Nested(PersonSchema, allow_none=True,
                           metadata={"description": "The mentee of an individual session; null for a group."})
    participants = fields.List(fields.Nested(PersonSchema), allow_none=True, metadata={
        "description": "A group session's mentees holding a seat: shown to its mentor only, null to anyone else "
                       "and for individual sessions."})
    start_time = fields.DateTime()
    end_time = fields.DateTime()
    status = fields.String(metadata={"enum": [s.value for s in SessionStatus]})
    notes = fields.String(allow_none=True)
    action_items = fields.List(fields.Raw())
    metadata = fields.Dict()
    started_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True, metadata={"enum": ["mentor", "system", None]})
    cancellation = fields.Nested(CancellationSchema, allow_none=True, metadata={
        "description": "Set when cancelled: who, why, late, fee, refund."})
    capacity = fields.Integer(allow_none=True)
    seats_taken = fields.Integer(allow_none=True, metadata={"description": "Seats held (group sessions)."})
    seats_left = fields.Integer(allow_none=True, metadata={"description": "Seats still free (group sessions)."})
    full = fields.Boolean(allow_none=True, metadata={"description": "Whether every seat is taken (group sessions)."})
    meeting_url = fields.String(allow_none=True, metadata={
        "description": "Where the participants meet: the URL the mentor set, else the listing's location when it "
                       "is a URL, else the service's default (`MEETING_URL_TEMPLATE`)."})
    location = fields.String(allow_none=True, metadata={
        "description": "The listing's location (a meeting URL or a place), when set."})
    agenda = fields.String(allow_none=True, metadata={"description": "What the mentor plans to cover."})
    reviewed = fields.Boolean(allow_none=True, metadata={
        "description": "For a completed session you attended as a mentee: whether you reviewed it; else null."})
    attendance = fields.List(fields.Nested(AttendeeSchema), metadata={
        "description": "Who checked in, and who was found absent: the mentor and administrators see everyone; a "
                       "mentee, the mentor and themself. In a list, a group session's seats are left out for its "
                       "mentor (`GET /sessions/{id}` lists them)."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def show(self, records: list[MentorshipSession]) -> list[NamedSession]:
        return name_sessions(db_session(), current_actor(), records)

    def flatten(self, view: NamedSession) -> dict[str, Any]:
        session = view.session
        group = session.kind == ListingKind.GROUP
        data: dict[str, Any] = {name: getattr(session, name, None) for name in self.fields}
        data.update(
            metadata=session.session_metadata, mentor=view.mentor, mentee=view.mentee,
            participants=view.participants, cancellation=_cancellation(session),
            seats_taken=session.seats_taken if group else None,
            seats_left=max(0, session.capacity - session.seats_taken - view.seats_offered)
            if group and session.capacity is not None else None,
            full=session.seats_taken + view.seats_offered >= session.capacity if group and session.capacity is not None
            else None,
            meeting_url=_meeting_url(view), location=view.listing_location, reviewed=view.reviewed,
            attendance=view.attendance,
            action_items=view.action_items if view.action_items is not None else session.action_items,
        )
        return data


def _meeting_url(view: NamedSession) -> str | None:
    # A live stream renders sessions after its request's context is gone: the process's settings then.
    settings: Settings = current_app.extensions["settings"] if has_app_context() else get_settings()
    return meeting_url(view.session, view.listing_location, settings.meeting_url_template)


def _cancellation(session: MentorshipSession) -> dict[str, Any] | None:
    if session.cancelled_at is None:
        return None
    by, cause = session.cancelled_by, session.cancel_cause  # as written (a str) or read back (a member)
    return {"cancelled_by": by and CancelledBy(by), "cause": cause and CancelCause(cause),
            "reason": session.cancel_reason, "late": session.cancel_late, "fee_cents": session.cancel_fee_cents,
            "credit_refunded": session.credit_refunded, "cancelled_at": session.cancelled_at}


SessionPageSchema = page_of(SessionSchema, "SessionPage")


class GroupSessionSchema(Schema):
    """What anyone may see of a group session open to join: when, and how many seats are left."""

    id = fields.UUID()
    listing_id = fields.UUID()
    mentor_profile_id = fields.UUID()
    start_time = fields.DateTime()
    end_time = fields.DateTime()
    status = fields.String(metadata={"enum": [s.value for s in SessionStatus]})
    capacity = fields.Integer()
    seats_taken = fields.Integer()
    seats_left = fields.Integer(metadata={"description": "Seats free to join: a seat offered to someone in line is "
                                                        "held for them."})
    full = fields.Function(lambda session: session.seats_left <= 0, metadata={
        "type": "boolean", "description": "No seat free: join its waitlist (`POST /sessions/{id}/waitlist`)."})
    waiting = fields.Integer(metadata={"description": "People in line for a seat."})


GroupSessionPageSchema = page_of(GroupSessionSchema, "GroupSessionPage")


class GroupSessionSearchArgs(StartWindowArgs):
    listing_id = fields.UUID(load_default=None)
    skill = Text(load_default=None, validate=validate.Length(max=50))


class ParticipantListSchema(Schema):
    items = fields.List(fields.Nested(PersonSchema), metadata={
        "description": "The mentees: an individual session's one, a group session's seat holders in joining order."})


class SessionListArgs(PaginationArgs):
    role = Text(load_default=None, validate=validate.OneOf(["mentee", "mentor"]))
    status = Text(load_default=None, validate=validate.OneOf([s.value for s in SessionStatus]))


class WrittenItemSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=MAX_ITEM))
    owner = fields.Enum(Role, by_value=True, load_default=Role.MENTEE,
                        validate=validate.OneOf([Role.MENTOR, Role.MENTEE]))
    due_on = fields.Date(load_default=None, allow_none=True)


_ITEM_DOC = {"oneOf": [
    {"type": "string", "maxLength": MAX_ITEM},
    {"type": "object", "required": ["title"], "additionalProperties": False, "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": MAX_ITEM},
        "owner": {"type": "string", "enum": ["mentee", "mentor"], "default": "mentee"},
        "due_on": {"type": "string", "format": "date", "nullable": True}}}],
    "description": "Its words, or `{title, owner?, due_on?}`. In a programme each becomes an action item of the "
                   "pairing, the mentee's unless `owner` says `mentor` (blank ones are left out)."}


class WrittenItemField(fields.Field[str | WrittenItem]):
    """An action item as the mentor writes it: its words, or ``{title, owner?, due_on?}``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | WrittenItem:
        if isinstance(value, str):
            words: str = Text(validate=validate.Length(max=MAX_ITEM)).deserialize(value)
            return words
        if isinstance(value, dict):
            given = WrittenItemSchema().load(value)
            return WrittenItem(given["title"], given["owner"], given["due_on"])
        raise ma.ValidationError("an action item is its words, or an object {title, owner, due_on}")


class CompleteSchema(Schema):
    notes = Text(load_default=None, allow_none=True, validate=validate.Length(max=10_000))
    action_items = fields.List(WrittenItemField(metadata=_ITEM_DOC), load_default=list,
                               validate=validate.Length(max=100))
    metadata = fields.Dict(keys=Text(validate=validate.Length(max=100)), load_default=dict,
                           validate=json_storable)


class GroupSessionCreateSchema(Schema):
    start_time = Timestamp(required=True, metadata={"example": "2030-03-06T17:00:00Z"})


class JoinSchema(Schema):
    bundle_purchase_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "Pay for the seat with one credit of this bundle purchase (of the group listing)."})


class WaitlistJoinSchema(Schema):
    take_at_once = fields.Boolean(load_default=False, metadata={
        "description": "Take a freed seat at once (booked and paid at the listing's price) instead of being offered "
                       "it for `WAITLIST_OFFER_MINUTES`."})


class WaitlistEntrySchema(Schema):
    id = fields.UUID()
    session_id = fields.UUID()
    status = fields.String(metadata={"enum": [s.value for s in WaitlistStatus], "description":
                                     "`waiting`, `offered` (take it with `POST /sessions/{id}/join` before "
                                     "`offer_expires_at`), `promoted` (the seat is yours), `expired`, `left`, "
                                     "`closed`."})
    position = fields.Integer(allow_none=True, metadata={"description": "1 for the next in line, while waiting."})
    take_at_once = fields.Boolean()
    offered_at = fields.DateTime(allow_none=True)
    offer_expires_at = fields.DateTime(allow_none=True)
    booking_id = fields.UUID(allow_none=True, metadata={"description": "The seat, once given."})
    note = fields.String(allow_none=True, metadata={"description": "Why it ended without a seat."})
    created_at = fields.DateTime()


class CapacitySchema(Schema):
    capacity = fields.Integer(required=True, validate=validate.Range(2, 500), metadata={
        "description": "Seats (2-500), never fewer than those taken and offered; new seats go to the waitlist first."})


MAX_MEETING_URL = 500
MAX_AGENDA = 5000


class SessionUpdateSchema(Schema):
    meeting_url = https_url(max_length=MAX_MEETING_URL, allow_none=True, metadata={
        "description": "An https URL (at most 500 characters); null to clear it."})
    agenda = Text(allow_none=True, validate=validate.Length(max=MAX_AGENDA),
                  metadata={"description": "At most 5000 characters; null to clear it."})

    @ma.validates_schema
    def _not_empty(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("give `meeting_url`, `agenda` or both")


class CancelSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))


class DisputeCreateSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=MAX_DISPUTE_TEXT))
    booking_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "A group session's mentor names the seat disputed; anyone else leaves it out."})


class DisputeSchema(Schema):
    """A dispute of who was found absent from a meeting (a booking, or a seat of a group session)."""

    id = fields.UUID()
    session_id = fields.UUID()
    booking_id = fields.UUID()
    raised_by = fields.String(metadata={"enum": ["mentor", "mentee"]})
    reason = fields.String()
    status = fields.String(metadata={"enum": ["open", "resolved"]})
    attribution_before = fields.String(metadata={"enum": ["mentee", "mentor"],
                                                 "description": "Who was found absent: the finding disputed."})
    attribution_after = fields.String(allow_none=True, metadata={
        "enum": ["mentee", "mentor", "none", None],
        "description": "Who an administrator found absent (`none`: nobody); null while open."})
    resolution_note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)


DisputePageSchema = page_of(DisputeSchema, "DisputePage")
