from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from api.common.schemas import MenteeTimeSchema, PaginationArgs, Schema, Text, Timestamp, page_of
from api.database import db_session
from models import Booking, BookingStatus
from models.questions import MAX_QUESTIONS, QuestionKind
from workflows.people import NamedBooking, name_bookings

EXAMPLE_BOOKING: dict[str, Any] = {
    "id": "6f1c2f5e-8d4b-4a57-9a53-2a8b4f0f3c11",
    "listing_id": "0b9f7c5a-3f2e-4d1a-8c6b-5e4d3c2b1a09",
    "mentor_profile_id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f",
    "mentee_user_id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f",
    "mentor": {"id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f", "display_name": "Grace Hopper"},
    "mentee": {"id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", "display_name": "Ada Lovelace"},
    "start_time": "2030-03-04T09:00:00+00:00",
    "end_time": "2030-03-04T10:00:00+00:00",
    "status": "draft",
    "price_cents": 8000,
    "currency": "EUR",
    "notes": "I'd like to practise a system design interview.",
    "bundle_purchase_id": None,
    "session_id": None,
    "group_session_id": None,
    "decline_reason": None,
    "cancel_reason": None,
    "cancel_late": None,
    "cancel_fee_cents": None,
    "competing_requests": 0,
    "answers": [],
    "instant": False,
    "created_at": "2030-03-01T12:00:00+00:00",
    "updated_at": "2030-03-01T12:00:00+00:00",
}


class AnswerSchema(Schema):
    question_id = fields.UUID(required=True)
    value = fields.Raw(required=True, metadata={
        "description": "Text for a `text` question (2000 characters at most), one of the choices for `single`, a "
                       "list of choices for `multiple`, a whole number from 1 to 5 for `scale`.",
        "example": "System design interviews"})


class BookingCreateSchema(Schema):
    listing_id = fields.UUID(required=True)
    start_time = Timestamp(required=True, metadata={"example": "2030-03-04T09:00:00Z"})
    notes = Text(load_default="", validate=validate.Length(max=2000))
    bundle_purchase_id = fields.UUID(load_default=None, allow_none=True,
                                     metadata={"description": "Pay with one credit of this bundle purchase."})
    mentor_profile_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "A team listing's member to book; omit to let the service choose one free at that time."})
    answers = fields.List(fields.Nested(AnswerSchema), load_default=list,
                          validate=validate.Length(max=MAX_QUESTIONS), metadata={
                              "description": "Answers to the listing's questions (`GET /listings/{id}/questions`); "
                                             "every required one answered."})


class AnsweredSchema(Schema):
    question_id = fields.String()
    label = fields.String(metadata={"description": "The question as it was asked."})
    kind = fields.String(metadata={"enum": [k.value for k in QuestionKind]})
    value = fields.Raw()


class ReasonSchema(Schema):
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class BookingSchema(MenteeTimeSchema):
    records = Booking

    status = fields.String(metadata={"enum": [s.value for s in BookingStatus]})
    price_cents = fields.Integer()
    currency = fields.String()
    session_id = fields.UUID(allow_none=True, metadata={
        "description": "Set once the session exists; a seat's is its group session's."})
    group_session_id = fields.UUID(allow_none=True, metadata={"description": "Set on a seat in a group session."})
    decline_reason = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    cancel_late = fields.Boolean(allow_none=True, metadata={
        "description": "Set when an accepted booking or seat was cancelled: within the late window?"})
    cancel_fee_cents = fields.Integer(allow_none=True, metadata={
        "description": "The late cancellation fee (0 when refunded or the bundle credit was forfeited instead)."})
    rescheduled_from_booking_id = fields.UUID(allow_none=True, metadata={
        "description": "The booking this one replaced when a move was agreed (`booking.rescheduled`)."})
    reschedule_count = fields.Integer(metadata={"description": "How many times this booking's chain was moved."})
    series_id = fields.UUID(allow_none=True, metadata={
        "description": "Set on a time of a series (`/booking-series`): answered with the series, then on its own."})
    answers = fields.List(fields.Nested(AnsweredSchema), metadata={
        "description": "The mentee's answers to the listing's questions, with each question as it was asked."})
    instant = fields.Boolean(metadata={"description": "Booked instantly: accepted by the system as it was requested."})
    competing_requests = fields.Integer(metadata={
        "description": "Of a pending request: how many other people's pending requests ask its mentor for an "
                       "overlapping time (the mentor accepts one; the others are declined). 0 otherwise."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def show(self, records: list[Booking]) -> list[NamedBooking]:
        return name_bookings(db_session(), records)

    def flatten(self, view: NamedBooking) -> dict[str, Any]:
        booking = view.booking
        data = {name: getattr(booking, name, None) for name in self.fields}
        data.update(session_id=view.session_id, mentor=view.mentor, mentee=view.mentee,
                    competing_requests=view.competing_requests)
        return data


BookingPageSchema = page_of(BookingSchema, "BookingPage")


class BookingListArgs(PaginationArgs):
    role = Text(load_default=None, validate=validate.OneOf(["mentee", "mentor"]))
    status = Text(load_default=None, validate=validate.OneOf([s.value for s in BookingStatus]))


class BookingPolicySchema(Schema):
    """The rules the API applies to bookings and sessions, as configured: what a client shows before acting."""

    min_notice_minutes = fields.Integer(metadata={
        "description": "A booking must start at least this long from now (`MIN_NOTICE_MINUTES`).", "example": 0})
    start_early_minutes = fields.Integer(metadata={
        "description": "A session can be started this long before its start (`START_EARLY_MINUTES`).", "example": 15})
    cancellation_window_hours = fields.Integer(metadata={
        "description": "A mentee cancelling less than this before the start pays the fee, or forfeits the bundle "
                       "credit booked with (`CANCELLATION_WINDOW_HOURS`).", "example": 24})
    cancellation_fee_percent = fields.Integer(metadata={
        "description": "The late fee, in percent of the price (`CANCELLATION_FEE_PERCENT`).", "example": 50})
    max_reschedules_per_booking = fields.Integer(metadata={
        "description": "How many times a booking may be moved by agreement (`MAX_RESCHEDULES_PER_BOOKING`); a move "
                       "the other participant accepts costs nothing.", "example": 2})
    reschedule_fee_cents = fields.Constant(0, metadata={
        "type": "integer", "description": "What a move by agreement costs: nothing.", "example": 0})
    reschedule_request_ttl_hours = fields.Integer(metadata={
        "description": "How long a mentee has to answer the mentor's request to choose another time, never past "
                       "the start; unanswered, the mentor cancels at no cost to the mentee "
                       "(`RESCHEDULE_REQUEST_TTL_HOURS`).",
        "example": 48})
    no_show_grace_minutes = fields.Integer(metadata={
        "description": "A participant who checked in may report the other absent this long after the start "
                       "(`NO_SHOW_GRACE_MINUTES`).", "example": 10})
    no_show_dispute_hours = fields.Integer(metadata={
        "description": "A finding of absence may be disputed this long after it was made (`NO_SHOW_DISPUTE_HOURS`).",
        "example": 48})

