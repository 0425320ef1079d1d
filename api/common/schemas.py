"""Fields and schemas shared by every resource."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate


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
