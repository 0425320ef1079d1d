from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import EmailAddress, Text


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


class MeSchema(UserSchema):
    mentor_profile_id = fields.UUID(allow_none=True, dump_only=True)
