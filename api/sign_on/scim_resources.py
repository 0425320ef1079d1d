"""SCIM resources as scim2-models reads and writes them: what a request's body says (validated for its context:
creation, replacement, PATCH), and the users, groups, lists, errors and discovery documents the routes answer.

Imported by the SCIM routes when a request comes (``api.sign_on.scim``), never at start: scim2-models brings
pydantic, which no other route needs.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any, Union, cast

from pydantic import ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    EnterpriseUser,
    Error,
    ETag,
    Filter,
    Group,
    GroupMember,
    ListResponse,
    Meta,
    Patch,
    PatchOp,
    ResourceType,
    ResponseParameters,
    SCIMException,
    SearchRequest,
    ServiceProviderConfig,
    Sort,
    User,
)

from models import ScimGroup, ScimUser
from workflows.errors import InvalidInput
from workflows.sign_on.scim import MAX_PAGE, UserData

ScimUserModel = User[EnterpriseUser]
ENTERPRISE = str(EnterpriseUser.__schema__)
MEDIA_TYPE = "application/scim+json"
# The filters served (RFC 7644 §3.4.2.2): one ``eq`` on an attribute with an index; anything else is refused.
_FILTER = re.compile(r'^\s*(?:(userName|externalId|id|displayName|emails\.value)\s+eq|(emails)\[\s*value\s+eq)\s+'
                     r'"((?:[^"\\]|\\.)*)"\s*(\]?)\s*$', re.IGNORECASE)
_CANONICAL = {"username": "userName", "externalid": "externalId", "id": "id", "displayname": "displayName"}


def refused(exc: Exception, *, status: int = 400) -> InvalidInput:
    """A request body or filter scim2-models refused, as a 400 whose ``reason`` is the SCIM error type."""
    if isinstance(exc, SCIMException):
        return InvalidInput("{detail}", words={"detail": str(exc)[:500]}, reason=exc.scim_type or "invalidValue")
    detail = "; ".join(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                       for error in exc.errors()[:5]) if isinstance(exc, ValidationError) else str(exc)
    return InvalidInput("{detail}", words={"detail": detail[:500]},
                        reason="invalidSyntax" if status == 400 else "invalidValue")  # noqa: PLR2004


def parse_filter(text: str | None, allowed: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The one ``eq`` filter of a list request: its attribute and value. 400 ``invalidFilter`` for anything else,
    whatever it costs to say (a filter is read once, never run as it comes)."""
    if not text:
        return None, None
    if len(text) > 1000:  # noqa: PLR2004
        raise InvalidInput("the filter is longer than 1,000 characters", reason="invalidFilter")
    match = _FILTER.match(text)
    if match is None or ((match.group(2) is not None) != (match.group(4) == "]")) or "\x00" in text:
        raise InvalidInput("only these filters are served: {allowed}, each as `attribute eq \"value\"`",
                           words={"allowed": ", ".join(allowed)}, reason="invalidFilter")
    said = (match.group(1) or match.group(2)).lower()
    name = "emails" if said.startswith("emails") else _CANONICAL[said]
    if name not in allowed:
        raise InvalidInput("only these filters are served: {allowed}, each as `attribute eq \"value\"`",
                           words={"allowed": ", ".join(allowed)}, reason="invalidFilter")
    try:  # a JSON string's escapes (RFC 7644 §3.4.2.2 compares to a JSON value)
        value = json.loads(f'"{match.group(3)}"')
    except ValueError:
        raise InvalidInput("only these filters are served: {allowed}, each as `attribute eq \"value\"`",
                           words={"allowed": ", ".join(allowed)}, reason="invalidFilter") from None
    return name, value


def search_args(body: Any, max_count: int) -> dict[str, Any]:
    """A SearchRequest's body (RFC 7644 §3.4.3) as a list request's arguments, bounded as theirs are."""
    try:
        search: Any = SearchRequest.model_validate(body, scim_ctx=Context.SEARCH_REQUEST)
    except (ValidationError, SCIMException, ValueError) as exc:
        raise refused(exc) from None
    start, count = search.start_index or 1, search.count if search.count is not None else 100
    if not 1 <= start <= 10_000_000 or not 0 <= count <= max_count:  # noqa: PLR2004
        raise InvalidInput("startIndex is 1 or more, count 0 to {max}", words={"max": max_count},
                           reason="invalidValue")
    return {"filter": str(search.filter) if search.filter else None, "startIndex": start, "count": count,
            "attributes": ",".join(str(a) for a in search.attributes or []) or None,
            "excludedAttributes": ",".join(str(a) for a in search.excluded_attributes or []) or None}


def user_data(model: Any) -> UserData:
    """What the account takes of a validated user resource."""
    emails = model.emails or []
    primary = next((e.value for e in emails if e.primary and e.value), None) or next(
        (e.value for e in emails if e.value), None)
    name = model.name
    display = model.display_name or (name.formatted if name else None) or (
        " ".join(p for p in (name.given_name, name.family_name) if p) if name else None)
    enterprise = model[EnterpriseUser] if ENTERPRISE in (model.schemas or []) else None
    resource = model.model_dump(scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    for kept_out in ("id", "meta", "password"):
        resource.pop(kept_out, None)
    return UserData(user_name=model.user_name or "", external_id=model.external_id,
                    active=model.active is not False, email=str(primary) if primary else None,
                    display_name=display or None, department=enterprise.department if enterprise else None,
                    manager=enterprise.manager.value if enterprise and enterprise.manager else None,
                    resource=resource)


def _manager(value: Any) -> Any:
    """The enterprise ``manager`` as RFC 7643 has it (an object with a ``$ref``), from what Entra sends (the manager's
    id alone) and what Okta sends (``value`` and ``displayName``, no ``$ref``): the reference is the manager's user."""
    if isinstance(value, str):
        value = {"value": value}
    if isinstance(value, dict) and isinstance(value.get("value"), str) and not value.get("$ref"):
        return {**value, "$ref": f"../Users/{value['value']}"}
    return value


def _lenient(body: Any) -> Any:
    """A user body, or a PATCH's, with each enterprise ``manager`` as :func:`_manager` makes it."""
    if not isinstance(body, dict):
        return body
    body = {key: _manager(value) if key.lower() == f"{ENTERPRISE}:manager".lower() else value
            for key, value in body.items()}  # a flattened path, as a PATCH without a path may send it
    if isinstance(body.get(ENTERPRISE), dict) and "manager" in body[ENTERPRISE]:
        body = {**body, ENTERPRISE: {**body[ENTERPRISE], "manager": _manager(body[ENTERPRISE]["manager"])}}
    operations = body.get("Operations")
    if isinstance(operations, list):
        body = {**body, "Operations": [
            {**one, "value": _manager(one.get("value"))} if isinstance(one, dict)
            and str(one.get("path") or "").lower().endswith(":manager") else
            {**one, "value": _lenient(one.get("value"))} if isinstance(one, dict) else one
            for one in operations]}
    return body


def read_user(body: Any, context: Context) -> Any:
    try:
        return ScimUserModel.model_validate(_lenient(body), scim_ctx=context)
    except (ValidationError, SCIMException, ValueError) as exc:
        raise refused(exc) from None


def _meta(kind: str, location: str, created: datetime, modified: datetime, version: int) -> Meta:
    return Meta(resource_type=kind, created=created, last_modified=modified, location=location,
                version=f'W/"{version}"')


def user_model(row: ScimUser, base: str, sent: Any = None) -> Any:
    """The user resource as served: what the provider sent, with its id, meta, and the account's state. ``sent``: the
    resource just read from the request that wrote ``row``, served without reading the stored one again (what is
    stored is its dump, without a password)."""
    if sent is not None:
        model = sent.model_copy()
        model.password = None
    else:
        model = ScimUserModel.model_validate(row.attributes.get("resource") or {"userName": row.user_name},
                                             scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    model.id, model.user_name, model.external_id = str(row.id), row.user_name, row.external_id
    if not row.active:  # deprovisioned; otherwise ``active`` is what the provider sent, absent if it sent none
        model.active = False
    model.meta = _meta("User", f"{base}/Users/{row.id}", row.created_at, row.updated_at, row.version)
    return model


def group_model(row: ScimGroup, members: list[tuple[uuid.UUID, str | None]], base: str) -> Any:
    return Group(id=str(row.id), display_name=row.display_name, external_id=row.external_id,
                 members=[GroupMember(value=str(member), ref=cast(Any, f"{base}/Users/{member}"), type="User",
                                      display=display) for member, display in members] or None,
                 meta=_meta("Group", f"{base}/Groups/{row.id}", row.created_at, row.updated_at, row.version))


def read_group(body: Any, context: Context) -> Any:
    try:
        return Group.model_validate(body, scim_ctx=context)
    except (ValidationError, SCIMException, ValueError) as exc:
        raise refused(exc) from None


def members_of(model: Any) -> list[tuple[str, str | None]]:
    return [(member.value, member.display) for member in model.members or [] if member.value]


MAX_OPERATIONS = 100
_MEMBER_PATH = re.compile(r'\s*members\s*\[\s*value\s+eq\s+"((?:[^"\\]|\\.)*)"\s*\]\s*', re.IGNORECASE)
MemberChange = tuple[str, list[tuple[str, str | None]] | None]


def _entries(value: Any) -> list[tuple[str, str | None]]:
    """The members a PATCH value names: each a SCIM id, and the name the provider gives it."""
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        member = item.get("value") if isinstance(item, dict) else None
        display = item.get("display") if isinstance(item, dict) else None
        if not isinstance(member, str) or len(member) > 64 or not (display is None or isinstance(display, str)):  # noqa: PLR2004
            raise InvalidInput("a member is named by its value (a user's id) and, at will, its display",
                               field="members", reason="invalidValue")
        found.append((member, display))
    return found


def member_changes(body: Any) -> tuple[list[MemberChange], dict[str, Any]]:
    """A group's PATCH split in two: the operations on its members, applied as changes to a set (scim2-models would
    compare each with every member), and what is left for the other attributes. At most ``MAX_OPERATIONS``."""
    operations = body.get("Operations")
    if not isinstance(operations, list) or len(operations) > MAX_OPERATIONS:
        raise InvalidInput("a PATCH has 1 to {max} operations", words={"max": MAX_OPERATIONS}, reason="invalidValue")
    changes: list[MemberChange] = []
    rest = []
    for operation in operations:
        kind = str(operation.get("op", "")).lower() if isinstance(operation, dict) else ""
        path, value = (operation.get("path"), operation.get("value")) if isinstance(operation, dict) else (None, None)
        filtered = _MEMBER_PATH.fullmatch(path) if isinstance(path, str) else None
        if isinstance(path, str) and path.strip().lower() == "members" and kind in {"add", "replace", "remove"}:
            changes.append((kind, _entries(value) if value is not None else None))
        elif filtered is not None and kind == "remove":
            try:
                changes.append(("remove", [(json.loads(f'"{filtered.group(1)}"'), None)]))
            except ValueError:
                raise InvalidInput("a member's filter is no string", field="members", reason="invalidPath") from None
        elif path is None and kind in {"add", "replace"} and isinstance(value, dict) and any(
                key.lower() == "members" for key in value):
            key = next(key for key in value if key.lower() == "members")
            changes.append((kind, _entries(value[key])))
            if len(value) > 1:
                rest.append({**operation, "value": {k: v for k, v in value.items() if k != key}})
        else:
            rest.append(operation)
    return changes, {**body, "Operations": rest}


def members_after(members: list[tuple[uuid.UUID, str | None]],
                  changes: list[MemberChange]) -> tuple[list[tuple[str, str | None]], int]:
    """The membership once the changes are made, and how many members the changes named (bounded per request)."""
    current = {str(member): display for member, display in members}
    named = 0
    for kind, entries in changes:
        named += len(entries or [])
        if kind == "replace":
            current = dict(entries or [])
        elif kind == "add":
            current.update(entries or [])
        elif entries is None:
            current = {}
        else:
            for member, _display in entries:
                current.pop(member, None)
    return list(current.items()), named


def patched(model: Any, body: Any) -> Any:
    """The resource with a PATCH applied (the operations Entra and Okta send, as scim2-models reads them)."""
    try:
        kind: Any = type(model)
        operations = PatchOp[kind].model_validate(_lenient(body), scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        operations.patch(model)
        return type(model).model_validate(model.model_dump(scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST),
                                          scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    except (ValidationError, SCIMException, ValueError, TypeError) as exc:
        raise refused(exc) from None


def _asked(attributes: list[str] | None, excluded: list[str] | None) -> Any:
    """The ``attributes`` and ``excludedAttributes`` a client asked for, as scim2-models selects by them."""
    if not attributes and not excluded:
        return None
    try:
        return ResponseParameters.model_validate({"attributes": attributes or None,
                                                  "excludedAttributes": excluded or None})
    except (ValidationError, SCIMException, ValueError) as exc:
        raise refused(exc) from None


def dump(model: Any, *, attributes: list[str] | None = None, excluded: list[str] | None = None) -> dict[str, Any]:
    try:
        return dict(model.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE,
                                     response_parameters=_asked(attributes, excluded)))
    except (ValidationError, SCIMException, ValueError) as exc:
        raise refused(exc) from None


def listing(models: list[Any], total: int, start: int, *, attributes: list[str] | None = None,
            excluded: list[str] | None = None) -> dict[str, Any]:
    kinds = list(dict.fromkeys(type(model) for model in models)) or [ScimUserModel]
    item: Any = kinds[0] if len(kinds) == 1 else Union[tuple(kinds)]  # noqa: UP007 (a runtime union of models)
    kind: Any = ListResponse[item]
    listed = kind(total_results=total, start_index=start, items_per_page=len(models), resources=models or None)
    try:
        return dict(listed.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE,
                                      response_parameters=_asked(attributes, excluded)))
    except (ValidationError, SCIMException, ValueError) as exc:
        raise refused(exc) from None


def error(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    return dict(Error(status=status, scim_type=scim_type, detail=detail).model_dump())


def service_provider_config(base: str) -> dict[str, Any]:
    config = ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True), bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_PAGE), change_password=ChangePassword(supported=False),
        sort=Sort(supported=False), etag=ETag(supported=True),
        authentication_schemes=[AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken, name="Bearer token", primary=True,
            description="The provider's SCIM token, from the admin console (Sign-on), sent as `Authorization: "
                        "Bearer <token>`.")],
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"))
    return dict(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def resource_types(base: str) -> list[dict[str, Any]]:
    types = [ResourceType.from_resource(ScimUserModel), ResourceType.from_resource(Group)]
    for kind in types:
        kind.meta = Meta(resource_type="ResourceType", location=f"{base}/ResourceTypes/{kind.id}")
    return [dict(kind.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)) for kind in types]


def schemas(base: str) -> list[dict[str, Any]]:
    found = [User.to_schema(), EnterpriseUser.to_schema(), Group.to_schema()]
    for schema in found:
        schema.meta = Meta(resource_type="Schema", location=f"{base}/Schemas/{schema.id}")
    return [dict(schema.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)) for schema in found]


__all__ = ["MEDIA_TYPE", "Context"]
