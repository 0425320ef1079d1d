"""Announcements: a programme's coordinators' word to its people (everyone, its mentors, its mentees, or its pairs not
yet active), an administrator's notice to everyone; how many read each."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.common.docs import documents_errors
from api.common.schemas import Schema, Text
from api.database import db_session
from api.idempotency import idempotent
from api.ratelimit import limit_messages
from api.security import current_actor, require_login
from models import Audience
from models.conversations import MAX_ANNOUNCEMENT_TITLE, MAX_MESSAGE
from workflows.conversations import announcements

blp = Blueprint("announcements", __name__, url_prefix="/api/v1",
                description="Announcements: a programme's coordinators to its people; an administrator's notice to "
                            "everyone.")
blp.before_request(require_login)

AUDIENCES = [one.value for one in Audience]
EXAMPLE = {
    "id": "5d4c3b2a-1f0e-4d9c-8b7a-695847362514", "programme_id": "0f1e2d3c-4b5a-4697-8877-665544332211",
    "audience": "mentees", "author_user_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "author_name": "Lin Chen",
    "title": "The kick-off moved to Thursday",
    "body": "We meet on **Thursday** at 17:00 instead. Details: https://example.com/kick-off",
    "html": "<p>We meet on <strong>Thursday</strong> at 17:00 instead. Details: https://example.com/kick-off</p>",
    "created_at": "2031-03-04T09:00:00+00:00", "recipients": 28, "delivered_at": "2031-03-04T09:00:02+00:00",
    "read": 11}


class AnnouncementInputSchema(Schema):
    audience = fields.String(load_default=Audience.EVERYONE.value, validate=validate.OneOf(AUDIENCES), metadata={
        "description": "A programme's: `everyone` (its participants), `mentors`, `mentees`, or `not_active` (the "
                       "people of its pairings not yet accepted). A notice: `everyone`."})
    title = Text(required=True, validate=validate.Length(min=1, max=MAX_ANNOUNCEMENT_TITLE))
    body = Text(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE), metadata={
        "description": "Markdown, as a message's (emphasis, links, lists, code)."})


class AnnouncementSchema(Schema):
    id = fields.UUID()
    programme_id = fields.UUID(allow_none=True, metadata={"description": "None for a notice to everyone."})
    audience = fields.String(metadata={"enum": AUDIENCES})
    author_user_id = fields.UUID(allow_none=True)
    author_name = fields.String(allow_none=True)
    title = fields.String()
    body = fields.String(metadata={"description": "Its Markdown source."})
    html = fields.String(metadata={"description": "Its words as safe HTML, rendered and cleaned by the server."})
    created_at = fields.DateTime()
    recipients = fields.Integer(allow_none=True, metadata={
        "description": "How many were told (none until the workers told them all)."})
    delivered_at = fields.DateTime(allow_none=True)
    read = fields.Integer(allow_none=True, metadata={
        "description": "How many have read it: for its programme's coordinators and administrators only."})


class AnnouncementListSchema(Schema):
    items = fields.List(fields.Nested(AnnouncementSchema))


def _post(programme_id: uuid.UUID | None, body: dict[str, Any]) -> Any:
    actor = current_actor()
    limit_messages(str(actor.user_id))
    posted = announcements.post(db_session(), actor, programme_id, audience=Audience(body["audience"]),
                                title=body["title"], body=body["body"])
    return announcements.AnnouncementView(posted, None, 0)


@blp.route("/programmes/<uuid:programme_id>/announcements")
class ProgrammeAnnouncements(MethodView):
    @blp.doc(operationId="listProgrammeAnnouncements")
    @blp.response(200, AnnouncementListSchema)
    @documents_errors(blp, 401, 404)
    def get(self, programme_id: uuid.UUID) -> Any:
        """The programme's announcements, the latest first (100 at most), each with how many were told and how many
        read it. Its coordinators only (404 for anyone else)."""
        return {"items": announcements.listed(db_session(), current_actor(), programme_id)}

    @idempotent(blp, never_stored=("body", "html", "title"))
    @blp.doc(operationId="postProgrammeAnnouncement")
    @blp.arguments(AnnouncementInputSchema, example={"audience": "mentees", "title": "The kick-off moved",
                                                     "body": "We meet on **Thursday** at 17:00 instead."})
    @blp.response(201, AnnouncementSchema, example=EXAMPLE)
    @documents_errors(blp, 400, 401, 404, 422, 429)
    def post(self, body: dict[str, Any], programme_id: uuid.UUID) -> Any:
        """Tell the programme's `audience` something: each is told once, in their inbox, live and by email as they
        chose for announcements; the workers tell them (`announcement.posted`), in batches, after this answer.
        Its coordinators only (404 for anyone else, a coordinator of another programme too); 400 once it is
        closed. With an
        `Idempotency-Key`, a retry answers the first one. Counted with messages (`MESSAGE_RATE_LIMIT`)."""
        return _post(programme_id, body)


@blp.route("/announcements")
class Notices(MethodView):
    @blp.doc(operationId="listNotices")
    @blp.response(200, AnnouncementListSchema)
    @documents_errors(blp, 401, 403)
    def get(self) -> Any:
        """The notices to everyone, the latest first, with how many read each. Administrators only."""
        return {"items": announcements.listed(db_session(), current_actor(), None)}

    @idempotent(blp, never_stored=("body", "html", "title"))
    @blp.doc(operationId="postNotice")
    @blp.arguments(AnnouncementInputSchema, example={"title": "Maintenance on Sunday",
                                                     "body": "The service is away from 06:00 to 06:30 UTC."})
    @blp.response(201, AnnouncementSchema, example={**EXAMPLE, "programme_id": None, "audience": "everyone"})
    @documents_errors(blp, 401, 403, 422, 429)
    def post(self, body: dict[str, Any]) -> Any:
        """A notice to everyone who has an account, told as a programme's announcement is. Administrators only."""
        return _post(None, body)


@blp.route("/announcements/<uuid:announcement_id>")
class OneAnnouncement(MethodView):
    @blp.doc(operationId="readAnnouncement")
    @blp.response(200, AnnouncementSchema, example=EXAMPLE)
    @documents_errors(blp, 401, 404)
    def get(self, announcement_id: uuid.UUID) -> Any:
        """An announcement you were told (reading it marks its notification read), or one of a programme you
        coordinate (or, for an administrator, a notice) with how many read it; 404 for anyone else."""
        return announcements.read(db_session(), current_actor(), announcement_id)
