"""Fields and schemas shared by every resource."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from workflows.accounts import MAX_EMAIL_LENGTH, normalise_email
from workflows.errors import InvalidInput
from workflows.mentors import normalise_skill

MAX_JSON_DEPTH = 10
MAX_JSON_BYTES = 16_384
MAX_SKILL_LENGTH = 50  # skills.name is varchar(50)


def _no_nul(value: str) -> None:
    # PostgreSQL text cannot hold NUL; refuse it as input rather than fail on write.
    if "\x00" in value:
        raise ma.ValidationError("must not contain NUL characters")


class Text(fields.String):
    """A string that PostgreSQL can store."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        validators = kwargs.pop("validate", None)
        extra = [validators] if callable(validators) else list(validators or [])
        super().__init__(*args, validate=[_no_nul, *extra], **kwargs)


def normalised_length(normalise: Callable[[str], str], *, least: int = 0, most: int) -> Callable[[str], None]:
    """A validator of the length ``value`` has once ``normalise``d, the form that is stored.

    Lower-casing can lengthen a string and trimming can empty it, so the raw length says little.
    ``normalise`` may also refuse the value with ``InvalidInput``.
    """

    def check(value: str) -> None:
        try:
            length = len(normalise(value))
        except InvalidInput as exc:
            raise ma.ValidationError(exc.message) from None
        if not least <= length <= most:
            raise ma.ValidationError(f"must be {least}-{most} characters once normalised, not {length}")

    return check


class EmailAddress(fields.Email):
    """An email address, whose length is measured as stored (trimmed and lower-cased)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=[validate.Length(max=MAX_EMAIL_LENGTH),
                                   normalised_length(normalise_email, most=MAX_EMAIL_LENGTH)], **kwargs)


def skill_name(**kwargs: Any) -> Text:
    """A skill, measured as stored: trimmed, lower-cased, inner spaces collapsed."""
    return Text(validate=[validate.Length(min=1, max=MAX_SKILL_LENGTH),
                          normalised_length(normalise_skill, least=1, most=MAX_SKILL_LENGTH)], **kwargs)


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class Timestamp(fields.AwareDateTime):
    """An RFC 3339 time with an offset, kept within years 2000-2099, returned in UTC."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        parsed: datetime = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST <= parsed < LATEST:
            raise ma.ValidationError("must be between 2000 and 2099")
        return parsed.astimezone(UTC)


def _json_storable(value: Any, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ma.ValidationError("nested too deeply")
    if isinstance(value, str):
        _no_nul(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key)
            _json_storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _json_storable(item, depth + 1)


def json_storable(value: Any) -> None:
    """JSON that PostgreSQL's jsonb accepts (no NUL) and of bounded size."""
    _json_storable(value)
    if len(json.dumps(value)) > MAX_JSON_BYTES:
        raise ma.ValidationError(f"must serialise to at most {MAX_JSON_BYTES} bytes")


class PaginationArgs(ma.Schema):
    limit = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=100), metadata={"description": "Page size (1-100)."}
    )
    cursor = Text(
        load_default=None,
        validate=validate.Length(max=500),
        metadata={"description": "Opaque cursor from the previous page's `next_cursor`."},
    )


class PageSchema(ma.Schema):
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last page."}
    )


def page_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A ``{items, next_cursor}`` schema for ``item_schema``."""
    return type(name, (PageSchema,), {"items": fields.List(fields.Nested(item_schema))})


def id_field(description: str, **kwargs: Any) -> fields.UUID:
    return fields.UUID(metadata={"description": description}, **kwargs)
