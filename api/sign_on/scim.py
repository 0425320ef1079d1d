"""SCIM 2.0 (RFC 7643, RFC 7644) at ``/scim/v2``: an organisation's identity provider provisions and deprovisions
its people (``workflows.sign_on.scim``), with the bearer token an admin issued it (console: **Sign-on**). This module
holds the blueprint, its token check and SCIM's answers, and the discovery documents; the users' routes are in
``api.sign_on.scim_users``, the groups' and the searches' in ``api.sign_on.scim_groups``.

``Users`` and ``Groups`` (create, read, list with one ``eq`` filter and paging, replace, PATCH as Entra ID and Okta
send it, delete), with ``ETag``s (``W/"n"``) and ``If-Match``; ``ServiceProviderConfig``, ``ResourceTypes`` and
``Schemas``. Bodies are ``application/scim+json``, read with scim2-models (imported when a SCIM request comes, never
at start); errors are SCIM's (``urn:ietf:params:scim:api:messages:2.0:Error``), 400 for what the body or filter
gets wrong, 412 for an ``If-Match`` that no longer holds.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.common.schemas import Schema, Text
from api.database import db_session
from api.ratelimit import limit_scim, limit_sign_on_steps
from infra.config import get_settings
from models import IdentityProvider
from workflows.errors import NotFound, Unauthenticated
from workflows.sign_on import scim

blp = Blueprint("scim", __name__, url_prefix="/scim/v2",
                description="SCIM 2.0 provisioning by an organisation's identity provider (its SCIM token).")

MEDIA_TYPE = "application/scim+json"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_TYPES = {"uniqueness", "invalidFilter", "invalidValue", "invalidSyntax", "tooMany", "mutability",
              "invalidPath", "noTarget", "invalidVers", "sensitive"}
SCIM_SECURITY: list[dict[str, list[str]]] = [{"scimBearer": []}]


def body_doc(example: dict[str, Any]) -> dict[str, Any]:
    """A SCIM request body in the OpenAPI document (read by scim2-models, not by a schema of the API's)."""
    return {"requestBody": {"required": True, "content": {MEDIA_TYPE: {
        "schema": {"type": "object", "additionalProperties": True, "properties": {
            "schemas": {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 10}}},
        "example": example}}}}


_ANSWERS = {status: {"description": said, "content": {MEDIA_TYPE: {"schema": {"type": "object"}}}}
            for status, said in ((400, "The body or the filter is refused: a SCIM error with its `scimType`."),
                                 (401, "No SCIM token, or one revoked, or its provider is disabled."),
                                 (404, "No resource of this provider has this id."),
                                 (409, "`uniqueness`: another resource has the userName, externalId or email."),
                                 (412, "`If-Match` names a version that is no longer the resource's."),
                                 (413, "The body is larger than the request size limit."),
                                 (429, "Too many requests of this provider lately."))}


def answers(*statuses: int) -> dict[str, Any]:
    return {"responses": {str(status): _ANSWERS[status] for status in statuses}}


class ListArgs(Schema):
    filter = Text(load_default=None, validate=validate.Length(max=1000), metadata={
        "description": 'One `eq` filter: `userName eq "…"`, `externalId eq "…"` or `emails[value eq "…"]` (users); '
                       '`displayName eq "…"` or `externalId eq "…"` (groups).'})
    startIndex = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000_000))  # noqa: N815
    count = fields.Integer(load_default=100, validate=validate.Range(min=0, max=scim.MAX_PAGE))
    attributes = fields.String(load_default=None, validate=validate.Length(max=1000))
    excludedAttributes = fields.String(load_default=None, validate=validate.Length(max=1000))  # noqa: N815


class ReadArgs(Schema):
    attributes = fields.String(load_default=None, validate=validate.Length(max=1000))
    excludedAttributes = fields.String(load_default=None, validate=validate.Length(max=1000))  # noqa: N815


@blp.before_request
def _provider() -> None:
    """The provider the bearer token is of: every SCIM request is its own, and only its resources are in reach."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    provider = scim.provider_of_token(db_session(), token.strip()) if scheme.lower() == "bearer" and token else None
    if provider is None:
        limit_sign_on_steps()  # a wrong token costs a lookup: counted per client address, as sign-in steps are
        raise Unauthenticated("a valid SCIM token is required")
    limit_scim(str(provider.id))
    g.scim_provider = provider


@blp.after_app_request
def _as_scim(response: Response) -> Response:
    """Every answer under ``/scim/v2`` (an address no route has included) is ``application/scim+json``; an error is
    SCIM's Error (400 where the API says 422; 412 for a version that no longer holds)."""
    prefix = blp.url_prefix or "/scim/v2"
    if request.path != prefix and not request.path.startswith(prefix + "/"):
        return response
    if response.status_code >= 400 and response.is_json:  # noqa: PLR2004
        said = response.get_json(silent=True) or {}
        status = {422: 400}.get(response.status_code, response.status_code)
        status = 412 if said.get("reason") == "precondition_failed" else status
        scim_type = said.get("reason") if said.get("reason") in SCIM_TYPES else None
        if scim_type is None and response.status_code == 422:  # the arguments' schema refused  # noqa: PLR2004
            scim_type = "invalidFilter" if "filter" in json.dumps(said.get("errors") or {}) else "invalidValue"
        if scim_type is None and response.status_code == 409:  # a unique constraint met at the database  # noqa: PLR2004
            scim_type = "uniqueness"
        body = {"schemas": [ERROR_URN], "status": str(status), "detail": said.get("message") or "",
                **({"scimType": scim_type} if scim_type else {})}
        response.set_data(json.dumps(body))
        response.status_code = status
    if response.is_json or response.status_code >= 400:  # noqa: PLR2004
        response.mimetype = MEDIA_TYPE
    return response


def provider_now() -> IdentityProvider:
    provider: IdentityProvider = g.scim_provider
    return provider


def base() -> str:
    return get_settings().public_url + "/scim/v2"


def answer(payload: Any, status: int = 200, version: int | None = None) -> Response:
    response = Response(json.dumps(payload, default=str), status=status, mimetype=MEDIA_TYPE)
    if version is not None:
        response.headers["ETag"] = f'W/"{version}"'
    return response


_ETAG = re.compile(r'\s*(?:W/)?"(\d{1,9})"\s*')


def resource_answer(model: Any, version: int, status: int, args: dict[str, Any] | None, location: str) -> Response:
    """A user or group as served: the attributes asked for, its ETag, and where it lives when just made."""
    from api.sign_on import scim_resources as resources  # noqa: PLC0415
    args = args or {}
    response = answer(resources.dump(model, attributes=split(args.get("attributes")),
                                     excluded=split(args.get("excludedAttributes"))), status, version)
    if status == 201:  # noqa: PLR2004
        response.headers["Location"] = location
    return response


def if_match() -> int | None:
    """The version ``If-Match`` names (``W/"n"``; of a list, the first), or ``None`` (``*``, or none); one that is no
    version of ours names none that holds (-1: a 412)."""
    said = request.headers.get("If-Match", "").strip()
    if not said or said == "*":
        return None
    found = _ETAG.fullmatch(said.split(",")[0])
    return int(found.group(1)) if found else -1


def split(value: str | None) -> list[str] | None:
    return [part.strip() for part in value.split(",") if part.strip()][:50] if value else None


def _storable(value: Any) -> bool:
    """No NUL and no lone surrogate anywhere: PostgreSQL stores neither, in a column or in JSON."""
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(item) for item in value)
    return True


def json_body() -> Any:
    from api.sign_on import scim_resources as resources  # noqa: PLC0415 (scim2-models: loaded by SCIM requests only)
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise resources.refused(ValueError("the body is not a JSON object"))
    if not _storable(body):
        raise resources.refused(ValueError("the body holds a NUL character or a lone surrogate"))
    return body


@blp.route("/ServiceProviderConfig")
class ServiceProviderConfig(MethodView):
    @blp.doc(operationId="scimServiceProviderConfig", security=SCIM_SECURITY, **answers(401, 429))
    @blp.response(200, description="What this service provider supports (RFC 7643 §5).", content_type=MEDIA_TYPE)
    def get(self) -> Any:
        """PATCH, filtering (one `eq`, at most 200 results a page) and ETags are supported; bulk, sorting and
        password changes are not."""
        from api.sign_on import scim_resources as resources  # noqa: PLC0415
        return answer(resources.service_provider_config(base()))


@blp.route("/ResourceTypes")
class ResourceTypes(MethodView):
    @blp.doc(operationId="scimResourceTypes", security=SCIM_SECURITY, **answers(401, 429))
    @blp.response(200, description="`User` (with the enterprise extension) and `Group`.", content_type=MEDIA_TYPE)
    def get(self) -> Any:
        """The resource types served (RFC 7643 §6)."""
        from api.sign_on import scim_resources as resources  # noqa: PLC0415
        found = resources.resource_types(base())
        return answer({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                        "totalResults": len(found), "startIndex": 1, "itemsPerPage": len(found), "Resources": found})


@blp.route("/ResourceTypes/<string(maxlength=100):name>")
class OneResourceType(MethodView):
    @blp.doc(operationId="scimResourceType", security=SCIM_SECURITY, **answers(401, 404, 429))
    @blp.response(200, description="One resource type.", content_type=MEDIA_TYPE)
    def get(self, name: str) -> Any:
        """One resource type, by its id (`User`, `Group`)."""
        from api.sign_on import scim_resources as resources  # noqa: PLC0415
        found = [kind for kind in resources.resource_types(base()) if kind["id"] == name]
        if not found:
            raise NotFound("no resource type has this id", reason="not_found")
        return answer(found[0])


@blp.route("/Schemas")
class Schemas(MethodView):
    @blp.doc(operationId="scimSchemas", security=SCIM_SECURITY, **answers(401, 429))
    @blp.response(200, description="The User, enterprise User and Group schemas.", content_type=MEDIA_TYPE)
    def get(self) -> Any:
        """The schemas served (RFC 7643 §7)."""
        from api.sign_on import scim_resources as resources  # noqa: PLC0415
        found = resources.schemas(base())
        return answer({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                        "totalResults": len(found), "startIndex": 1, "itemsPerPage": len(found), "Resources": found})


@blp.route("/Schemas/<string(maxlength=200):schema_id>")
class OneSchema(MethodView):
    @blp.doc(operationId="scimSchema", security=SCIM_SECURITY, **answers(401, 404, 429))
    @blp.response(200, description="One schema.", content_type=MEDIA_TYPE)
    def get(self, schema_id: str) -> Any:
        """One schema, by its URN."""
        from api.sign_on import scim_resources as resources  # noqa: PLC0415
        found = [schema for schema in resources.schemas(base()) if schema["id"] == schema_id]
        if not found:
            raise NotFound("no schema has this id", reason="not_found")
        return answer(found[0])
