from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import EmailAddress, Text, locale_tag, timezone_name


class RegisterSchema(ma.Schema):
    email = EmailAddress(required=True, metadata={"example": "ada@example.com"})
    password = Text(
        required=True,
        load_only=True,
        validate=validate.Length(min=8, max=256),
        metadata={"example": "correct horse battery staple"},
    )
    display_name = Text(required=True, validate=validate.Length(min=1, max=100), metadata={"example": "Ada"})


class UserSchema(ma.Schema):
    id = fields.UUID(dump_only=True)
    email = fields.Email(dump_only=True)
    display_name = fields.String(dump_only=True)
    is_admin = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class TokenRequestSchema(ma.Schema):
    email = EmailAddress(required=True, metadata={"example": "ada@example.com"})
    password = Text(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=256),
        metadata={"example": "correct horse battery staple"},
    )


class PasswordChangeSchema(ma.Schema):
    current_password = Text(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=256),
        metadata={"example": "correct horse battery staple"},
    )
    new_password = Text(
        required=True,
        load_only=True,
        validate=validate.Length(min=8, max=256),
        metadata={"example": "a longer passphrase nobody has seen"},
    )


class TokenSchema(ma.Schema):
    access_token = fields.String(metadata={"description": "Send as `Authorization: Bearer <token>`."})
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_in = fields.Integer(metadata={"description": "Seconds until the token expires.", "example": 3600})
    refresh_token = fields.String(metadata={
        "description": "Opaque and single-use: send it to `POST /auth/refresh` for the next pair. Valid for "
                       "`REFRESH_TOKEN_TTL_DAYS`; presenting one already used revokes every token of the sign-in."})


class RefreshSchema(ma.Schema):
    refresh_token = Text(required=True, load_only=True, validate=validate.Length(min=1, max=200),
                         metadata={"example": "q3V0c2lkZS1vZi10aGUtYm94LXJlZnJlc2gtdG9rZW4"})


class MeSchema(UserSchema):
    mentor_profile_id = fields.UUID(allow_none=True, dump_only=True)
    timezone = fields.String(allow_none=True, dump_only=True, metadata={"example": "Europe/Paris"})
    locale = fields.String(allow_none=True, dump_only=True, metadata={"example": "en-GB"})


class MePatchSchema(ma.Schema):
    display_name = Text(validate=validate.Length(min=1, max=100), metadata={"example": "Ada Lovelace"})
    timezone = timezone_name(allow_none=True, metadata={"description": "IANA name; null clears it.",
                                                        "example": "Europe/London"})
    locale = locale_tag(allow_none=True, metadata={"description": "BCP 47 tag; null clears it.", "example": "en-GB"})

    @ma.validates_schema
    def _not_empty(self, data: dict[str, object], **_kwargs: object) -> None:
        if not data:
            raise ma.ValidationError("give at least one field to change")

    @ma.validates("display_name")
    def _not_blank(self, value: str, **_kwargs: object) -> None:
        if not value.strip():
            raise ma.ValidationError("must not be blank")


class AccountDeletionSchema(ma.Schema):
    current_password = Text(required=True, load_only=True, validate=validate.Length(min=1, max=256),
                            metadata={"example": "my current password"})


class CalendarTokenSchema(ma.Schema):
    url = fields.String(metadata={
        "description": "Your private calendar feed (iCalendar). Shown once: anyone with it can read your sessions.",
        "example": "https://mentorship.example.com/api/v1/calendar/Jx3k9q…ZT.ics"})


class SignInSchema(ma.Schema):
    id = fields.UUID(dump_only=True, metadata={"description": "End it with `DELETE /me/sign-ins/{id}`."})
    created_at = fields.DateTime(dump_only=True, metadata={"description": "When you signed in."})
    last_used_at = fields.DateTime(dump_only=True, metadata={
        "description": "When it signed in or last renewed its access token (`POST /auth/refresh`)."})
    expires_at = fields.DateTime(dump_only=True, metadata={
        "description": "When it ends unless renewed before: its refresh token's expiry."})
    user_agent = fields.String(allow_none=True, dump_only=True, metadata={
        "description": "The client's `User-Agent` when it last signed in or renewed (at most 255 characters); "
                       "null if it sent none."})
    ip_address = fields.String(allow_none=True, dump_only=True, metadata={
        "description": "The client's address then, as the API saw it (see `TRUSTED_PROXIES`); null if unknown."})
    current = fields.Boolean(dump_only=True, metadata={"description": "The sign-in of this request's token."})


class SignInListSchema(ma.Schema):
    items = fields.List(fields.Nested(SignInSchema), dump_only=True)
