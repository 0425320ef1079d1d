from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import EmailAddress, OneLine, Schema, Text, locale_tag, timezone_name
from models import FeedRevocation
from workflows.accounts.users import MIN_PASSWORD_LENGTH

NEW_PASSWORD_LENGTH = validate.Length(min=MIN_PASSWORD_LENGTH, max=256,
                                      error="a password has at least {min} characters (and at most {max})")


class RegisterSchema(Schema):
    email = EmailAddress(required=True, metadata={"example": "ada@example.com"})
    password = Text(
        required=True,
        load_only=True,
        validate=NEW_PASSWORD_LENGTH,
        metadata={"example": "a longer passphrase nobody has seen",
                  "description": "At least 12 characters, and not easy to guess (no common password)."},
    )
    display_name = OneLine(required=True, validate=validate.Length(min=1, max=100), metadata={"example": "Ada"})
    timezone = timezone_name(load_default=None, metadata={
        "description": "The person's IANA timezone (the web app sends the browser's): every time they are told, by "
                       "email or notification, is written in it. Editable later (`PATCH /me`).",
        "example": "America/New_York"})
    locale = locale_tag(load_default=None, metadata={"description": "BCP 47 tag for dates and numbers in what they "
                                                                    "are told; editable later.", "example": "en-US"})


class UserSchema(Schema):
    id = fields.UUID(dump_only=True)
    email = fields.Email(dump_only=True)
    display_name = fields.String(dump_only=True)
    is_admin = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class TokenRequestSchema(Schema):
    email = EmailAddress(required=True, metadata={"example": "ada@example.com"})
    password = Text(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=256),
        metadata={"example": "correct horse battery staple"},
    )
    refresh_cookie = fields.Boolean(load_default=False, load_only=True, metadata={
        "description": "For the browser app: the refresh token comes as an `HttpOnly` cookie sent only to "
                       "`POST /auth/refresh`, not in the body (`refresh_token` is then null)."})


class PasswordChangeSchema(Schema):
    current_password = Text(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=256),
        metadata={"example": "correct horse battery staple"},
    )
    new_password = Text(
        required=True,
        load_only=True,
        validate=NEW_PASSWORD_LENGTH,
        metadata={"example": "a longer passphrase nobody has seen",
                  "description": "At least 12 characters, and not easy to guess (no common password)."},
    )
    refresh_cookie = fields.Boolean(load_default=False, load_only=True, metadata={
        "description": "For the browser app: the refresh token comes as an `HttpOnly` cookie sent only to "
                       "`POST /auth/refresh`, not in the body (`refresh_token` is then null)."})


class TokenSchema(Schema):
    access_token = fields.String(metadata={"description": "Send as `Authorization: Bearer <token>`."})
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_in = fields.Integer(metadata={"description": "Seconds until the token expires.", "example": 3600})
    refresh_token = fields.String(allow_none=True, metadata={
        "description": "Opaque and single-use: send it to `POST /auth/refresh` for the next pair. Valid for "
                       "`REFRESH_TOKEN_TTL_DAYS`; presenting one already used revokes every token of the sign-in. "
                       "Null when it was set as the refresh cookie instead (`refresh_cookie`)."})


class RefreshSchema(Schema):
    refresh_token = Text(load_default=None, load_only=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "Omitted: the refresh cookie's (the browser app's; only from this service's own pages, "
                       "else 403), and the next one is set as the cookie.",
        "example": "q3V0c2lkZS1vZi10aGUtYm94LXJlZnJlc2gtdG9rZW4"})


class MeSchema(UserSchema):
    mentor_profile_id = fields.UUID(allow_none=True, dump_only=True)
    email_verified = fields.Boolean(dump_only=True, metadata={
        "description": "Whether you confirmed `email` through the link sent to it. Until then it receives no "
                       "mail but that link and password reset links (in-app notifications still arrive)."})
    pending_email = fields.String(allow_none=True, dump_only=True, metadata={
        "description": "A new address you asked for and have not confirmed yet: `email` stays until you do."})
    timezone = fields.String(allow_none=True, dump_only=True, metadata={"example": "Europe/Paris"})
    locale = fields.String(allow_none=True, dump_only=True, metadata={"example": "en-GB"})
    has_password = fields.Boolean(dump_only=True, metadata={
        "description": "False for an account made by signing in through an organisation: it has no password (a "
                       "reset link sets one, unless the organisation turned passwords off)."})


class MePatchSchema(Schema):
    display_name = OneLine(validate=validate.Length(min=1, max=100), metadata={"example": "Ada Lovelace"})
    email = EmailAddress(metadata={
        "description": "A new email: a link goes to it, and it replaces the current one once opened (the current "
                       "one is told). Needs `current_password`.", "example": "ada@newmail.example"})
    current_password = Text(load_only=True, validate=validate.Length(min=1, max=256), metadata={
        "description": "Needed to change `email`.", "example": "correct horse battery staple"})
    timezone = timezone_name(allow_none=True, metadata={"description": "IANA name; null clears it.",
                                                        "example": "Europe/London"})
    locale = locale_tag(allow_none=True, metadata={"description": "BCP 47 tag; null clears it.", "example": "en-GB"})

    @ma.validates_schema
    def _not_empty(self, data: dict[str, object], **_kwargs: object) -> None:
        if not data:
            raise ma.ValidationError("give at least one field to change")

    @ma.validates_schema
    def _password_with_email(self, data: dict[str, object], **_kwargs: object) -> None:
        if "email" in data and "current_password" not in data:
            raise ma.ValidationError("changing the email needs current_password", "current_password")
        if "current_password" in data and "email" not in data:
            raise ma.ValidationError("current_password goes with a new email only", "current_password")

    @ma.validates("display_name")
    def _not_blank(self, value: str, **_kwargs: object) -> None:
        if not value.strip():
            raise ma.ValidationError("must not be blank")


class AccountDeletionSchema(Schema):
    current_password = Text(load_default=None, load_only=True, validate=validate.Length(min=1, max=256),
                            metadata={"example": "my current password", "description":
                                      "Required, unless the account has no password (it signs in through its "
                                      "organisation): then a sign-in there in the last 15 minutes proves it."})


class CalendarTokenSchema(Schema):
    url = fields.String(metadata={
        "description": "Your private calendar feed (iCalendar). Shown once: anyone with it can read your sessions.",
        "example": "https://mentorship.example.com/api/v1/calendar/Jx3k9q…ZT.ics"})


class CalendarFeedStatusSchema(Schema):
    active = fields.Boolean(metadata={"description": "Whether your feed URL works now."})
    created_at = fields.DateTime(allow_none=True, metadata={"description": "When the current (or last) URL was made."})
    revoked_at = fields.DateTime(allow_none=True, metadata={"description": "When it stopped working, if it did."})
    revoked_reason = fields.Enum(FeedRevocation, by_value=True, allow_none=True, metadata={
        "description": "Why it stopped: you revoked it, your password was changed or reset, the account was "
                       "deleted, or (for a URL made while the account's address was unconfirmed) the address's owner "
                       "took it back through their organisation's sign-on (`address_claimed`) or you signed out "
                       "everywhere (`signed_out`). Make a new URL with `POST /me/calendar-token`."})


class AccountLinkSchema(Schema):
    token = Text(required=True, load_only=True, validate=validate.Length(min=1, max=100), metadata={
        "description": "The `token` of the link you received by email.", "example": "Xq3k9vN2…"})


class EmailVerifiedSchema(Schema):
    email = fields.Email(dump_only=True)
    email_verified = fields.Boolean(dump_only=True)


class PasswordResetRequestSchema(Schema):
    email = EmailAddress(required=True, metadata={"example": "ada@example.com"})


class PasswordResetSchema(AccountLinkSchema):
    new_password = Text(required=True, load_only=True, validate=NEW_PASSWORD_LENGTH,
                        metadata={"example": "a longer passphrase nobody has seen",
                                  "description": "At least 12 characters, and not easy to guess."})


class ResetLinkSchema(Schema):
    expires_at = fields.DateTime(dump_only=True, metadata={"description": "Until when the link sets a password."})


class AcceptedSchema(Schema):
    message = fields.String(dump_only=True)


class SignInSchema(Schema):
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


class SignInListSchema(Schema):
    items = fields.List(fields.Nested(SignInSchema), dump_only=True)
