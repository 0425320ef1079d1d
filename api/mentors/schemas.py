from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import g, has_request_context
from marshmallow import fields, validate

from api.bookings.schemas import BookingSchema
from api.common.schemas import (
    PaginationArgs,
    Schema,
    Text,
    avatar_url,
    currency_code,
    page_of,
    search_words,
    skill_name,
    timezone_name,
)
from api.sessions.schemas import SessionSchema
from models.mentors.listings import MAX_SESSIONS_PER_DAY, MAX_SESSIONS_PER_WEEK
from models.mentors.mentors import MAX_EMBED_ORIGINS
from workflows.mentors.time_off import MAX_HOURS_PER_DAY, MAX_OVERRIDES, MAX_TIME_OFF

# An https origin: a host name (or an IPv4 address) and an optional port, no path.
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_ORIGIN = re.compile(rf"^https://{_LABEL}(\.{_LABEL})*(:\d{{1,5}})?$")
PUBLIC = ("Visitors without an account see your profile, your active listings and their free times (never who "
          "booked them, nor where you meet), and each listing's booking page `/book/<slug>`. False (the default): "
          "only signed-in people do.")
EMBED_ORIGINS = ("Sites allowed to show your public pages in a frame (https origins, 5 at most); none (the default): "
                 "no site may.")
_HHMM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")


def minutes_from_hhmm(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def hhmm_from_minutes(value: int) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


MAX_BIO_LENGTH = 5000
MAX_SKILLS = 20


def _headline(**kwargs: Any) -> Text:
    return Text(validate=validate.Length(min=1, max=200), metadata={"example": "Staff engineer, distributed systems"},
                **kwargs)


class MentorProfileCreateSchema(Schema):
    headline = _headline(required=True)
    bio = Text(load_default="", validate=validate.Length(max=MAX_BIO_LENGTH))
    timezone = timezone_name(required=True, metadata={"example": "Europe/Paris"})
    skills = fields.List(skill_name(), load_default=list,
                         validate=validate.Length(max=MAX_SKILLS), metadata={"example": ["python", "postgresql"]})
    avatar_url = avatar_url(load_default=None, allow_none=True,
                            metadata={"example": "https://images.example.com/ada.png"})
    currency = currency_code(load_default="USD", metadata={
        "description": "What your new listings are priced in unless you say otherwise (ISO 4217).", "example": "EUR"})


def _limit(most: int, description: str, **kwargs: Any) -> fields.Integer:
    return fields.Integer(allow_none=True, validate=validate.Range(min=1, max=most),
                          metadata={"description": description}, **kwargs)


class MentorProfilePatchSchema(Schema):
    headline = _headline()
    bio = Text(validate=validate.Length(max=MAX_BIO_LENGTH))
    timezone = timezone_name(metadata={"example": "Europe/Paris"})
    skills = fields.List(skill_name(), validate=validate.Length(max=MAX_SKILLS),
                         metadata={"description": "Replaces the list.", "example": ["python", "postgresql"]})
    avatar_url = avatar_url(allow_none=True, metadata={"description": "https only; null removes it."})
    max_sessions_per_day = _limit(MAX_SESSIONS_PER_DAY, "At most this many sessions a day, of every listing, group "
                                  "sessions included (in your timezone); null: no limit.")
    max_sessions_per_week = _limit(MAX_SESSIONS_PER_WEEK, "The same, a week (Monday to Sunday).")
    public = fields.Boolean(metadata={"description": PUBLIC})
    currency = currency_code(metadata={"description": "What your new listings are priced in unless you say "
                                                      "otherwise (ISO 4217); listings made before keep theirs."})
    embed_origins = fields.List(Text(validate=[validate.Length(max=200), validate.Regexp(
                                    _ORIGIN, error="expected an https origin, such as https://example.com")]),
                                validate=validate.Length(max=MAX_EMBED_ORIGINS), metadata={
        "description": EMBED_ORIGINS, "example": ["https://mentoring.example.edu"]})

    @ma.validates_schema
    def _not_empty(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("give at least one field to change")


class WindowSchema(Schema):
    weekday = fields.Integer(required=True, validate=validate.Range(min=0, max=6),
                             metadata={"description": "0 = Monday … 6 = Sunday", "example": 0})
    start = Text(required=True, validate=validate.Regexp(_HHMM, error="expected HH:MM"),
                 metadata={"example": "09:00"})
    end = Text(required=True, validate=validate.Regexp(_HHMM, error="expected HH:MM (24:00 for midnight)"),
               metadata={"example": "17:00"})

    @ma.validates_schema
    def _ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if minutes_from_hhmm(data["start"]) >= minutes_from_hhmm(data["end"]):
            raise ma.ValidationError("end must be after start", "end")

    @ma.pre_dump
    def _from_model(self, window: Any, **_kwargs: Any) -> dict[str, Any]:
        return {
            "weekday": window.weekday,
            "start": hhmm_from_minutes(window.start_minute),
            "end": hhmm_from_minutes(window.end_minute),
        }


class HoursSchema(Schema):
    start = Text(required=True, validate=validate.Regexp(_HHMM, error="expected HH:MM"), metadata={"example": "09:00"})
    end = Text(required=True, validate=validate.Regexp(_HHMM, error="expected HH:MM (24:00 for midnight)"),
               metadata={"example": "12:00"})

    @ma.validates_schema
    def _ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if minutes_from_hhmm(data["start"]) >= minutes_from_hhmm(data["end"]):
            raise ma.ValidationError("end must be after start", "end")

    @ma.pre_dump
    def _from_pair(self, pair: Any, **_kwargs: Any) -> dict[str, Any]:
        start, end = pair
        return {"start": hhmm_from_minutes(start), "end": hhmm_from_minutes(end)}


class DateOverrideSchema(Schema):
    date = fields.Date(required=True, validate=validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31)),
                       metadata={"example": "2030-12-24"})
    hours = fields.List(fields.Nested(HoursSchema), required=True, validate=validate.Length(max=MAX_HOURS_PER_DAY),
                        metadata={"description": "That date's hours, in place of its weekday's windows; none: not "
                                                 "available that date."})

    @ma.pre_dump
    def _from_model(self, override: Any, **_kwargs: Any) -> dict[str, Any]:
        return {"date": override.day, "hours": [tuple(pair) for pair in override.hours]}


class DateOverridesSchema(Schema):
    overrides = fields.List(fields.Nested(DateOverrideSchema), required=True,
                            validate=validate.Length(max=MAX_OVERRIDES))


class DateOverridesViewSchema(Schema):
    timezone = fields.String(metadata={"description": "The mentor's timezone, which the dates and hours are in."})
    overrides = fields.List(fields.Nested(DateOverrideSchema), metadata={"description": "Today's and later ones."})
    declined_requests = fields.List(fields.UUID(), metadata={
        "description": "Pending requests this change declined: their date's new hours do not hold them."})


class LocalTime(fields.DateTime):
    """A date-time in the mentor's timezone (``2030-12-24T09:00``), or with an offset; within years 2000-2099."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        parsed: datetime = super()._deserialize(value, attr, data, **kwargs)
        if not 2000 <= parsed.year < 2100:  # noqa: PLR2004 - the years every time of the API is kept within
            raise ma.ValidationError("must be between 2000 and 2099")
        return parsed


class TimeOffRangeSchema(Schema):
    start = LocalTime(required=True, metadata={"example": "2030-12-20T00:00"})
    end = LocalTime(load_default=None, allow_none=True, metadata={
        "description": "Null: until further notice.", "example": "2031-01-05T00:00"})
    note = Text(load_default="", validate=validate.Length(max=200), metadata={"example": "Holiday"})


class TimeOffSchema(Schema):
    time_off = fields.List(fields.Nested(TimeOffRangeSchema), required=True,
                           validate=validate.Length(max=MAX_TIME_OFF))


class TimeOffShownSchema(Schema):
    start = fields.String(metadata={"description": "In the mentor's timezone.", "example": "2030-12-20T00:00"})
    end = fields.String(allow_none=True, metadata={"description": "Null: until further notice."})
    start_time = fields.DateTime(metadata={"description": "The same instant, in UTC."})
    end_time = fields.DateTime(allow_none=True)
    note = fields.String()


class TimeOffViewSchema(Schema):
    timezone = fields.String(metadata={"description": "The mentor's timezone."})
    time_off = fields.List(fields.Nested(TimeOffShownSchema), metadata={"description": "Current and later periods."})
    affected_bookings = fields.List(fields.Nested(BookingSchema), metadata={
        "description": "Accepted bookings inside the time off (the first 100): they stand until you cancel each "
                       "(`POST /sessions/{id}/cancel` with a reason; the mentee pays no fee)."})
    affected_group_sessions = fields.List(fields.Nested(SessionSchema), metadata={
        "description": "Your group sessions inside the time off (the first 100), which stand until you cancel them."})
    declined_requests = fields.List(fields.UUID(), metadata={
        "description": "Pending requests inside the time off, declined by this change."})

    @ma.pre_dump
    def _shown(self, view: Any, **_kwargs: Any) -> dict[str, Any]:
        zone = ZoneInfo(view.timezone)

        def local(moment: datetime | None) -> str | None:
            return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else None

        return {"timezone": view.timezone, "affected_bookings": view.affected_bookings,
                "affected_group_sessions": view.affected_group_sessions, "declined_requests": view.declined_requests,
                "time_off": [{"start": local(r.start_time), "end": local(r.end_time), "start_time": r.start_time,
                              "end_time": r.end_time, "note": r.note} for r in view.ranges]}


class AvailabilitySchema(Schema):
    windows = fields.List(fields.Nested(WindowSchema), required=True, validate=validate.Length(max=100))


class MentorProfileSchema(Schema):
    id = fields.UUID(dump_only=True)
    user_id = fields.UUID(dump_only=True)
    display_name = fields.Function(lambda profile: profile.user.display_name,
                                   metadata={"type": "string", "example": "Grace Hopper"})
    avatar_url = fields.String(allow_none=True, dump_only=True)
    headline = fields.String(dump_only=True)
    bio = fields.String(dump_only=True)
    timezone = fields.String(dump_only=True)
    currency = fields.String(dump_only=True, metadata={"description": "New listings' currency unless they say."})
    skills = fields.Function(lambda profile: [skill.name for skill in profile.skills],
                             metadata={"type": "array", "items": {"type": "string"}})
    rating_average = fields.Float(allow_none=True, dump_only=True)
    rating_count = fields.Integer(dump_only=True)
    availability = fields.List(fields.Nested(WindowSchema), dump_only=True)
    max_sessions_per_day = fields.Integer(allow_none=True, dump_only=True)
    max_sessions_per_week = fields.Integer(allow_none=True, dump_only=True)
    public = fields.Boolean(dump_only=True, metadata={"description": PUBLIC})
    embed_origins = fields.List(fields.String(), dump_only=True, metadata={
        "description": EMBED_ORIGINS + " Shown to the mentor only (empty to anyone else)."})
    created_at = fields.DateTime(dump_only=True)

    @ma.post_dump(pass_original=True)
    def _owners_only(self, data: dict[str, Any], profile: Any, **_kwargs: Any) -> dict[str, Any]:
        actor = g.get("actor") if has_request_context() else None
        if actor is None or actor.user_id != profile.user_id:
            data["embed_origins"] = []
        return data


MentorProfilePageSchema = page_of(MentorProfileSchema, "MentorProfilePage")


class MentorProfileListArgs(PaginationArgs):
    skill = Text(load_default=None, validate=validate.Length(max=50), metadata={"example": "python"})
    q = search_words(metadata={
        "description": "Words to find: a skill (by prefix, or with a typo or two), a name or a headline. The best "
                       "`limit` matches, best first, on one page (`next_cursor` is null).", "example": "pyhton"})
