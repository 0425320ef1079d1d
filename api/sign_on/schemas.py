"""Single sign-on's request and answer bodies: the providers offered at sign-in, the proof that links an account,
the current sign-in's provider, and the admins' view of a provider."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.common.schemas import LANGUAGE_TAG, MAX_LOCALE_LENGTH, EmailAddress, OneLine, Schema, Text, known_timezones
from models import ParticipantRole
from models.sign_on import (
    MAX_CLAIM,
    MAX_CLAIM_VALUE,
    MAX_CLIENT_ID,
    MAX_DISPLAY_NAME,
    MAX_DOMAIN,
    MAX_DOMAINS,
    MAX_ENROLMENTS,
    MAX_ISSUER,
    MAX_METADATA_URL,
    MAX_SAML_METADATA,
    SESSION_HOURS,
)

EXAMPLE_PROVIDER_ID = "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a"


class StartArgs(Schema):
    """The browser's preferences, as a password sign-up sends them: an account this sign-in makes takes them. A value
    that is no zone or tag is dropped, never a failed start (the browser is sent here by a link)."""

    timezone = fields.String(load_default=None, metadata={
        "description": "The browser's IANA timezone (the web app sends it), e.g. `Europe/Paris`."})
    locale = fields.String(load_default=None, metadata={"description": "The browser's BCP 47 tag, e.g. `en-GB`."})

    @ma.post_load
    def _known(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        zone, tag = data.get("timezone"), data.get("locale")
        return {"timezone": zone if zone in known_timezones() else None,
                "locale": tag if tag and len(tag) <= MAX_LOCALE_LENGTH and LANGUAGE_TAG.match(tag) else None}


class OfferedArgs(Schema):
    email = EmailAddress(load_default=None, metadata={
        "description": "The address being signed in: only the provider owning its domain is offered. Without it, "
                       "every enabled provider."})


class OfferedProviderSchema(Schema):
    id = fields.UUID()
    display_name = fields.String(metadata={"example": "Example Corp"})
    password_sign_in_off = fields.Boolean(metadata={
        "description": "People of its domains sign in through it only: no password sign-in, reset or registration."})
    start_url = fields.String(metadata={"description": "Open it in the browser to sign in there (a redirect)."})


class OfferedListSchema(Schema):
    items = fields.List(fields.Nested(OfferedProviderSchema))


class LinkSchema(Schema):
    ticket = Text(required=True, load_only=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "From the page the sign-in ended on (`#/sign-on/link?ticket=…`), valid for the rest of the "
                       "ten minutes the sign-in had, once."})
    password = Text(required=True, load_only=True, validate=validate.Length(min=1, max=256),
                    metadata={"example": "correct horse battery staple"})
    refresh_cookie = fields.Boolean(load_default=False, load_only=True, metadata={
        "description": "For the browser app: the refresh token comes as an `HttpOnly` cookie sent only to "
                       "`POST /auth/refresh`, not in the body (`refresh_token` is then null)."})


class CallbackArgs(Schema):
    """What a provider sends back, as it sends it: nothing is refused here (a value too long to be one of ours ends
    on the failure page, not in a 422)."""

    _ANY = validate.Length(max=16 * 1024)
    state = Text(load_default=None, validate=_ANY)
    code = Text(load_default=None, validate=_ANY)
    error = Text(load_default=None, validate=_ANY)
    error_description = Text(load_default=None, validate=_ANY)
    iss = Text(load_default=None, validate=_ANY, metadata={
        "description": "The issuer, as some providers send it (RFC 9207): it must be the provider's."})
    session_state = Text(load_default=None, validate=_ANY)


class MySignOnSchema(Schema):
    provider_id = fields.UUID(allow_none=True, metadata={"description": "Null for a sign-in with a password."})
    display_name = fields.String(allow_none=True)
    reauth_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "When this sign-in stops being refreshed and you sign in at the provider again."})
    end_session_url = fields.String(allow_none=True, metadata={
        "description": "Open it after signing out here to sign out at the provider too; null when it offers none."})


class RuleSchema(Schema):
    programme_id = fields.UUID(required=True)
    role = Text(required=True, validate=validate.OneOf([role.value for role in ParticipantRole]))
    claim = Text(load_default=None, validate=validate.Length(min=1, max=MAX_CLAIM), metadata={
        "description": "An ID token claim, such as `groups`; null: everyone who signs in through the provider.",
        "example": "groups"})
    value = Text(load_default=None, validate=validate.Length(min=1, max=MAX_CLAIM_VALUE), metadata={
        "description": "The claim's value (one of a list claim's values) that enrols.", "example": "mentors-2027"})


_DOMAIN = Text(validate=validate.Length(min=3, max=MAX_DOMAIN))


class _ProviderFields(Schema):
    """What every provider has, OpenID or SAML."""

    display_name = OneLine(required=True, validate=validate.Length(min=1, max=MAX_DISPLAY_NAME),
                           metadata={"example": "Example Corp"})
    domains = fields.List(_DOMAIN, load_default=list, validate=validate.Length(max=MAX_DOMAINS), metadata={
        "description": "The email domains it owns: their addresses are verified by it, and it is offered to them."})
    enrolments = fields.List(fields.Nested(RuleSchema), load_default=list,
                             validate=validate.Length(max=MAX_ENROLMENTS))
    private_network = fields.Boolean(load_default=False, metadata={
        "description": "It lives on a private network: the outbound guard lets it through (logged)."})
    password_sign_in_off = fields.Boolean(load_default=False, metadata={
        "description": "People of its domains sign in through it only (docs/sign-on.md: how a platform admin gets in "
                       "when it is down)."})
    session_hours = fields.Integer(load_default=168, validate=validate.Range(*SESSION_HOURS), metadata={
        "description": "A sign-in through it is refreshed for at most this many hours; then its user signs in at "
                       "the provider again."})


class ProviderInputSchema(_ProviderFields):
    issuer = Text(required=True, validate=validate.Length(min=8, max=MAX_ISSUER),
                  metadata={"example": "https://login.example.com"})
    client_id = Text(required=True, validate=validate.Length(min=1, max=MAX_CLIENT_ID))
    client_secret = Text(required=True, load_only=True, validate=validate.Length(min=1, max=1000), metadata={
        "description": "Sealed under `CREDENTIALS_KEYS`; never shown again."})


class AttributeMapSchema(Schema):
    """Which SAML attribute (its name, or the friendly name of a usual OID such as `mail`) gives each; absent: the
    usual ones (`mail`, `displayName`, `groups`/`memberOf`/`eduPersonAffiliation`, and Microsoft's claim URIs)."""

    email = Text(validate=validate.Length(min=1, max=MAX_CLAIM * 4), metadata={"example": "mail"})
    name = Text(validate=validate.Length(min=1, max=MAX_CLAIM * 4), metadata={"example": "displayName"})
    groups = Text(validate=validate.Length(min=1, max=MAX_CLAIM * 4), metadata={"example": "memberOf"})


class _SamlFields(Schema):
    metadata_url = Text(validate=validate.Length(min=8, max=MAX_METADATA_URL), metadata={
        "description": "Where the IdP publishes its metadata, read now through the outbound guard.",
        "example": "https://idp.example.edu/idp/shibboleth"})
    metadata_xml = Text(validate=validate.Length(min=1, max=MAX_SAML_METADATA), metadata={
        "description": "The IdP's metadata document itself, instead of its URL."})
    attribute_map = fields.Nested(AttributeMapSchema, allow_none=True)
    idp_initiated = fields.Boolean(metadata={
        "description": "Take responses the IdP sends unasked (IdP-initiated sign-in, without the browser check a "
                       "request gives). Off unless turned on."})


class SamlProviderInputSchema(_ProviderFields, _SamlFields):
    """A SAML IdP: its metadata by `metadata_url` or `metadata_xml` (one of them)."""

    attribute_map = fields.Nested(AttributeMapSchema, load_default=None, allow_none=True)
    idp_initiated = fields.Boolean(load_default=False, metadata={
        "description": "Take responses the IdP sends unasked (IdP-initiated sign-in, without the browser check a "
                       "request gives). Off unless turned on."})


class ProviderPatchSchema(ProviderInputSchema, _SamlFields):
    """Only what is given changes: every field is optional, and none takes its default when absent. (Marshmallow
    reads no ``Meta.partial``: loading partially is the instance's own setting.) `issuer`, `client_id` and
    `client_secret` are an OpenID provider's; `metadata_url` (read again), `metadata_xml`, `attribute_map` and
    `idp_initiated` a SAML one's."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{"partial": True, **kwargs})

    client_secret = Text(load_only=True, validate=validate.Length(min=1, max=1000),
                         metadata={"description": "A new secret; the current one stays when absent."})


class RefusalSchema(Schema):
    at = fields.AwareDateTime()
    reason = fields.String(allow_none=True, metadata={
        "description": "The check that refused it: `aud`, `azp`, `iss`, `signature`, `algorithm`, `key`, `nonce`, "
                       "`exp`, `iat`, `sub`, `state`, `expired`, `denied`, `code`, `provider` (unreachable), `email`, "
                       "`account`, `domain`, `disabled`…", "example": "aud"})
    detail = fields.String(allow_none=True, metadata={
        "description": "What it found, in words.",
        "example": "the ID token does not hold: InvalidClaimError: Invalid claim: 'aud'"})


class ScimStatusSchema(Schema):
    endpoint = fields.String(metadata={"description": "The SCIM base URL to give the IdP's provisioning client."})
    token_created_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "When its live SCIM token was issued; null: it has none."})
    token_last_used_at = fields.AwareDateTime(allow_none=True)


class ScimTokenSchema(Schema):
    token = fields.String(metadata={"description": "Shown this once: `Authorization: Bearer <token>` on `/scim/v2`."})
    endpoint = fields.String()


class ProviderSchema(Schema):
    id = fields.UUID()
    protocol = fields.String(metadata={"description": "`oidc` or `saml`.", "example": "oidc"})
    display_name = fields.String()
    issuer = fields.String(metadata={"description": "The OpenID issuer, or the SAML IdP's entity id."})
    client_id = fields.String(metadata={"description": "This service's client id there, or its SAML entity id."})
    domains = fields.List(fields.String())
    enrolments = fields.List(fields.Nested(RuleSchema))
    private_network = fields.Boolean()
    password_sign_in_off = fields.Boolean()
    session_hours = fields.Integer()
    created_at = fields.AwareDateTime()
    disabled_at = fields.AwareDateTime(allow_none=True)
    redirect_uri = fields.String(metadata={"description": "Register it as the client's redirect URI at the provider "
                                                          "(SAML: the assertion consumer service)."})
    metadata_url = fields.String(allow_none=True, metadata={"description": "SAML: where the IdP's metadata was read."})
    sp_metadata_url = fields.String(allow_none=True, metadata={
        "description": "SAML: this service's SP metadata, to register at the IdP (its address is the entity id)."})
    attribute_map = fields.Nested(AttributeMapSchema, allow_none=True)
    idp_initiated = fields.Boolean(metadata={"description": "SAML: responses the IdP sends unasked are taken."})
    scim = fields.Nested(ScimStatusSchema, metadata={"description": "SCIM provisioning by this provider."})
    last_refusal = fields.Nested(RefusalSchema, allow_none=True, metadata={
        "description": "The newest sign-in it refused (or refused after it), null if none is in the audit log."})


class ProviderListSchema(Schema):
    items = fields.List(fields.Nested(ProviderSchema))


class DisabledProviderSchema(ProviderSchema):
    sign_ins_ended = fields.Integer(metadata={"description": "Sign-ins through it that ended now."})


EXAMPLE_PROVIDER = {
    "id": EXAMPLE_PROVIDER_ID, "display_name": "Example Corp", "issuer": "https://login.example.com",
    "client_id": "mentorship", "domains": ["example.com"],
    "enrolments": [{"programme_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "role": "mentee", "claim": "groups",
                    "value": "mentees-2027"}],
    "private_network": False, "password_sign_in_off": False, "session_hours": 168,
    "created_at": "2030-03-01T12:00:00+00:00", "disabled_at": None, "last_refusal": None,
    "redirect_uri": "https://mentoring.example.com/api/v1/auth/sign-on/callback", "protocol": "oidc",
    "metadata_url": None, "sp_metadata_url": None, "attribute_map": None, "idp_initiated": False,
    "scim": {"endpoint": "https://mentoring.example.com/scim/v2", "token_created_at": None, "token_last_used_at": None}}
