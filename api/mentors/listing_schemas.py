from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import (
    PaginationArgs,
    Schema,
    ShownSchema,
    Text,
    Timestamp,
    currency_code,
    page_of,
    search_words,
    skill_name,
)
from api.database import db_session
from api.security import current_actor
from models import Listing, ListingKind
from models.mentors.listings import (
    MAX_ACTIVE_BOOKINGS,
    MAX_BUFFER_MINUTES,
    MAX_DAYS_AHEAD,
    MAX_DURATION_MINUTES,
    MAX_INSTANT_BOOKINGS,
    MAX_NOTICE_MINUTES,
    MAX_SESSIONS_PER_DAY,
    MAX_SESSIONS_PER_WEEK,
    MIN_DURATION_MINUTES,
    SLOT_STEPS,
)
from models.questions import MAX_LABEL, MAX_OPTION, MAX_OPTIONS, MAX_QUESTIONS, QuestionKind
from workflows.mentors.listings import FREE_SLOT_CALENDARS, FREE_SLOT_CANDIDATES, ListingView, LocationKind, as_seen_by

MAX_PRICE_CENTS = 100_000_000
MAX_LOCATION = 500
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_HTTPS_URL = validate.URL(schemes={"https"}, error="a meeting URL must be an https URL")


def _location(value: str) -> None:
    """A place in words, or a meeting URL, which must then be https."""
    if _URL_SCHEME.match(value):
        _HTTPS_URL(value)


def location_field(**kwargs: Any) -> Text:
    return Text(allow_none=True, validate=[validate.Length(min=1, max=MAX_LOCATION), _location], metadata={
        "description": "Where sessions meet: an https meeting URL or a place (at most 500 characters); "
                       "null to clear it.", "example": "https://meet.example.com/grace"}, **kwargs)


def _minutes(most: int, description: str, **kwargs: Any) -> fields.Integer:
    return fields.Integer(validate=validate.Range(min=0, max=most), metadata={"description": description}, **kwargs)


def _optional(least: int, most: int, description: str, **kwargs: Any) -> fields.Integer:
    return fields.Integer(allow_none=True, validate=validate.Range(min=least, max=most),
                          metadata={"description": description}, **kwargs)


class SchedulingRulesSchema(Schema):
    """A listing's scheduling rules (workflows.scheduling.rules); null for none, or the service's default."""

    buffer_before_minutes = _minutes(MAX_BUFFER_MINUTES, "Time the mentor keeps free before each session (0-120). "
                                     "Between two sessions: the larger of the earlier's after and the later's before.")
    buffer_after_minutes = _minutes(MAX_BUFFER_MINUTES, "Time the mentor keeps free after each session (0-120).")
    min_notice_minutes = _optional(0, MAX_NOTICE_MINUTES, "How long before its start a session can be requested; "
                                   "null: the service's `MIN_NOTICE_MINUTES`.")
    max_days_ahead = _optional(1, MAX_DAYS_AHEAD, "How far ahead a session can be requested, in days; null: any time.")
    slot_step_minutes = fields.Integer(allow_none=True, validate=validate.OneOf(SLOT_STEPS), metadata={
        "description": "Free slots start every 15, 30 or 60 minutes; null: every duration."})
    max_sessions_per_day = _optional(1, MAX_SESSIONS_PER_DAY, "At most this many sessions of this listing a day with "
                                     "one mentor (in the mentor's timezone); null: no limit.")
    max_sessions_per_week = _optional(1, MAX_SESSIONS_PER_WEEK, "The same, a week (Monday to Sunday).")
    max_active_bookings_per_mentor = _optional(1, MAX_ACTIVE_BOOKINGS, "At most this many upcoming bookings and "
                                               "requests one mentee holds with one mentor; null: the service's "
                                               "`MAX_ACTIVE_BOOKINGS_PER_MENTOR` (none by default).")
    max_instant_bookings_per_mentor = _optional(
        1, MAX_INSTANT_BOOKINGS, "Booked instantly: at most this many upcoming times one mentee holds with one mentor "
        "(each time of a series counted; an account whose address is unconfirmed holds one); null: the service's "
        "`MAX_INSTANT_BOOKINGS_PER_MENTOR` (26 by default). 409 beyond.")


INSTANT_BOOKING = ("Book instantly: a request for a free time (or a series' free times) is accepted at once by the "
                   "system in the request's transaction, through the same checks as a mentor's accept "
                   "(`booking.requested` then `booking.accepted`); the answer is `accepted`. False (the default): "
                   "the mentor approves each request.")


class ListingCreateSchema(SchedulingRulesSchema):
    title = Text(required=True, validate=validate.Length(min=1, max=200),
                 metadata={"example": "System design interview practice"})
    description = Text(load_default="", validate=validate.Length(max=10_000))
    skill = skill_name(required=True, metadata={"example": "system design"})
    duration_minutes = fields.Integer(required=True,
                                      validate=validate.Range(min=MIN_DURATION_MINUTES, max=MAX_DURATION_MINUTES),
                                      metadata={"example": 60})
    price_cents = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_PRICE_CENTS),
                                 metadata={"example": 8000})
    currency = currency_code(load_default=None, metadata={
        "description": "ISO 4217; your profile's currency unless given.", "example": "EUR"})
    kind = Text(load_default=ListingKind.INDIVIDUAL.value, validate=validate.OneOf([k.value for k in ListingKind]))
    capacity = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=2, max=500),
                              metadata={"description": "Seats of a group listing (2-500); omit for individual."})
    location = location_field(load_default=None)
    instant_booking = fields.Boolean(load_default=False, metadata={"description": INSTANT_BOOKING})


class ListingPatchSchema(SchedulingRulesSchema):
    title = Text(validate=validate.Length(min=1, max=200))
    description = Text(validate=validate.Length(max=10_000))
    skill = skill_name()
    duration_minutes = fields.Integer(validate=validate.Range(min=MIN_DURATION_MINUTES, max=MAX_DURATION_MINUTES))
    price_cents = fields.Integer(validate=validate.Range(min=0, max=MAX_PRICE_CENTS))
    currency = currency_code()
    capacity = fields.Integer(allow_none=True, validate=validate.Range(min=2, max=500))
    active = fields.Boolean()
    location = location_field()
    instant_booking = fields.Boolean(metadata={"description": INSTANT_BOOKING})

    @ma.validates_schema
    def _not_empty(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("give at least one field to change")


class ListingSchema(ShownSchema):
    records = Listing

    id = fields.UUID(dump_only=True)
    mentor_profile_id = fields.UUID(dump_only=True)
    title = fields.String(dump_only=True)
    slug = fields.String(dump_only=True, metadata={
        "description": "Its booking page is `/book/<slug>`, seen by visitors when its mentor's profile is public.",
        "example": "system-design-interview-practice-k3m9x2ab"})
    description = fields.String(dump_only=True)
    skill = fields.Function(lambda data: data["skill"].name, metadata={"type": "string"})
    duration_minutes = fields.Integer(dump_only=True)
    price_cents = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    capacity = fields.Integer(allow_none=True, dump_only=True)
    active = fields.Boolean(dump_only=True)
    instant_booking = fields.Boolean(dump_only=True, metadata={"description": INSTANT_BOOKING})
    location = fields.String(allow_none=True, dump_only=True, metadata={
        "description": "Where sessions meet (an https meeting URL or a place): shown to the listing's mentors only; "
                       "participants see it on their sessions."})
    location_kind = fields.Enum(LocationKind, by_value=True, allow_none=True, dump_only=True, metadata={
        "description": "`online` (a meeting URL) or `in_person` (a place); null when the listing names none."})
    buffer_before_minutes = fields.Integer(dump_only=True)
    buffer_after_minutes = fields.Integer(dump_only=True)
    min_notice_minutes = fields.Integer(allow_none=True, dump_only=True,
                                        metadata={"description": "Null: the service's default."})
    max_days_ahead = fields.Integer(allow_none=True, dump_only=True)
    slot_step_minutes = fields.Integer(allow_none=True, dump_only=True, metadata={"description": "Null: the duration."})
    max_sessions_per_day = fields.Integer(allow_none=True, dump_only=True)
    max_sessions_per_week = fields.Integer(allow_none=True, dump_only=True)
    max_active_bookings_per_mentor = fields.Integer(allow_none=True, dump_only=True)
    max_instant_bookings_per_mentor = fields.Integer(allow_none=True, dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    def show(self, records: list[Listing]) -> list[ListingView]:
        return as_seen_by(db_session(), current_actor(), records)

    def flatten(self, view: ListingView) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(view.listing, name) for name in self.fields
                                if name not in {"location", "location_kind"}}
        return {**data, "location": view.location, "location_kind": view.location_kind}


ListingPageSchema = page_of(ListingSchema, "ListingPage")


MAX_FREE_SLOT_WINDOW = timedelta(days=31)
MAX_WINDOW_TEXT = 100


class TimeWindow(fields.String):
    """``from,to``: two RFC 3339 times, ``to`` after ``from``, at most 31 days apart."""

    # Documented as the string it is sent as; loaded as the pair of times it means.
    def _deserialize(  # type: ignore[override]
            self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[datetime, datetime]:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > MAX_WINDOW_TEXT:
            raise ma.ValidationError(f"at most {MAX_WINDOW_TEXT} characters")
        start_text, comma, end_text = text.partition(",")
        if not comma or "," in end_text:
            raise ma.ValidationError("give two times: from,to")
        start, end = Timestamp().deserialize(start_text.strip()), Timestamp().deserialize(end_text.strip())
        if end <= start:
            raise ma.ValidationError("`to` must be after `from`")
        if end - start > MAX_FREE_SLOT_WINDOW:
            raise ma.ValidationError("the window may span at most 31 days")
        return start, end


class ListingListArgs(PaginationArgs):
    skill = Text(load_default=None, validate=validate.Length(max=50))
    q = search_words(metadata={
        "description": "Words to find: a skill (by prefix, or with a typo or two) or a title. The best `limit` "
                       "matches, best first, on one page (`next_cursor` is null); not with `has_free_slot_between`.",
        "example": "postgres"})
    mentor_profile_id = fields.UUID(load_default=None)
    active = fields.Boolean(load_default=None, allow_none=True)
    kind = Text(load_default=None, validate=validate.OneOf([k.value for k in ListingKind]))
    max_price_cents = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_PRICE_CENTS))
    has_free_slot_between = TimeWindow(load_default=None, metadata={
        "description": "`from,to` (RFC 3339, at most 31 days): only active listings with at least one free slot "
                       f"starting then. Each page checks at most {FREE_SLOT_CANDIDATES} listings and reads at most "
                       f"{FREE_SLOT_CALENDARS} mentors' calendars "
                       "(a team listing reads each member's), so such a page may hold fewer than `limit` items, even "
                       "none, and still have a `next_cursor`: follow it to search on.",
        "example": "2030-03-04T00:00:00Z,2030-03-11T00:00:00Z"})

    @ma.validates_schema
    def _one_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("q") and data.get("has_free_slot_between"):
            raise ma.ValidationError("search words and has_free_slot_between do not combine: choose one", "q")


class SlotsArgs(Schema):
    from_ = Timestamp(required=True, data_key="from", metadata={"example": "2030-03-04T00:00:00Z"})
    to = Timestamp(required=True, metadata={"example": "2030-03-11T00:00:00Z"})


class SlotSchema(Schema):
    start_time = fields.DateTime()
    end_time = fields.DateTime()


class ViewedSlotSchema(SlotSchema):
    viewer_busy = fields.Boolean(metadata={
        "description": "You already meet someone at this time (an accepted booking, a seat, a session you mentor): "
                       "a request of yours would be refused."})
    requested_by_others = fields.Integer(metadata={
        "description": "How many other people have asked the mentor for an overlapping time and wait for an answer "
                       "(who, is never said): the mentor accepts one."})


class SlotListSchema(Schema):
    items = fields.List(fields.Nested(ViewedSlotSchema))


class FirstSlotArgs(Schema):
    from_ = Timestamp(load_default=None, data_key="from", metadata={
        "description": "Look from this instant on (default: now).", "example": "2030-03-04T00:00:00Z"})


class FirstSlotSchema(Schema):
    slot = fields.Nested(SlotSchema, allow_none=True, metadata={
        "description": "The earliest free time from `from`, up to the listing's horizon (a year at most); null: none."})


MAX_TEAM_SIZE = 20

EXAMPLE_TEAM: dict[str, Any] = {
    "listing_id": "0b9f7c5a-3f2e-4d1a-8c6b-5e4d3c2b1a09",
    "owner_mentor_profile_id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f",
    "is_team": True,
    "members": [
        {"mentor_profile_id": "a3e1d2c4-5b6f-4a7e-8d9c-0b1a2c3d4e5f", "display_name": "Grace Hopper",
         "headline": "Staff engineer", "timezone": "Europe/Paris"},
        {"mentor_profile_id": "b4f2e3d5-6c7a-4b8f-9e0d-1c2b3d4e5f60", "display_name": "Margaret Hamilton",
         "headline": "Backend mentor", "timezone": "America/New_York"},
    ],
}


class TeamMemberSchema(Schema):
    mentor_profile_id = fields.UUID(attribute="id")
    display_name = fields.Function(lambda profile: profile.user.display_name,
                                   metadata={"type": "string", "example": "Grace Hopper"})
    headline = fields.String()
    timezone = fields.String()


class TeamSchema(Schema):
    listing_id = fields.UUID()
    owner_mentor_profile_id = fields.UUID()
    is_team = fields.Boolean(metadata={"description": "False when the owner teaches alone (no members set)."})
    members = fields.List(fields.Nested(TeamMemberSchema), metadata={
        "description": "Who teaches the listing, in the team's order (the last tie-break when choosing one): the "
                       "mentors who accepted their invitation, and the owner if they teach too."})
    invited = fields.List(fields.Nested(TeamMemberSchema), allow_none=True, metadata={
        "description": "Mentors invited who have not accepted yet: not in the team or its slots until they do. "
                       "Shown to the owner; null for anyone else."})


def _distinct(values: list[Any]) -> None:
    if len(set(values)) != len(values):
        raise ma.ValidationError("each mentor profile may appear once")


class TeamUpdateSchema(Schema):
    mentor_profile_ids = fields.List(fields.UUID(), required=True,
                                     validate=[validate.Length(max=MAX_TEAM_SIZE), _distinct], metadata={
        "description": "The team, in order (at most 20; the owner only if they teach too). Members not listed leave "
                       "it; mentors listed who are not members are invited, and join when they accept. Empty: the "
                       "owner alone."})


class QuestionInputSchema(Schema):
    kind = Text(required=True, validate=validate.OneOf([k.value for k in QuestionKind]), metadata={
        "description": "`text` (free text), `single` (one choice), `multiple` (any choices), `scale` (1 to 5)."})
    label = Text(required=True, validate=validate.Length(min=1, max=MAX_LABEL),
                 metadata={"example": "What would you like to work on?"})
    options = fields.List(Text(validate=validate.Length(min=1, max=MAX_OPTION)), load_default=list,
                          validate=validate.Length(max=MAX_OPTIONS),
                          metadata={"description": f"The choices of a `single` or `multiple` question "
                                                   f"(2-{MAX_OPTIONS})."})
    required = fields.Boolean(load_default=False)


class QuestionsInputSchema(Schema):
    items = fields.List(fields.Nested(QuestionInputSchema), required=True,
                        validate=validate.Length(max=MAX_QUESTIONS))


class QuestionSchema(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"enum": [k.value for k in QuestionKind]})
    label = fields.String()
    options = fields.List(fields.String())
    required = fields.Boolean()


class QuestionListSchema(Schema):
    items = fields.List(fields.Nested(QuestionSchema))


EXAMPLE_QUESTIONS: dict[str, Any] = {"items": [
    {"kind": "text", "label": "What would you like to work on?", "options": [], "required": True},
    {"kind": "single", "label": "Your level", "options": ["Junior", "Mid", "Senior"], "required": False},
    {"kind": "scale", "label": "How confident are you in interviews?", "options": [], "required": False}]}
