"""SCIM groups (``/scim/v2/Groups``), whose members the provider's programme rules read as the ``groups`` claim
(``workflows.sign_on.scim_groups``), and the searches across users and groups, on the SCIM blueprint of
``api.sign_on.scim``."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView

from api.database import db_session
from api.sign_on.scim import (
    MEDIA_TYPE,
    SCIM_SECURITY,
    ListArgs,
    ReadArgs,
    answer,
    answers,
    base,
    blp,
    body_doc,
    if_match,
    json_body,
    provider_now,
    resource_answer,
    split,
)
from api.sign_on.scim_users import PATCH_BODY, SEARCH_BODY, searched
from workflows.sign_on import scim, scim_groups

_GROUP_BODY = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "mentees-2027",
               "members": [{"value": "0b6f2f9e-2c1e-4a4f-9a77-1f3c2e0d5b6a"}]}


def list_groups(args: dict[str, Any]) -> Response:
    from api.sign_on import scim_resources as resources  # noqa: PLC0415
    attribute, value = resources.parse_filter(args["filter"], ("displayName", "externalId", "id"))
    db = db_session()
    total, rows = scim_groups.find_groups(db, provider_now(), attribute=attribute, value=value,
                                          start=args["startIndex"], count=args["count"])
    models = [resources.group_model(row, scim_groups.members_of(db, row.id), base()) for row in rows]
    return answer(resources.listing(models, total, args["startIndex"], attributes=split(args["attributes"]),
                                     excluded=split(args["excludedAttributes"])))


def _group_answer(row: Any, status: int = 200, args: dict[str, Any] | None = None) -> Response:
    from api.sign_on import scim_resources as resources  # noqa: PLC0415
    model = resources.group_model(row, scim_groups.members_of(db_session(), row.id), base())
    return resource_answer(model, row.version, status, args, f"{base()}/Groups/{row.id}")


@blp.route("/Groups")
class Groups(MethodView):
    @blp.doc(operationId="scimListGroups", security=SCIM_SECURITY, **answers(400, 401, 429))
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, description="A SCIM ListResponse of this provider's groups.", content_type=MEDIA_TYPE)
    def get(self, args: dict[str, Any]) -> Any:
        """This provider's groups, a page at a time, with at most one `eq` filter."""
        return list_groups(args)

    @blp.doc(operationId="scimCreateGroup", security=SCIM_SECURITY, **body_doc(_GROUP_BODY),
             **answers(400, 401, 409, 413, 429))
    @blp.response(201, description="The group.", content_type=MEDIA_TYPE)
    def post(self) -> Any:
        """A group, with its members (at most 1,000 named in one request): the provider's programme rules read its
        name as a `groups` value of each member."""
        from api.sign_on import scim_resources as resources  # noqa: PLC0415
        model = resources.read_group(json_body(), resources.Context.RESOURCE_CREATION_REQUEST)
        row = scim_groups.save_group(db_session(), provider_now(), None, display_name=model.display_name or "",
                                     external_id=model.external_id, members=resources.members_of(model))
        return _group_answer(row, 201)


@blp.route("/Groups/<uuid:group_id>")
class OneGroup(MethodView):
    @blp.doc(operationId="scimGetGroup", security=SCIM_SECURITY, **answers(401, 404, 429))
    @blp.arguments(ReadArgs, location="query")
    @blp.response(200, description="The group, with its ETag.", content_type=MEDIA_TYPE)
    def get(self, args: dict[str, Any], group_id: uuid.UUID) -> Any:
        """One of this provider's groups."""
        return _group_answer(scim_groups.get_group(db_session(), provider_now(), group_id), args=args)

    @blp.doc(operationId="scimReplaceGroup", security=SCIM_SECURITY, **body_doc(_GROUP_BODY),
             **answers(400, 401, 404, 409, 412, 413, 429))
    @blp.response(200, description="The group as replaced.", content_type=MEDIA_TYPE)
    def put(self, group_id: uuid.UUID) -> Any:
        """Replace the group's name and whole membership (`If-Match` honoured)."""
        from api.sign_on import scim_resources as resources  # noqa: PLC0415
        model = resources.read_group(json_body(), resources.Context.RESOURCE_REPLACEMENT_REQUEST)
        row = scim_groups.save_group(db_session(), provider_now(), group_id, display_name=model.display_name or "",
                                     external_id=model.external_id, members=resources.members_of(model),
                                     version=if_match())
        return _group_answer(row)

    @blp.doc(operationId="scimPatchGroup", security=SCIM_SECURITY, **body_doc(PATCH_BODY),
             **answers(400, 401, 404, 409, 412, 413, 429))
    @blp.response(200, description="The group as patched.", content_type=MEDIA_TYPE)
    def patch(self, group_id: uuid.UUID) -> Any:
        """Apply PATCH operations: members added or removed (`members[value eq "…"]`), the name replaced."""
        from api.sign_on import scim_resources as resources  # noqa: PLC0415
        db, provider = db_session(), provider_now()
        row = scim_groups.get_group(db, provider, group_id)
        changes, rest = resources.member_changes(json_body())
        members, named = resources.members_after(scim_groups.members_of(db, row.id), changes)
        model = resources.group_model(row, [], base())
        if rest["Operations"]:
            model = resources.patched(model, rest)
        row = scim_groups.save_group(db, provider, group_id, display_name=model.display_name or "",
                                     external_id=model.external_id, members=members, named=named,
                                     version=if_match())
        return _group_answer(row)

    @blp.doc(operationId="scimDeleteGroup", security=SCIM_SECURITY, **answers(401, 404, 412, 429))
    @blp.response(204, description="The group is gone; the rules are applied again to its members.")
    def delete(self, group_id: uuid.UUID) -> Any:
        """Delete the group: its members' programme rules are applied again without it."""
        scim_groups.delete_group(db_session(), provider_now(), group_id, version=if_match())
        return Response(status=204)


@blp.route("/.search")
class SearchAll(MethodView):
    @blp.doc(operationId="scimSearch", security=SCIM_SECURITY, **body_doc(SEARCH_BODY),
             **answers(400, 401, 413, 429))
    @blp.response(200, description="A SCIM ListResponse of this provider's users, then its groups.",
                  content_type=MEDIA_TYPE)
    def post(self) -> Any:
        """Users and groups together, users first (RFC 7644 §3.4.3); the filter must suit both (`id`,
        `externalId`)."""
        from api.sign_on import scim_resources as resources  # noqa: PLC0415
        args = searched()
        attribute, value = resources.parse_filter(args["filter"], ("externalId", "id"))
        db, provider, start, count = db_session(), provider_now(), args["startIndex"], args["count"]
        users_total, users = scim.find_users(db, provider, attribute=attribute, value=value, start=start,
                                             count=count)
        groups_total, groups = scim_groups.find_groups(db, provider, attribute=attribute, value=value,
                                                       start=max(1, start - users_total),
                                                       count=max(0, count - len(users)))
        models = [*(resources.user_model(row, base()) for row in users),
                  *(resources.group_model(row, scim_groups.members_of(db, row.id), base()) for row in groups)]
        return answer(resources.listing(models, users_total + groups_total, start,
                                         attributes=split(args["attributes"]),
                                         excluded=split(args["excludedAttributes"])))


@blp.route("/Groups/.search")
class SearchGroups(MethodView):
    @blp.doc(operationId="scimSearchGroups", security=SCIM_SECURITY, **body_doc(SEARCH_BODY),
             **answers(400, 401, 413, 429))
    @blp.response(200, description="A SCIM ListResponse of this provider's groups.", content_type=MEDIA_TYPE)
    def post(self) -> Any:
        """The group list, asked by POST."""
        return list_groups(searched())
