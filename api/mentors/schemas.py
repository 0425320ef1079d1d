from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import PaginationArgs, Text, avatar_url, page_of, search_words, skill_name, timezone_name

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


class MentorProfileCreateSchema(ma.Schema):
    headline = _headline(required=True)
    bio = Text(load_default="", validate=validate.Length(max=MAX_BIO_LENGTH))
    timezone = timezone_name(required=True, metadata={"example": "Europe/Paris"})
    skills = fields.List(skill_name(), load_default=list,
                         validate=validate.Length(max=MAX_SKILLS), metadata={"example": ["python", "postgresql"]})
    avatar_url = avatar_url(load_default=None, allow_none=True,
                            metadata={"example": "https://images.example.com/ada.png"})


class MentorProfilePatchSchema(ma.Schema):
    headline = _headline()
    bio = Text(validate=validate.Length(max=MAX_BIO_LENGTH))
    timezone = timezone_name(metadata={"example": "Europe/Paris"})
    skills = fields.List(skill_name(), validate=validate.Length(max=MAX_SKILLS),
                         metadata={"description": "Replaces the list.", "example": ["python", "postgresql"]})
    avatar_url = avatar_url(allow_none=True, metadata={"description": "https only; null removes it."})

    @ma.validates_schema
    def _not_empty(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("give at least one field to change")


class WindowSchema(ma.Schema):
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


class AvailabilitySchema(ma.Schema):
    windows = fields.List(fields.Nested(WindowSchema), required=True, validate=validate.Length(max=100))


class MentorProfileSchema(ma.Schema):
    id = fields.UUID(dump_only=True)
    user_id = fields.UUID(dump_only=True)
    display_name = fields.Function(lambda profile: profile.user.display_name,
                                   metadata={"type": "string", "example": "Grace Hopper"})
    avatar_url = fields.String(allow_none=True, dump_only=True)
    headline = fields.String(dump_only=True)
    bio = fields.String(dump_only=True)
    timezone = fields.String(dump_only=True)
    skills = fields.Function(lambda profile: [skill.name for skill in profile.skills],
                             metadata={"type": "array", "items": {"type": "string"}})
    rating_average = fields.Float(allow_none=True, dump_only=True)
    rating_count = fields.Integer(dump_only=True)
    availability = fields.List(fields.Nested(WindowSchema), dump_only=True)
    created_at = fields.DateTime(dump_only=True)


MentorProfilePageSchema = page_of(MentorProfileSchema, "MentorProfilePage")


class MentorProfileListArgs(PaginationArgs):
    skill = Text(load_default=None, validate=validate.Length(max=50), metadata={"example": "python"})
    q = search_words(metadata={
        "description": "Words to find: a skill (by prefix, or with a typo or two), a name or a headline. The best "
                       "`limit` matches, best first, on one page (`next_cursor` is null).", "example": "pyhton"})
