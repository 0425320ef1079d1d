"""Reports of conversations: someone in one reports it to those who look after it, who read it from the report
(each read audited)."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.common.docs import documents_errors
from api.common.schemas import Schema, Text
from api.conversations.routes import MessageSchema
from api.conversations.routes import blp as conversations_blp
from api.database import db_session
from api.ratelimit import limit_messages
from api.security import current_actor, require_login
from models import ReportReason
from models.conversations import MAX_REPORT_WORDS
from workflows.conversations import reports

blp = Blueprint("conversation_reports", __name__, url_prefix="/api/v1/conversation-reports",
                description="Reports of conversations, for those who look after them: a programme's coordinators, "
                            "or the administrators.")
blp.before_request(require_login)

REASONS = [one.value for one in ReportReason]


class ConversationReportInputSchema(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    words = Text(load_default="", validate=validate.Length(max=MAX_REPORT_WORDS), metadata={
        "description": "What happened, in your words (for those who look after it)."})
    message_id = fields.UUID(load_default=None, allow_none=True, metadata={"description": "One message reported."})


class ConversationReportSchema(Schema):
    id = fields.UUID()
    conversation_id = fields.UUID()
    message_id = fields.UUID(allow_none=True)
    programme_id = fields.UUID(allow_none=True, metadata={
        "description": "The programme whose coordinators look after it; none: the administrators."})
    reason = fields.String(metadata={"enum": REASONS})
    words = fields.String()
    reporter_name = fields.String()
    created_at = fields.DateTime()


class ConversationReportReadSchema(ConversationReportSchema):
    people = fields.List(fields.String(), metadata={"description": "The conversation's people, by name (one report)."})
    messages = fields.List(fields.Nested(MessageSchema), metadata={
        "description": "Its latest 100 messages (one report, for those who look after it; the read is audited)."})


class ConversationReportListSchema(Schema):
    items = fields.List(fields.Nested(ConversationReportSchema))


@conversations_blp.route("/<uuid:conversation_id>/report")
class ReportConversation(MethodView):
    @conversations_blp.doc(operationId="reportConversation")
    @conversations_blp.arguments(ConversationReportInputSchema,
                                 example={"reason": "harassment", "words": "He keeps insisting."})
    @conversations_blp.response(201, ConversationReportSchema)
    @documents_errors(conversations_blp, 401, 404, 422, 429)
    def post(self, body: dict[str, Any], conversation_id: uuid.UUID) -> Any:
        """Report a conversation you take part in (or one of its messages) to those who look after it: its
        programme's coordinators, else the administrators. They are told (`conversation.reported`, which carries no
        words) and may read this conversation, each read audited. Counted with messages (`MESSAGE_RATE_LIMIT`)."""
        actor = current_actor()
        limit_messages(str(actor.user_id))
        made = reports.report(db_session(), actor, conversation_id, reason=ReportReason(body["reason"]),
                              words=body["words"], message_id=body["message_id"])
        return reports.ReportView(made, "", [], [])


@blp.route("")
class Reports(MethodView):
    @blp.doc(operationId="listConversationReports")
    @blp.response(200, ConversationReportListSchema)
    @documents_errors(blp, 401)
    def get(self) -> Any:
        """The reports you look after (your programmes'; an administrator's, those of no programme), the latest
        first, without the conversations' words."""
        return {"items": reports.listed(db_session(), current_actor())}


@blp.route("/<uuid:report_id>")
class OneReport(MethodView):
    @blp.doc(operationId="readConversationReport")
    @blp.response(200, ConversationReportReadSchema)
    @documents_errors(blp, 401, 404)
    def get(self, report_id: uuid.UUID) -> Any:
        """A report and its conversation's latest messages, for one who looks after it (404 for anyone else). Each
        read is written in the audit trail (`conversation.read_reported`, naming you and the report)."""
        return reports.read(db_session(), current_actor(), report_id)
