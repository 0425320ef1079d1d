"""Fields and schemas shared by every resource."""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar

import marshmallow as ma
from marshmallow import fields, validate

from workflows import wording
from workflows.accounts.users import MAX_EMAIL_LENGTH, normalise_email
from workflows.errors import InvalidInput
from workflows.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from workflows.skills import normalise_skill

MAX_JSON_DEPTH = 10
MAX_JSON_BYTES = 16_384
MAX_SKILL_LENGTH = 50  # skills.name is varchar(50)


def _no_nul(value: str) -> None:
    # PostgreSQL text cannot hold NUL; refuse it as input rather than fail on write.
    if "\x00" in value:
        raise ma.ValidationError("must not contain NUL characters")


class Schema(ma.Schema):
    """Every API schema's base: an instance is set up once, when its route is declared, and never changed after.

    flask-smorest deep-copies a view's documentation at each of its decorators and again when the route is declared
    (apispec may change the dicts), and with it every schema instance the documentation names: several copies of
    each schema per route, kept for the process's life. A copy of the documentation shares its schemas instead: the
    dicts are still copied, and each API process holds 3.7 MB less.
    """

    def __deepcopy__(self, _memo: dict[int, Any]) -> Schema:
        return self


class Text(fields.String):
    """A string that PostgreSQL can store."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        validators = kwargs.pop("validate", None)
        extra = [validators] if callable(validators) else list(validators or [])
        super().__init__(*args, validate=[_no_nul, *extra], **kwargs)


def _one_line(value: str) -> None:
    # A name is read inside other people's mails and pages: a line break (or another control character) in it
    # would forge lines there.
    if not wording.one_line(value):
        raise ma.ValidationError("must be one line, without control characters")


class OneLine(Text):
    """A name people read in others' mails: one line, no control character (a display name, a programme's name); the
    direction overrides, embeddings and isolates (U+202A to U+202E, U+2066 to U+2069), which would turn the words
    around it in every page and mail that shows it, are dropped (the joiners Arabic, Persian and emoji need stay)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        validators = kwargs.pop("validate", None)
        extra = [validators] if callable(validators) else list(validators or [])
        super().__init__(*args, validate=[_one_line, *extra], **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return wording.without_direction_marks(super()._deserialize(value, attr, data, **kwargs))


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


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _valid_timezone(value: str) -> None:
    if value not in known_timezones():
        raise ma.ValidationError("not an IANA timezone name, e.g. Europe/Paris")


def search_words(**kwargs: Any) -> Text:
    """What a mentee types to search: ranked matches, typos forgiven (``workflows.mentors.search``)."""
    return Text(load_default=None, validate=validate.Length(min=1, max=100), **kwargs)


def timezone_name(**kwargs: Any) -> Text:
    """An IANA timezone name that zoneinfo knows, e.g. ``Europe/Paris``."""
    return Text(validate=[validate.Length(max=64), _valid_timezone], **kwargs)


def currency_code(**kwargs: Any) -> Text:
    """An ISO 4217 currency code, any case (kept upper-case)."""
    return Text(validate=validate.Regexp(r"\A[A-Za-z]{3}\Z", error="ISO 4217 code"), **kwargs)


def search_text(description: str) -> Text:
    """A list's search: a part of a name or address, 1 to 200 characters, matched case-insensitively."""
    return Text(load_default=None, validate=validate.Length(min=1, max=200), metadata={"description": description})


# BCP 47, loosely: a 2-3 letter language, then subtags of 1-8 letters or digits (en, pt-BR, zh-Hant-TW).
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
MAX_LOCALE_LENGTH = 35  # users.locale is varchar(35)


def locale_tag(**kwargs: Any) -> Text:
    return Text(validate=[validate.Length(min=2, max=MAX_LOCALE_LENGTH),
                          validate.Regexp(LANGUAGE_TAG, error="not a BCP 47 language tag, e.g. en or pt-BR")],
                **kwargs)


MAX_AVATAR_URL_LENGTH = 500  # mentor_profiles.avatar_url is varchar(500)


def https_url(*, max_length: int, **kwargs: Any) -> fields.Url:
    """An https URL of bounded length that PostgreSQL can store (browsers open it; http would be mixed content)."""
    return fields.Url(schemes={"https"}, require_tld=True, validate=[validate.Length(max=max_length), _no_nul],
                      **kwargs)


def avatar_url(**kwargs: Any) -> fields.Url:
    return https_url(max_length=MAX_AVATAR_URL_LENGTH, **kwargs)


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


class PersonSchema(Schema):
    """Someone taking part, as others see them: never their email."""

    id = fields.UUID(metadata={"description": "A mentor's mentor profile id; a mentee's user id."})
    display_name = fields.String(metadata={"example": "Ada Lovelace"})


class PaginationArgs(Schema):
    limit = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={"description": f"Page size (1-{MAX_PAGE_SIZE})."},
    )
    cursor = Text(
        load_default=None,
        validate=validate.Length(max=500),
        metadata={"description": "Opaque cursor from the previous page's `next_cursor`."},
    )


class StartWindowArgs(PaginationArgs):
    """Pagination, and a start time in [``from``, ``to``)."""

    from_ = Timestamp(load_default=None, data_key="from", metadata={"description": "Starting at or after."})
    to = Timestamp(load_default=None, metadata={"description": "Starting before."})

    @ma.validates_schema
    def _ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("from_") and data.get("to") and data["to"] <= data["from_"]:
            raise ma.ValidationError("`to` must be after `from`", "to")


class PageSchema(Schema):
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last page."}
    )


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """A ``{items, next_cursor}`` schema for ``item_schema``, whose hooks see the whole page at once."""
    return type(name, (PageSchema,), {"items": fields.Nested(item_schema, many=True)})


class ShownSchema(Schema):
    """A resource as a route returns it, the domain's record (``records``), shown as its schema dumps it.

    Routes return what the domain function they call returns; :meth:`show` turns the records into their
    views (names, sessions, what the caller may see) in one batch, a page's too, before each is dumped.
    A view built already (a live frame's) is dumped as it is.
    """

    records: ClassVar[type]

    def show(self, records: list[Any]) -> Sequence[Any]:
        """The records' views, in one batch."""
        raise NotImplementedError

    def flatten(self, view: Any) -> dict[str, Any]:
        """One view as the fields' values."""
        raise NotImplementedError

    @ma.pre_dump(pass_collection=True)
    def _shown(self, data: Any, *, many: bool, **_kwargs: Any) -> Any:
        items = list(data) if many else [data]
        if items and isinstance(items[0], self.records):
            items = list(self.show(items))
        flat = [self.flatten(item) for item in items]
        return flat if many else flat[0]


class MenteeTimeSchema(ShownSchema):
    """What a booking and a series show first: the ids of the listing, the mentor and the mentee, their names, and
    the time (a series': its first time)."""

    id = fields.UUID()
    listing_id = fields.UUID()
    mentor_profile_id = fields.UUID()
    mentee_user_id = fields.UUID()
    mentor = fields.Nested(PersonSchema, metadata={"description": "The mentor: mentor profile id and name."})
    mentee = fields.Nested(PersonSchema, metadata={"description": "The mentee: user id and name."})
    start_time = fields.DateTime()
    end_time = fields.DateTime()
    notes = fields.String()
    bundle_purchase_id = fields.UUID(allow_none=True)


class TimelineEntrySchema(Schema):
    """One event in the history of a booking, session, series or programme."""

    id = fields.UUID(metadata={"description": "The event's id (also the `webhook-id` source of its deliveries)."})
    type = fields.String(metadata={"example": "booking.accepted"})
    actor = fields.String(metadata={"enum": ["mentor", "mentee", "coordinator", "admin", "system"],
                                    "description": "The part the actor took: never their id."})
    at = fields.DateTime(metadata={"description": "When it happened (UTC)."})


TimelinePageSchema = page_of(TimelineEntrySchema, "TimelinePage")


class ProgrammeTimelineEntrySchema(TimelineEntrySchema):
    """One event in a programme's history, as its coordinators read it."""

    summary = fields.String(metadata={
        "description": "The event in a sentence naming its people and pair, e.g. \"Carla Diaz paired Ada Okafor with "
                       "Zoë Müller\" (a match run's progress is folded into its run's lines).",
        "example": "Carla Diaz paired Ada Okafor with Zoë Müller"})


ProgrammeTimelinePageSchema = page_of(ProgrammeTimelineEntrySchema, "ProgrammeTimelinePage")
