"""Administrators: the organisations' identity providers (OpenID Connect and SAML 2.0) people sign in with
(``workflows.sign_on.providers``, ``workflows.sign_on.saml_providers``). Every change is in the admin trail, and
adding, changing, disabling or enabling one in the audit log of sign-ins."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.accounts import audit
from api.common.docs import documents_errors
from api.database import db_session
from api.operations.routes import blp
from api.operations.schemas import AdminReasonSchema
from api.security import current_actor
from api.sign_on.schemas import (
    EXAMPLE_PROVIDER,
    DisabledProviderSchema,
    ProviderInputSchema,
    ProviderListSchema,
    ProviderPatchSchema,
    ProviderSchema,
    SamlProviderInputSchema,
    ScimTokenSchema,
)
from infra.config import get_settings
from models import AuthEvent, AuthEventKind, IdentityProvider, ParticipantRole, Protocol
from workflows.accounts import audit as auth_events
from workflows.sign_on import flow, saml_providers, scim
from workflows.sign_on import providers as sign_on
from workflows.sign_on.providers import Rule

EXAMPLE_INPUT = {key: EXAMPLE_PROVIDER[key] for key in ("display_name", "issuer", "client_id", "domains",
                                                       "enrolments", "private_network", "password_sign_in_off",
                                                       "session_hours")} | {"client_secret": "s3cr3t-from-the-provider"}


def _view(provider: IdentityProvider, refusals: dict[uuid.UUID, AuthEvent] | None = None) -> dict[str, Any]:
    db = db_session()
    fields = ("id", "display_name", "issuer", "client_id", "private_network", "password_sign_in_off", "session_hours",
              "created_at", "disabled_at")
    refused = (refusals if refusals is not None else auth_events.last_refusals(db, [provider.id])).get(provider.id)
    settings, is_saml = get_settings(), provider.protocol is Protocol.SAML
    return {**{name: getattr(provider, name) for name in fields}, "domains": sign_on.domains_of(db, provider.id),
            "enrolments": [{"programme_id": r.programme_id, "role": r.role.value, "claim": r.claim, "value": r.value}
                           for r in sign_on.rules_of(db, provider.id)],
            "protocol": provider.protocol.value, "metadata_url": provider.metadata_url,
            "attribute_map": provider.attribute_map, "idp_initiated": provider.idp_initiated,
            "sp_metadata_url": saml_providers.sp_entity_id(settings, provider.id) if is_saml else None,
            "scim": _scim_view(db, provider),
            "redirect_uri": saml_providers.acs_url(settings, provider.id) if is_saml else flow.redirect_uri(settings),
            "last_refusal": refused and {"at": refused.created_at, "reason": refused.reason, "detail": refused.detail}}


def _scim_view(db: Any, provider: IdentityProvider) -> dict[str, Any]:
    token = scim.live_token(db, provider.id)
    return {"endpoint": f"{get_settings().public_url}/scim/v2", "token_created_at": token and token.created_at,
            "token_last_used_at": token and token.last_used_at}


def _rules(data: dict[str, Any]) -> dict[str, Any]:
    if "enrolments" in data:
        data["enrolments"] = [Rule(rule["programme_id"], ParticipantRole(rule["role"]), rule["claim"], rule["value"])
                              for rule in data["enrolments"]]
    return data


@blp.route("/identity-providers")
class Providers(MethodView):
    @blp.doc(operationId="adminListIdentityProviders")
    @blp.response(200, ProviderListSchema, example={"items": [EXAMPLE_PROVIDER]})
    @documents_errors(blp, 401, 403)
    def get(self) -> Any:
        """Every organisation's provider, enabled or not, with the redirect URI to register at each."""
        listed = sign_on.list_providers(db_session(), current_actor())
        refusals = auth_events.last_refusals(db_session(), [p.id for p in listed])
        return {"items": [_view(p, refusals) for p in listed]}

    @blp.doc(operationId="adminAddIdentityProvider")
    @blp.arguments(ProviderInputSchema, example=EXAMPLE_INPUT)
    @blp.response(201, ProviderSchema, example=EXAMPLE_PROVIDER)
    @documents_errors(blp, 401, 403, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a provider: its discovery document is read now, through the outbound guard (422 saying why when it
        cannot be; an issuer on a private network needs `private_network`, which is logged). The client secret is
        sealed and never shown. 409 when another provider has the issuer or owns one of the domains."""
        provider = sign_on.add_provider(db_session(), current_actor(), get_settings(), **_rules(data))
        audit.record(AuthEventKind.PROVIDER_ADDED, current_actor().user_id)
        return _view(provider)


@blp.route("/identity-providers/saml")
class SamlProviders(MethodView):
    @blp.doc(operationId="adminAddSamlIdentityProvider")
    @blp.arguments(SamlProviderInputSchema, example={
        "display_name": "Example University", "metadata_url": "https://idp.example.edu/idp/shibboleth",
        "domains": ["example.edu"], "enrolments": [], "private_network": False, "password_sign_in_off": False,
        "session_hours": 168, "attribute_map": {"groups": "eduPersonAffiliation"}, "idp_initiated": False})
    @blp.response(201, ProviderSchema, example={
        **EXAMPLE_PROVIDER, "protocol": "saml", "issuer": "https://idp.example.edu/idp/shibboleth",
        "client_id": f"https://mentoring.example.com/api/v1/auth/sign-on/saml/{EXAMPLE_PROVIDER['id']}/metadata",
        "metadata_url": "https://idp.example.edu/idp/shibboleth",
        "sp_metadata_url": f"https://mentoring.example.com/api/v1/auth/sign-on/saml/{EXAMPLE_PROVIDER['id']}/metadata",
        "redirect_uri": f"https://mentoring.example.com/api/v1/auth/sign-on/saml/{EXAMPLE_PROVIDER['id']}/acs"})
    @documents_errors(blp, 401, 403, 409, 413, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a SAML 2.0 identity provider from its metadata: `metadata_url` (read now through the outbound guard;
        an IdP on a private network needs `private_network`, which is logged) or `metadata_xml`. The IdP's entity id
        becomes its issuer; the service makes the SP's key pair, whose metadata (`sp_metadata_url`) the IdP's admin
        registers. 422 saying why for metadata that cannot be used, or when this server lacks `xmlsec1`; 409 when
        another provider has the entity id or owns one of the domains."""
        provider = saml_providers.add_provider(db_session(), current_actor(), get_settings(), **_rules(data))
        audit.record(AuthEventKind.PROVIDER_ADDED, current_actor().user_id)
        return _view(provider)


@blp.route("/identity-providers/<uuid:provider_id>")
class OneProvider(MethodView):
    @blp.doc(operationId="adminGetIdentityProvider")
    @blp.response(200, ProviderSchema, example=EXAMPLE_PROVIDER)
    @documents_errors(blp, 401, 403, 404)
    def get(self, provider_id: uuid.UUID) -> Any:
        """One provider."""
        return _view(sign_on.get_provider(db_session(), provider_id))

    @blp.doc(operationId="adminUpdateIdentityProvider")
    @blp.arguments(ProviderPatchSchema, example={"domains": ["example.com", "example.org"],
                                                 "password_sign_in_off": True})
    @blp.response(200, ProviderSchema, example=EXAMPLE_PROVIDER)
    @documents_errors(blp, 401, 403, 404, 409, 413, 422)
    def patch(self, data: dict[str, Any], provider_id: uuid.UUID) -> Any:
        """Change what is given: a new issuer (or `private_network`) reads discovery again; `domains` and
        `enrolments` replace the lists; `client_secret` replaces the secret. A SAML provider: `metadata_url` reads
        the IdP's metadata again (`metadata_xml` replaces it), whose entity id may change only while no one is
        linked. 422 for a field of the other protocol."""
        provider = saml_providers.update_provider(db_session(), current_actor(), get_settings(), provider_id,
                                                  _rules(data))
        audit.record(AuthEventKind.PROVIDER_CHANGED, current_actor().user_id)
        return _view(provider)


@blp.route("/identity-providers/<uuid:provider_id>/disable")
class DisableProvider(MethodView):
    @blp.doc(operationId="adminDisableIdentityProvider")
    @blp.arguments(AdminReasonSchema, example={"reason": "the organisation left the platform"})
    @blp.response(200, DisabledProviderSchema, example={**EXAMPLE_PROVIDER, "disabled_at": "2030-03-02T09:00:00+00:00",
                                                        "sign_ins_ended": 42})
    @documents_errors(blp, 401, 403, 404, 409, 422)
    def post(self, data: dict[str, Any], provider_id: uuid.UUID) -> Any:
        """Disable a provider: no one signs in through it, every sign-in made through it ends now (its access
        tokens at once, its live streams within seconds), and its domains' password rule is turned off. 409 when it
        is disabled already."""
        provider, ended = sign_on.disable_provider(db_session(), current_actor(), provider_id, reason=data["reason"])
        audit.record(AuthEventKind.PROVIDER_DISABLED, current_actor().user_id)
        return {**_view(provider), "sign_ins_ended": ended}


@blp.route("/identity-providers/<uuid:provider_id>/enable")
class EnableProvider(MethodView):
    @blp.doc(operationId="adminEnableIdentityProvider")
    @blp.arguments(AdminReasonSchema, example={"reason": "the organisation is back"})
    @blp.response(200, ProviderSchema, example=EXAMPLE_PROVIDER)
    @documents_errors(blp, 401, 403, 404, 409, 422)
    def post(self, data: dict[str, Any], provider_id: uuid.UUID) -> Any:
        """Enable a provider again. 409 when it is enabled."""
        provider = sign_on.enable_provider(db_session(), current_actor(), provider_id, reason=data["reason"])
        audit.record(AuthEventKind.PROVIDER_ENABLED, current_actor().user_id)
        return _view(provider)


@blp.route("/identity-providers/<uuid:provider_id>/scim-token")
class ScimTokenRoute(MethodView):
    @blp.doc(operationId="adminIssueScimToken")
    @blp.response(201, ScimTokenSchema, example={
        "token": "scim_Xq3k9vN2wT8rL0aB5cD7eF1gH3iJ5kL7mN9oP1qR3sT", "endpoint": "https://mentoring.example.com/scim/v2"})
    @documents_errors(blp, 401, 403, 404)
    def post(self, provider_id: uuid.UUID) -> Any:
        """A new SCIM bearer token for the provider (its IdP's provisioning client sends it), shown this once and
        kept only as a hash; the token it had stops working now. Recorded in the admin trail."""
        token = scim.issue_token(db_session(), current_actor(), provider_id)
        return {"token": token, "endpoint": f"{get_settings().public_url}/scim/v2"}

    @blp.doc(operationId="adminRevokeScimToken")
    @blp.response(204)
    @documents_errors(blp, 401, 403, 404)
    def delete(self, provider_id: uuid.UUID) -> Any:
        """The provider's SCIM token stops working (404 when it has none). Its provisioned people stay as they are."""
        scim.revoke_token(db_session(), current_actor(), provider_id)
