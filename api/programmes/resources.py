"""Libraries of resources: a programme's (`/programmes/{id}/resources`, read with the platform's) and the platform's
(`/resources`), each resource a link or a short Markdown document, never a file."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.common.docs import documents_errors
from api.common.schemas import PaginationArgs, Schema, Text
from api.database import db_session
from api.programmes.routes import blp as programmes_blp
from api.security import current_actor, require_login
from models.programmes.resources import MAX_DOCUMENT, MAX_RESOURCE_TITLE, MAX_RESOURCE_URL, MAX_TAG, MAX_TAGS
from workflows.conversations import text
from workflows.programmes import resources

blp = Blueprint("resources", __name__, url_prefix="/api/v1/resources",
                description="The platform's library of resources, shared with every programme.")
blp.before_request(require_login)


class ResourceInputSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=MAX_RESOURCE_TITLE))
    url = Text(load_default=None, allow_none=True, validate=validate.Length(max=MAX_RESOURCE_URL), metadata={
        "description": "An `http` or `https` address, shown as a link and never fetched by the service; or give "
                       "`body`."})
    body = Text(load_default=None, allow_none=True, validate=validate.Length(max=MAX_DOCUMENT), metadata={
        "description": "A document in Markdown: *emphasis*, links, lists, `code` (no raw HTML, images or headings)."})
    tags = fields.List(Text(validate=validate.Length(min=1, max=MAX_TAG)), load_default=list,
                       validate=validate.Length(max=MAX_TAGS))


class ResourcePatchSchema(Schema):
    title = Text(validate=validate.Length(min=1, max=MAX_RESOURCE_TITLE))
    url = Text(allow_none=True, validate=validate.Length(max=MAX_RESOURCE_URL))
    body = Text(allow_none=True, validate=validate.Length(max=MAX_DOCUMENT))
    tags = fields.List(Text(validate=validate.Length(min=1, max=MAX_TAG)), validate=validate.Length(max=MAX_TAGS))


class ResourceSummarySchema(Schema):
    id = fields.UUID()
    library = fields.Function(lambda r: "platform" if r.programme_id is None else "programme", metadata={
        "enum": ["programme", "platform"]})
    kind = fields.Function(lambda r: "link" if r.url else "document", metadata={
        "enum": ["link", "document"], "description": "A document is read whole with `GET …/resources/{id}`."})
    title = fields.String()
    url = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ResourceSchema(ResourceSummarySchema):
    body = fields.String(allow_none=True, metadata={"description": "The document's Markdown source."})
    body_html = fields.Function(lambda r: text.html(r.body) if r.body else None, metadata={
        "description": "The document as safe HTML."})


class ResourcePageSchema(Schema):
    items = fields.List(fields.Nested(ResourceSummarySchema), metadata={
        "description": "Without their documents: each is read whole on its own."})
    next_cursor = fields.String(allow_none=True)


class ResourceSearchArgs(PaginationArgs):
    q = Text(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "Words the title or the document has (every one), or a part of the title."})
    tag = Text(load_default=None, validate=validate.Length(max=MAX_TAG))


EXAMPLE = {"title": "Writing SMART goals", "url": "https://example.org/smart-goals", "tags": ["goals"]}
LIBRARY = "/<uuid:programme_id>/resources"


@programmes_blp.route(LIBRARY)
class ProgrammeLibrary(MethodView):
    @programmes_blp.doc(operationId="searchProgrammeResources")
    @programmes_blp.arguments(ResourceSearchArgs, location="query")
    @programmes_blp.response(200, ResourcePageSchema)
    @documents_errors(programmes_blp, 401, 404, 422)
    def get(self, args: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """The programme's library with the platform's, in title order, searched (those taking part in it and those
        who run it)."""
        return resources.search(db_session(), current_actor(), programme_id, **args)

    @programmes_blp.doc(operationId="addProgrammeResource")
    @programmes_blp.arguments(ResourceInputSchema, example=EXAMPLE)
    @programmes_blp.response(201, ResourceSchema)
    @documents_errors(programmes_blp, 400, 401, 403, 404, 422)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Add a resource to the programme's library (its coordinators; 2,000 at most): a link or a document.
        `programme.library_changed`."""
        return resources.add(db_session(), current_actor(), programme_id, **body)


@programmes_blp.route(f"{LIBRARY}/<uuid:resource_id>")
class ProgrammeResource(MethodView):
    @programmes_blp.doc(operationId="getProgrammeResource")
    @programmes_blp.response(200, ResourceSchema)
    @documents_errors(programmes_blp, 401, 404)
    def get(self, programme_id: uuid.UUID, resource_id: uuid.UUID) -> Any:
        """A resource of the programme's library or the platform's."""
        return resources.get(db_session(), current_actor(), programme_id, resource_id)

    @programmes_blp.doc(operationId="changeProgrammeResource")
    @programmes_blp.arguments(ResourcePatchSchema, example={"tags": ["goals", "first term"]})
    @programmes_blp.response(200, ResourceSchema)
    @documents_errors(programmes_blp, 400, 401, 403, 404, 422)
    def patch(self, body: dict[str, Any], programme_id: uuid.UUID, resource_id: uuid.UUID) -> Any:
        """Change a resource of the programme's own library (its coordinators)."""
        return resources.change(db_session(), current_actor(), programme_id, resource_id, body)

    @programmes_blp.doc(operationId="removeProgrammeResource")
    @programmes_blp.response(204)
    @documents_errors(programmes_blp, 401, 403, 404)
    def delete(self, programme_id: uuid.UUID, resource_id: uuid.UUID) -> None:
        """Take a resource out of the programme's own library (its coordinators)."""
        resources.remove(db_session(), current_actor(), programme_id, resource_id)


@blp.route("")
class PlatformLibrary(MethodView):
    @blp.doc(operationId="searchPlatformResources")
    @blp.arguments(ResourceSearchArgs, location="query")
    @blp.response(200, ResourcePageSchema)
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """The platform's library, in title order, searched (anyone signed in)."""
        return resources.search(db_session(), current_actor(), None, **args)

    @blp.doc(operationId="addPlatformResource")
    @blp.arguments(ResourceInputSchema, example=EXAMPLE)
    @blp.response(201, ResourceSchema)
    @documents_errors(blp, 400, 401, 403, 422)
    def post(self, body: dict[str, Any]) -> Any:
        """Add a resource to the platform's library (administrators; in the audit trail)."""
        return resources.add(db_session(), current_actor(), None, **body)


@blp.route("/<uuid:resource_id>")
class PlatformResource(MethodView):
    @blp.doc(operationId="getPlatformResource")
    @blp.response(200, ResourceSchema)
    @documents_errors(blp, 401, 404)
    def get(self, resource_id: uuid.UUID) -> Any:
        """A resource of the platform's library."""
        return resources.get(db_session(), current_actor(), None, resource_id)

    @blp.doc(operationId="changePlatformResource")
    @blp.arguments(ResourcePatchSchema, example={"title": "SMART goals, in five minutes"})
    @blp.response(200, ResourceSchema)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def patch(self, body: dict[str, Any], resource_id: uuid.UUID) -> Any:
        """Change a resource of the platform's library (administrators)."""
        return resources.change(db_session(), current_actor(), None, resource_id, body)

    @blp.doc(operationId="removePlatformResource")
    @blp.response(204)
    @documents_errors(blp, 401, 403, 404)
    def delete(self, resource_id: uuid.UUID) -> None:
        """Take a resource out of the platform's library (administrators)."""
        resources.remove(db_session(), current_actor(), None, resource_id)
