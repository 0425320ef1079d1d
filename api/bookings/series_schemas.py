"""A series of meetings as the API takes and shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from api.bookings.schemas import AnsweredSchema, AnswerSchema
from api.common.schemas import MenteeTimeSchema, PaginationArgs, Schema, Text, Timestamp, page_of
from api.database import db_session
from models import BookingSeries, CancelledBy, SeriesStatus
from models.bookings.series import MAX_OCCURRENCES
from models.questions import MAX_QUESTIONS
from workflows.bookings import series, series_requests
from workflows.people import NamedSeries, name_series

EXAMPLE_SERIES: dict[str, Any] = {
    "id": "2b7e9c1d-4a5f-4e6b-9c8d-7e6f5a4b3c2d",
    "listing_id": "0b9f7c5a-3f2e-4d1a-8c6b-5e4d3c2b1a09",
    "mentor_profile_id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f",
    "mentee_user_id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f",
    "mentor": {"id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f", "display_name": "Grace Hopper"},
    "mentee": {"id": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", "display_name": "Ada Lovelace"},
    "every_weeks": 1,
    "status": "requested",
    "timezone": "Europe/Paris",
    "notes": "Weekly pairing on my thesis code.",
    "bundle_purchase_id": None,
    "start_time": "2030-03-04T17:00:00+00:00",
    "end_time": "2030-03-04T18:00:00+00:00",
    "occurrences": [
        {"booking_id": "6f1c2f5e-8d4b-4a57-9a53-2a8b4f0f3c11", "start_time": "2030-03-04T17:00:00+00:00",
         "end_time": "2030-03-04T18:00:00+00:00", "status": "draft", "reason": None},
        {"booking_id": None, "start_time": "2030-03-11T17:00:00+00:00", "end_time": "2030-03-11T18:00:00+00:00",
         "status": "left_out", "reason": "the mentor's calendar is busy then"},
    ],
    "accepted_count": 0,
    "skipped_count": 0,
    "cancelled_from": None,
    "cancelled_by": None,
    "reason": None,
    "created_at": "2030-03-01T12:00:00+00:00",
    "decided_at": None,
}


class MoveSchema(Schema):
    from_time = Timestamp(required=True, data_key="from", metadata={"description": "One of the series' times."})
    to_time = Timestamp(required=True, data_key="to", metadata={"description": "The time asked for instead."})


class SeriesShapeSchema(Schema):
    listing_id = fields.UUID(required=True)
    first_start = Timestamp(required=True, metadata={
        "description": "The first meeting; the others keep its wall-clock time in the mentor's timezone.",
        "example": "2030-03-04T17:00:00Z"})
    every = fields.Integer(required=True, validate=validate.OneOf([1, 2]), metadata={
        "description": "Weeks between meetings: 1 or 2."})
    count = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, MAX_OCCURRENCES),
                           metadata={"description": f"How many meetings (at most {MAX_OCCURRENCES}); or `until`."})
    until = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "The last date a meeting may fall on, in the mentor's timezone; or `count`."})
    left_out = fields.List(Timestamp(), load_default=list, data_key="exclude",
                           validate=validate.Length(max=MAX_OCCURRENCES), metadata={
        "description": "Times of the series to leave out."})
    moves = fields.List(fields.Nested(MoveSchema), load_default=list, validate=validate.Length(max=MAX_OCCURRENCES),
                        metadata={"description": "Times of the series to ask for at another time instead."})
    mentor_profile_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "A team listing's member; omit to let the service choose one free at the first time."})

    @ma.validates_schema
    def _count_or_until(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if (data.get("count") is None) == (data.get("until") is None):
            raise ma.ValidationError("give either `count` or `until`")

    @ma.post_load
    def _shape(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        shape = series_requests.Shape(
            listing_id=data["listing_id"], first_start=data["first_start"], every_weeks=data["every"],
            count=data.get("count"), until=data.get("until"), exclude=tuple(data["left_out"]),
            moves={m["from_time"]: m["to_time"] for m in data["moves"]}, mentor_profile_id=data["mentor_profile_id"])
        return {"shape": shape, **{k: v for k, v in data.items() if k not in SHAPE_FIELDS}}


SHAPE_FIELDS = frozenset({"listing_id", "first_start", "every", "count", "until", "left_out", "moves",
                          "mentor_profile_id"})


class SeriesCreateSchema(SeriesShapeSchema):
    notes = Text(load_default="", validate=validate.Length(max=2000))
    answers = fields.List(fields.Nested(AnswerSchema), load_default=list, validate=validate.Length(max=MAX_QUESTIONS),
                          metadata={"description": "Answers to the listing's questions, kept with every time."})
    bundle_purchase_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "Pay with this bundle purchase: one credit held for each time requested."})


class PlannedSchema(Schema):
    start_time = fields.DateTime(attribute="start")
    end_time = fields.DateTime(attribute="end")
    free = fields.Boolean(metadata={"description": "Free under every scheduling rule: it will be requested."})
    reason = fields.String(allow_none=True, metadata={"description": "Why it is left out."})
    rule = fields.String(allow_none=True, metadata={"description": "The rule that refused it, if one did."})
    moved_from = fields.DateTime(allow_none=True, metadata={"description": "The series' time this one replaces."})


class PreviewSchema(Schema):
    occurrences = fields.List(fields.Nested(PlannedSchema))


class OccurrenceSchema(Schema):
    booking_id = fields.UUID(allow_none=True, metadata={"description": "Null for a time left out."})
    start_time = fields.DateTime()
    end_time = fields.DateTime()
    status = fields.String(metadata={"description": "The booking's status, or `left_out`."})
    reason = fields.String(allow_none=True)


class SeriesPairingSchema(Schema):
    id = fields.UUID(metadata={"description": "The pairing."})
    programme_id = fields.UUID()
    programme_name = fields.String()
    asked_by_mentee = fields.Boolean(metadata={
        "description": "The mentee asked this mentor (a programme whose mentees choose); else its coordinators "
                       "proposed the pair."})


class SeriesSchema(MenteeTimeSchema):
    records = BookingSeries

    every_weeks = fields.Integer()
    status = fields.String(metadata={"enum": [s.value for s in SeriesStatus]})
    timezone = fields.String(metadata={"description": "The mentor's timezone, whose wall-clock time the times keep."})
    start_time = fields.DateTime(metadata={"description": "The first time's start."})
    occurrences = fields.List(fields.Nested(OccurrenceSchema))
    accepted_count = fields.Integer()
    skipped_count = fields.Integer(metadata={"description": "Times taken (or passed) before the accept, declined."})
    cancelled_from = fields.DateTime(allow_none=True)
    cancelled_by = fields.Enum(CancelledBy, by_value=True, allow_none=True, metadata={
        "description": "Who withdrew or cancelled it: one of the pair, or (a pairing's series) a coordinator or an "
                       "admin pausing or ending the pairing."})
    reason = fields.String(allow_none=True, metadata={"description": "Why it was declined, withdrawn or ended."})
    answers = fields.List(fields.Nested(AnsweredSchema), metadata={
        "description": "The mentee's answers to the listing's questions, as asked (each time of the series keeps "
                       "them)."})
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    pairing = fields.Nested(SeriesPairingSchema, allow_none=True, metadata={
        "description": "The programme pairing whose sessions it asks for: the programme's proposal, answered whole "
                       "by the mentor (accept makes the pairing active, decline ends it). Null for a mentee's own."})

    def show(self, records: list[BookingSeries]) -> list[NamedSeries]:
        return series_views(db_session(), records)

    def flatten(self, view: NamedSeries) -> dict[str, Any]:
        """The series as its events carry it (times as instants), with the names and what only the API shows."""
        s, times = view.series, view.times
        return {**_instants(dict(series.series_payload(s, times))), "timezone": s.timezone, "notes": s.notes,
                "bundle_purchase_id": s.bundle_purchase_id, "created_at": s.created_at, "decided_at": s.decided_at,
                "answers": times[0].answers if times else [], "mentor": view.mentor, "mentee": view.mentee,
                "pairing": view.pairing}


def series_views(db: Session, records: list[BookingSeries]) -> list[NamedSeries]:
    """The series with their times and names: two queries, however many series."""
    return name_series(db, records, series.bookings_of(db, [s.id for s in records]))


def _instants(payload: dict[str, Any]) -> dict[str, Any]:
    def instant(value: Any) -> Any:
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    return {**payload, **{key: instant(payload[key]) for key in ("start_time", "end_time", "cancelled_from")},
            "occurrences": [{**one, "start_time": instant(one["start_time"]), "end_time": instant(one["end_time"])}
                            for one in payload["occurrences"]]}


SeriesPageSchema = page_of(SeriesSchema, "BookingSeriesPage")


class SeriesListArgs(PaginationArgs):
    role = Text(load_default=None, validate=validate.OneOf(["mentee", "mentor"]))
    status = Text(load_default=None, validate=validate.OneOf([s.value for s in SeriesStatus]))


class SeriesCancelSchema(Schema):
    from_time = Timestamp(load_default=None, allow_none=True, data_key="from", metadata={
        "description": "Cancel the meetings starting from then on (default: every one still to come)."})
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=1000), metadata={
        "description": "Why; the mentor must give one."})
