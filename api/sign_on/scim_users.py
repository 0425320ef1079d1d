"""SCIM users (``/scim/v2/Users``): provisioning, reading, listing and searching, replacing, PATCH and
deprovisioning an organisation's people (``workflows.sign_on.scim``), on the SCIM blueprint of ``api.sign_on.scim``."""

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
from workflows.sign_on import scim

_USER_BODY = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@example.edu",
              "externalId": "00u1a2b3c4", "active": True, "name": {"givenName": "Ada", "familyName": "Lovelace"},
              "emails": [{"value": "ada@example.edu", "type": "work", "primary": True}],
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Mathematics"}}
PATCH_BODY = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "replace", "path": "active", "value": False}]}


def _user_answer(row: Any, status: int = 200, args: dict[str, Any] | None = None, sent: Any = None) -> Response:
    from api.sign_on import scim_resources as resources  # noqa: PLC0415
    return resource_answer(resources.user_model(row, base(), sent), row.version, status, args,
                           f"{base()}/Users/{row.id}")


def list_users(args: dict[str, Any]) -> Response:
    from api.sign_on import scim_resources as resources  # noqa: PLC0415
    attribute, value = resources.parse_filter(args["filter"], ("userName", "externalId", "emails", "id"))
    db = db_session()
    total, rows = scim.find_users(db, provider_now(), attribute=attribute, value=value, start=args["startIndex"],
                                  count=args["count"])
    models = [resources.user_model(row, base()) for row in rows]
    return answer(resources.listing(models, total, args["startIndex"], attributes=split(args["attributes"]),
                                     excluded=split(args["excludedAttributes"])))


def searched() -> dict[str, Any]:
    """A search's body (RFC 7644 §3.4.3), as a list request's arguments."""
    from api.sign_on import scim_resources as resources  # noqa: PLC0415
    return resources.search_args(json_body(), scim.MAX_PAGE)


SEARCH_BODY = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": 'userName eq "ada@example.edu"', "startIndex": 1, "count": 10}


@blp.route("/Users/.search")
class SearchUsers(MethodView):
    @blp.doc(operationId="scimSearchUsers", security=SCIM_SECURITY, **body_doc(SEARCH_BODY),
             **answers(400, 401, 413, 429))
    @blp.response(200, description="A SCIM ListResponse of this provider's users.", content_type=MEDIA_TYPE)
    def post(self) -> Any:
        """The user list, asked by POST (its filter and attributes in the body, out of logs and history)."""
        return list_users(searched())


@blp.route("/Users")
class Users(MethodView):
    @blp.doc(operationId="scimListUsers", security=SCIM_SECURITY, **answers(400, 401, 429))
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, description="A SCIM ListResponse of this provider's users.", content_type=MEDIA_TYPE)
    def get(self, args: dict[str, Any]) -> Any:
        """This provider's users, a page at a time (`startIndex` from 1, `count` at most 200), with at most one `eq`
        filter."""
        return list_users(args)

    @blp.doc(operationId="scimCreateUser", security=SCIM_SECURITY, **body_doc(_USER_BODY),
             **answers(400, 401, 409, 413, 429))
    @blp.response(201, description="The user provisioned (its account made, or linked).", content_type=MEDIA_TYPE)
    def post(self) -> Any:
        """Provision a user: an account with no password, its address verified (it must be in a domain the
        provider owns), signing in through the provider. `active: false` makes it deprovisioned from the start."""
        from api.sign_on import scim_resources as resources  # noqa: PLC0415
        model = resources.read_user(json_body(), resources.Context.RESOURCE_CREATION_REQUEST)
        row = scim.create_user(db_session(), provider_now(), resources.user_data(model))
        return _user_answer(row, 201, sent=model)


@blp.route("/Users/<uuid:scim_id>")
class OneUser(MethodView):
    @blp.doc(operationId="scimGetUser", security=SCIM_SECURITY, **answers(401, 404, 429))
    @blp.arguments(ReadArgs, location="query")
    @blp.response(200, description="The user, with its ETag.", content_type=MEDIA_TYPE)
    def get(self, args: dict[str, Any], scim_id: uuid.UUID) -> Any:
        """One of this provider's users."""
        return _user_answer(scim.get_user(db_session(), provider_now(), scim_id), args=args)

    @blp.doc(operationId="scimReplaceUser", security=SCIM_SECURITY, **body_doc(_USER_BODY),
             **answers(400, 401, 404, 409, 412, 413, 429))
    @blp.response(200, description="The user as replaced.", content_type=MEDIA_TYPE)
    def put(self, scim_id: uuid.UUID) -> Any:
        """Replace the user (`If-Match` honoured). `active: false` deprovisions the account at once."""
        from api.sign_on import scim_resources as resources  # noqa: PLC0415
        model = resources.read_user(json_body(), resources.Context.RESOURCE_REPLACEMENT_REQUEST)
        row = scim.replace_user(db_session(), provider_now(), scim_id, resources.user_data(model),
                                version=if_match())
        return _user_answer(row, sent=model)

    @blp.doc(operationId="scimPatchUser", security=SCIM_SECURITY, **body_doc(PATCH_BODY),
             **answers(400, 401, 404, 409, 412, 413, 429))
    @blp.response(200, description="The user as patched.", content_type=MEDIA_TYPE)
    def patch(self, scim_id: uuid.UUID) -> Any:
        """Apply PATCH operations (`add`, `replace`, `remove`, with or without a `path`, as Entra ID and Okta send
        them). `active: false` deprovisions the account at once."""
        from api.sign_on import scim_resources as resources  # noqa: PLC0415
        db, provider = db_session(), provider_now()
        row = scim.get_user(db, provider, scim_id)
        current = resources.user_model(row, base())
        model = resources.patched(current, json_body())
        row = scim.replace_user(db, provider, scim_id, resources.user_data(model), version=if_match())
        return _user_answer(row, sent=model)

    @blp.doc(operationId="scimDeleteUser", security=SCIM_SECURITY, **answers(401, 404, 412, 429))
    @blp.response(204, description="Deprovisioned: the resource is gone, the account disabled and kept.")
    def delete(self, scim_id: uuid.UUID) -> Any:
        """Deprovision and forget the user: its account is disabled at once (sign-ins, live streams, calendar feed,
        webhooks, participations end) and kept for what retention keeps."""
        scim.delete_user(db_session(), provider_now(), scim_id, version=if_match())
        return Response(status=204)
