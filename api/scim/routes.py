"""SCIM 2.0 (RFC 7643, RFC 7644) at ``/scim/v2``: an organisation's identity provider provisions and deprovisions
its people (``workflows.sign_on.scim``), with the bearer token an admin issued it (console: **Sign-on**).

``Users`` and ``Groups`` (create, read, list with one ``eq`` filter and paging, replace, PATCH as Entra ID and Okta
send it, delete), with ``ETag``s (``W/"n"``) and ``If-Match``; ``ServiceProviderConfig``, ``ResourceTypes`` and
``Schemas``. Bodies are ``application/scim+json``, read with scim2-models (imported when a SCIM request comes, never
at start); errors are SCIM's (``urn:ietf:params:scim:api:messages:2.0:Error``), 400 for what the body or filter
gets wrong, 412 for an ``If-Match`` that no longer holds.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Response, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.common.schemas import Schema
from api.database import db_session
from api.ratelimit import limit_scim
from infra.config import get_settings
from models import IdentityProvider
from workflows.errors import NotFound, Unauthenticated
from workflows.sign_on import scim, scim_groups

blp = Blueprint("scim", __name__, url_prefix="/scim/v2",
                description="SCIM 2.0 provisioning by an organisation's identity provider (its SCIM token).")

MEDIA_TYPE = "application/scim+json"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_TYPES = {"uniqueness", "invalidFilter", "invalidValue", "invalidSyntax", "tooMany", "mutability",
              "invalidPath", "noTarget", "invalidVers", "sensitive"}
SCIM_SECURITY: list[dict[str, list[str]]] = [{"scimBearer": []}]
_USER_BODY = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@example.edu",
              "externalId": "00u1a2b3c4", "active": True, "name": {"givenName": "Ada", "familyName": "Lovelace"},
              "emails": [{"value": "ada@example.edu", "type": "work", "primary": True}],
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Mathematics"}}
_GROUP_BODY = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "mentees-2027",
               "members": [{"value": "0b6f2f9e-2c1e-4a4f-9a77-1f3c2e0d5b6a"}]}
_PATCH_BODY = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "replace", "path": "active", "value": False}]}


def _body_doc(example: dict[str, Any]) -> dict[str, Any]:
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


def _answers(*statuses: int) -> dict[str, Any]:
    return {"responses": {str(status): _ANSWERS[status] for status in statuses}}


class ListArgs(Schema):
    filter = fields.String(load_default=None, validate=validate.Length(max=1000), metadata={
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
        raise Unauthenticated("a valid SCIM token is required")
    limit_scim(str(provider.id))
    g.scim_provider = provider


@blp.after_app_request
def _as_scim(response: Response) -> Response:
    """Every answer under ``/scim/v2`` (an address no route has included) is ``application/scim+json``; an error is
    SCIM's Error (400 where the API says 422; 412 for a version that no longer holds)."""
    if not request.path.startswith(blp.url_prefix or "/scim/v2"):
        return response
    if response.status_code >= 400 and response.is_json:  # noqa: PLR2004
        said = response.get_json(silent=True) or {}
        status = {422: 400}.get(response.status_code, response.status_code)
        status = 412 if said.get("reason") == "precondition_failed" else status
        scim_type = said.get("reason") if said.get("reason") in SCIM_TYPES else None
        body = {"schemas": [ERROR_URN], "status": str(status), "detail": said.get("message") or "",
                **({"scimType": scim_type} if scim_type else {})}
        response.set_data(json.dumps(body))
        response.status_code = status
    if response.is_json or response.status_code >= 400:  # noqa: PLR2004
        response.mimetype = MEDIA_TYPE
    return response


def _provider_now() -> IdentityProvider:
    provider: IdentityProvider = g.scim_provider
    return provider


def _base() -> str:
    return get_settings().public_url + "/scim/v2"


def _answer(payload: Any, status: int = 200, version: int | None = None) -> Response:
    response = Response(json.dumps(payload, default=str), status=status, mimetype=MEDIA_TYPE)
    if version is not None:
        response.headers["ETag"] = f'W/"{version}"'
    return response


def _if_match() -> int | None:
    """The version ``If-Match`` names (``W/"n"``), or ``None`` (``*``, or none)."""
    said = request.headers.get("If-Match", "").strip()
    if not said or said == "*":
        return None
    digits = said.removeprefix("W/").strip('"')
    return int(digits) if digits.isdigit() else -1


def _split(value: str | None) -> list[str] | None:
    return [part.strip() for part in value.split(",") if part.strip()][:50] if value else None


def _json_body() -> Any:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        from api.scim import resources  # noqa: PLC0415 (scim2-models: loaded by SCIM requests only)
        raise resources.refused(ValueError("the body is not a JSON object"))
    return body


# --- discovery --------------------------------------------------------------------------------------------------------


@blp.route("/ServiceProviderConfig")
class ServiceProviderConfig(MethodView):
    @blp.doc(operationId="scimServiceProviderConfig", security=SCIM_SECURITY, **_answers(401, 429))
    @blp.response(200, description="What this service provider supports (RFC 7643 §5).", content_type=MEDIA_TYPE)
    def get(self) -> Any:
        """PATCH, filtering (one `eq`, at most 200 results a page) and ETags are supported; bulk, sorting and
        password changes are not."""
        from api.scim import resources  # noqa: PLC0415
        return _answer(resources.service_provider_config(_base()))


@blp.route("/ResourceTypes")
class ResourceTypes(MethodView):
    @blp.doc(operationId="scimResourceTypes", security=SCIM_SECURITY, **_answers(401, 429))
    @blp.response(200, description="`User` (with the enterprise extension) and `Group`.", content_type=MEDIA_TYPE)
    def get(self) -> Any:
        """The resource types served (RFC 7643 §6)."""
        from api.scim import resources  # noqa: PLC0415
        found = resources.resource_types(_base())
        return _answer({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                        "totalResults": len(found), "startIndex": 1, "itemsPerPage": len(found), "Resources": found})


@blp.route("/ResourceTypes/<string(maxlength=100):name>")
class OneResourceType(MethodView):
    @blp.doc(operationId="scimResourceType", security=SCIM_SECURITY, **_answers(401, 404, 429))
    @blp.response(200, description="One resource type.", content_type=MEDIA_TYPE)
    def get(self, name: str) -> Any:
        """One resource type, by its id (`User`, `Group`)."""
        from api.scim import resources  # noqa: PLC0415
        found = [kind for kind in resources.resource_types(_base()) if kind["id"] == name]
        if not found:
            raise NotFound("no resource type has this id", reason="not_found")
        return _answer(found[0])


@blp.route("/Schemas")
class Schemas(MethodView):
    @blp.doc(operationId="scimSchemas", security=SCIM_SECURITY, **_answers(401, 429))
    @blp.response(200, description="The User, enterprise User and Group schemas.", content_type=MEDIA_TYPE)
    def get(self) -> Any:
        """The schemas served (RFC 7643 §7)."""
        from api.scim import resources  # noqa: PLC0415
        found = resources.schemas(_base())
        return _answer({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                        "totalResults": len(found), "startIndex": 1, "itemsPerPage": len(found), "Resources": found})


@blp.route("/Schemas/<string(maxlength=200):schema_id>")
class OneSchema(MethodView):
    @blp.doc(operationId="scimSchema", security=SCIM_SECURITY, **_answers(401, 404, 429))
    @blp.response(200, description="One schema.", content_type=MEDIA_TYPE)
    def get(self, schema_id: str) -> Any:
        """One schema, by its URN."""
        from api.scim import resources  # noqa: PLC0415
        found = [schema for schema in resources.schemas(_base()) if schema["id"] == schema_id]
        if not found:
            raise NotFound("no schema has this id", reason="not_found")
        return _answer(found[0])


# --- users ------------------------------------------------------------------------------------------------------------


def _user_answer(row: Any, status: int = 200, args: dict[str, Any] | None = None) -> Response:
    from api.scim import resources  # noqa: PLC0415
    account = scim.accounts_of(db_session(), [row]).get(row.user_id)
    model = resources.user_model(row, account, _base())
    args = args or {}
    payload = resources.dump(model, attributes=_split(args.get("attributes")),
                             excluded=_split(args.get("excludedAttributes")))
    response = _answer(payload, status, row.version)
    if status == 201:  # noqa: PLR2004
        response.headers["Location"] = f"{_base()}/Users/{row.id}"
    return response


def _list_users(args: dict[str, Any]) -> Response:
    from api.scim import resources  # noqa: PLC0415
    attribute, value = resources.parse_filter(args["filter"], ("userName", "externalId", "emails", "id"))
    db = db_session()
    total, rows = scim.find_users(db, _provider_now(), attribute=attribute, value=value, start=args["startIndex"],
                                  count=args["count"])
    accounts = scim.accounts_of(db, rows)
    models = [resources.user_model(row, accounts.get(row.user_id), _base()) for row in rows]
    return _answer(resources.listing(models, total, args["startIndex"], attributes=_split(args["attributes"]),
                                     excluded=_split(args["excludedAttributes"])))


def _list_groups(args: dict[str, Any]) -> Response:
    from api.scim import resources  # noqa: PLC0415
    attribute, value = resources.parse_filter(args["filter"], ("displayName", "externalId", "id"))
    db = db_session()
    total, rows = scim_groups.find_groups(db, _provider_now(), attribute=attribute, value=value,
                                          start=args["startIndex"], count=args["count"])
    models = [resources.group_model(row, scim_groups.members_of(db, row.id), _base()) for row in rows]
    return _answer(resources.listing(models, total, args["startIndex"], attributes=_split(args["attributes"]),
                                     excluded=_split(args["excludedAttributes"])))


def _searched() -> dict[str, Any]:
    """A search's body (RFC 7644 §3.4.3), as a list request's arguments."""
    from api.scim import resources  # noqa: PLC0415
    return resources.search_args(_json_body(), scim.MAX_PAGE)


_SEARCH_BODY = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": 'userName eq "ada@example.edu"', "startIndex": 1, "count": 10}


@blp.route("/.search")
class SearchAll(MethodView):
    @blp.doc(operationId="scimSearch", security=SCIM_SECURITY, **_body_doc(_SEARCH_BODY),
             **_answers(400, 401, 413, 429))
    @blp.response(200, description="A SCIM ListResponse of this provider's users, then its groups.",
                  content_type=MEDIA_TYPE)
    def post(self) -> Any:
        """Users and groups together, users first (RFC 7644 §3.4.3); the filter must suit both (`id`,
        `externalId`)."""
        from api.scim import resources  # noqa: PLC0415
        args = _searched()
        attribute, value = resources.parse_filter(args["filter"], ("externalId", "id"))
        db, provider, start, count = db_session(), _provider_now(), args["startIndex"], args["count"]
        users_total, users = scim.find_users(db, provider, attribute=attribute, value=value, start=start,
                                             count=count)
        groups_total, groups = scim_groups.find_groups(db, provider, attribute=attribute, value=value,
                                                       start=max(1, start - users_total),
                                                       count=max(0, count - len(users)))
        accounts = scim.accounts_of(db, users)
        models = [*(resources.user_model(row, accounts.get(row.user_id), _base()) for row in users),
                  *(resources.group_model(row, scim_groups.members_of(db, row.id), _base()) for row in groups)]
        return _answer(resources.listing(models, users_total + groups_total, start,
                                         attributes=_split(args["attributes"]),
                                         excluded=_split(args["excludedAttributes"])))


@blp.route("/Users/.search")
class SearchUsers(MethodView):
    @blp.doc(operationId="scimSearchUsers", security=SCIM_SECURITY, **_body_doc(_SEARCH_BODY),
             **_answers(400, 401, 413, 429))
    @blp.response(200, description="A SCIM ListResponse of this provider's users.", content_type=MEDIA_TYPE)
    def post(self) -> Any:
        """The user list, asked by POST (its filter and attributes in the body, out of logs and history)."""
        return _list_users(_searched())


@blp.route("/Groups/.search")
class SearchGroups(MethodView):
    @blp.doc(operationId="scimSearchGroups", security=SCIM_SECURITY, **_body_doc(_SEARCH_BODY),
             **_answers(400, 401, 413, 429))
    @blp.response(200, description="A SCIM ListResponse of this provider's groups.", content_type=MEDIA_TYPE)
    def post(self) -> Any:
        """The group list, asked by POST."""
        return _list_groups(_searched())


@blp.route("/Users")
class Users(MethodView):
    @blp.doc(operationId="scimListUsers", security=SCIM_SECURITY, **_answers(400, 401, 429))
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, description="A SCIM ListResponse of this provider's users.", content_type=MEDIA_TYPE)
    def get(self, args: dict[str, Any]) -> Any:
        """This provider's users, a page at a time (`startIndex` from 1, `count` at most 200), with at most one `eq`
        filter."""
        return _list_users(args)

    @blp.doc(operationId="scimCreateUser", security=SCIM_SECURITY, **_body_doc(_USER_BODY),
             **_answers(400, 401, 409, 413, 429))
    @blp.response(201, description="The user provisioned (its account made, or linked).", content_type=MEDIA_TYPE)
    def post(self) -> Any:
        """Provision a user: an account with no password, its address verified (it must be in a domain the
        provider owns), signing in through the provider. `active: false` makes it deprovisioned from the start."""
        from api.scim import resources  # noqa: PLC0415
        model = resources.read_user(_json_body(), resources.Context.RESOURCE_CREATION_REQUEST)
        row = scim.create_user(db_session(), _provider_now(), resources.user_data(model))
        return _user_answer(row, 201)


@blp.route("/Users/<uuid:scim_id>")
class OneUser(MethodView):
    @blp.doc(operationId="scimGetUser", security=SCIM_SECURITY, **_answers(401, 404, 429))
    @blp.arguments(ReadArgs, location="query")
    @blp.response(200, description="The user, with its ETag.", content_type=MEDIA_TYPE)
    def get(self, args: dict[str, Any], scim_id: uuid.UUID) -> Any:
        """One of this provider's users."""
        return _user_answer(scim.get_user(db_session(), _provider_now(), scim_id), args=args)

    @blp.doc(operationId="scimReplaceUser", security=SCIM_SECURITY, **_body_doc(_USER_BODY),
             **_answers(400, 401, 404, 409, 412, 413, 429))
    @blp.response(200, description="The user as replaced.", content_type=MEDIA_TYPE)
    def put(self, scim_id: uuid.UUID) -> Any:
        """Replace the user (`If-Match` honoured). `active: false` deprovisions the account at once."""
        from api.scim import resources  # noqa: PLC0415
        model = resources.read_user(_json_body(), resources.Context.RESOURCE_REPLACEMENT_REQUEST)
        row = scim.replace_user(db_session(), _provider_now(), scim_id, resources.user_data(model),
                                version=_if_match())
        return _user_answer(row)

    @blp.doc(operationId="scimPatchUser", security=SCIM_SECURITY, **_body_doc(_PATCH_BODY),
             **_answers(400, 401, 404, 409, 412, 413, 429))
    @blp.response(200, description="The user as patched.", content_type=MEDIA_TYPE)
    def patch(self, scim_id: uuid.UUID) -> Any:
        """Apply PATCH operations (`add`, `replace`, `remove`, with or without a `path`, as Entra ID and Okta send
        them). `active: false` deprovisions the account at once."""
        from api.scim import resources  # noqa: PLC0415
        db, provider = db_session(), _provider_now()
        row = scim.get_user(db, provider, scim_id)
        current = resources.user_model(row, scim.accounts_of(db, [row]).get(row.user_id), _base())
        model = resources.patched(current, _json_body())
        row = scim.replace_user(db, provider, scim_id, resources.user_data(model), version=_if_match() or row.version)
        return _user_answer(row)

    @blp.doc(operationId="scimDeleteUser", security=SCIM_SECURITY, **_answers(401, 404, 412, 429))
    @blp.response(204, description="Deprovisioned: the resource is gone, the account disabled and kept.")
    def delete(self, scim_id: uuid.UUID) -> Any:
        """Deprovision and forget the user: its account is disabled at once (sign-ins, live streams, calendar feed,
        webhooks, participations end) and kept for what retention keeps."""
        scim.delete_user(db_session(), _provider_now(), scim_id, version=_if_match())
        return Response(status=204)


# --- groups -----------------------------------------------------------------------------------------------------------


def _group_answer(row: Any, status: int = 200, args: dict[str, Any] | None = None) -> Response:
    from api.scim import resources  # noqa: PLC0415
    args = args or {}
    model = resources.group_model(row, scim_groups.members_of(db_session(), row.id), _base())
    response = _answer(resources.dump(model, attributes=_split(args.get("attributes")),
                                      excluded=_split(args.get("excludedAttributes"))), status, row.version)
    if status == 201:  # noqa: PLR2004
        response.headers["Location"] = f"{_base()}/Groups/{row.id}"
    return response


@blp.route("/Groups")
class Groups(MethodView):
    @blp.doc(operationId="scimListGroups", security=SCIM_SECURITY, **_answers(400, 401, 429))
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, description="A SCIM ListResponse of this provider's groups.", content_type=MEDIA_TYPE)
    def get(self, args: dict[str, Any]) -> Any:
        """This provider's groups, a page at a time, with at most one `eq` filter."""
        return _list_groups(args)

    @blp.doc(operationId="scimCreateGroup", security=SCIM_SECURITY, **_body_doc(_GROUP_BODY),
             **_answers(400, 401, 409, 413, 429))
    @blp.response(201, description="The group.", content_type=MEDIA_TYPE)
    def post(self) -> Any:
        """A group, with its members (at most 1,000 named in one request): the provider's programme rules read its
        name as a `groups` value of each member."""
        from api.scim import resources  # noqa: PLC0415
        model = resources.read_group(_json_body(), resources.Context.RESOURCE_CREATION_REQUEST)
        row = scim_groups.save_group(db_session(), _provider_now(), None, display_name=model.display_name or "",
                                     external_id=model.external_id, members=resources.members_of(model))
        return _group_answer(row, 201)


@blp.route("/Groups/<uuid:group_id>")
class OneGroup(MethodView):
    @blp.doc(operationId="scimGetGroup", security=SCIM_SECURITY, **_answers(401, 404, 429))
    @blp.arguments(ReadArgs, location="query")
    @blp.response(200, description="The group, with its ETag.", content_type=MEDIA_TYPE)
    def get(self, args: dict[str, Any], group_id: uuid.UUID) -> Any:
        """One of this provider's groups."""
        return _group_answer(scim_groups.get_group(db_session(), _provider_now(), group_id), args=args)

    @blp.doc(operationId="scimReplaceGroup", security=SCIM_SECURITY, **_body_doc(_GROUP_BODY),
             **_answers(400, 401, 404, 409, 412, 413, 429))
    @blp.response(200, description="The group as replaced.", content_type=MEDIA_TYPE)
    def put(self, group_id: uuid.UUID) -> Any:
        """Replace the group's name and whole membership (`If-Match` honoured)."""
        from api.scim import resources  # noqa: PLC0415
        model = resources.read_group(_json_body(), resources.Context.RESOURCE_REPLACEMENT_REQUEST)
        row = scim_groups.save_group(db_session(), _provider_now(), group_id, display_name=model.display_name or "",
                                     external_id=model.external_id, members=resources.members_of(model),
                                     version=_if_match())
        return _group_answer(row)

    @blp.doc(operationId="scimPatchGroup", security=SCIM_SECURITY, **_body_doc(_PATCH_BODY),
             **_answers(400, 401, 404, 409, 412, 413, 429))
    @blp.response(200, description="The group as patched.", content_type=MEDIA_TYPE)
    def patch(self, group_id: uuid.UUID) -> Any:
        """Apply PATCH operations: members added or removed (`members[value eq "…"]`), the name replaced."""
        from api.scim import resources  # noqa: PLC0415
        db, provider = db_session(), _provider_now()
        row = scim_groups.get_group(db, provider, group_id)
        body = _json_body()
        model = resources.patched(resources.group_model(row, scim_groups.members_of(db, row.id), _base()), body)
        row = scim_groups.save_group(db, provider, group_id, display_name=model.display_name or "",
                                     external_id=model.external_id, members=resources.members_of(model),
                                     named=resources.members_named(body), version=_if_match() or row.version)
        return _group_answer(row)

    @blp.doc(operationId="scimDeleteGroup", security=SCIM_SECURITY, **_answers(401, 404, 412, 429))
    @blp.response(204, description="The group is gone; the rules are applied again to its members.")
    def delete(self, group_id: uuid.UUID) -> Any:
        """Delete the group: its members' programme rules are applied again without it."""
        scim_groups.delete_group(db_session(), _provider_now(), group_id, version=_if_match())
        return Response(status=204)
