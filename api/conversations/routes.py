"""Conversations: a mentor and a mentee who share a booking or a pairing, and a programme's participant with its
coordinators; their messages, edits, deletions and read state."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.common.docs import documents_errors
from api.common.schemas import Schema, Text, search_text
from api.database import db_session
from api.errors import asked_locale
from api.idempotency import idempotent
from api.ratelimit import limit_conversation_messages, limit_messages
from api.security import current_actor, require_login
from models import ConversationKind, PointsTo
from models.conversations import MAX_MESSAGE
from workflows.conversations import conversations, messages, safety
from workflows.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

blp = Blueprint("conversations", __name__, url_prefix="/api/v1/conversations",
                description="Conversations and their messages: between a mentor and a mentee, and between a "
                            "programme's participant and its coordinators.")
blp.before_request(require_login)

MAX_SEQ = 2**31 - 1  # a place in a conversation is a PostgreSQL integer

EXAMPLE_MESSAGE = {
    "id": "6b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "conversation_id": "0f1e2d3c-4b5a-4697-8877-665544332211",
    "seq": 7, "sender_user_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "sender_name": "Lin Chen",
    "body": "Could we look at *my outline* first? https://example.com/outline",
    "html": "<p>Could we look at <em>my outline</em> first? https://example.com/outline</p>",
    "points_to_kind": None, "points_to_id": None, "created_at": "2031-03-04T17:00:00+00:00", "edited_at": None,
    "deleted_at": None}


class OpenSchema(Schema):
    user_id = fields.UUID(load_default=None, metadata={
        "description": "A mentor or mentee you share a booking or a pairing with: your conversation with them."})
    mentor_profile_id = fields.UUID(load_default=None, metadata={
        "description": "Or the mentor by their profile, as bookings and pairings name them."})
    programme_id = fields.UUID(load_default=None, metadata={
        "description": "A programme you take part in: your conversation with its coordinators (a coordinator "
                       "names the participant too)."})
    participant_user_id = fields.UUID(load_default=None)
    session_id = fields.UUID(load_default=None, metadata={
        "description": "A group session you lead or hold a seat in: its conversation."})

    @ma.validates_schema
    def _one_of(self, data: dict[str, Any], **_: Any) -> None:
        given = [name for name in ("user_id", "mentor_profile_id", "programme_id", "session_id")
                 if data.get(name) is not None]
        if len(given) != 1:
            raise ma.ValidationError("give one of user_id, mentor_profile_id, programme_id or session_id",
                                     field_name="user_id")


class ConversationSchema(Schema):
    id = fields.UUID()
    kind = fields.Enum(ConversationKind, by_value=True)
    title = fields.String(metadata={
        "description": "The other person, the programme's coordinators (or its participant), or the group session."})
    programme_id = fields.UUID(allow_none=True)
    session_id = fields.UUID(allow_none=True, metadata={"description": "A group session's conversation: the session."})
    other_user_id = fields.UUID(allow_none=True)
    last_message_at = fields.DateTime(allow_none=True)
    unread = fields.Integer()
    blocked = fields.String(allow_none=True, metadata={"enum": ["by_you", "by_them", None], "description": (
        "Between two people: `by_you` once you blocked them, `by_them` once they blocked you; no new message goes "
        "between you either way (it stays readable).")})
    muted = fields.Boolean(metadata={
        "description": "You muted it: it is not emailed to you nor counted in your unread messages."})


class ConversationListSchema(Schema):
    items = fields.List(fields.Nested(ConversationSchema))


class ConversationListArgs(Schema):
    q = search_text("Words of a message, or a part of the other person's or the programme's name.")


class MessageSchema(Schema):
    id = fields.UUID()
    conversation_id = fields.UUID()
    seq = fields.Integer(metadata={"description": "Its place in the conversation, from 1."})
    sender_user_id = fields.UUID(allow_none=True)
    sender_name = fields.String()
    body = fields.String(allow_none=True, metadata={"description": "Its Markdown source; none once deleted."})
    html = fields.String(allow_none=True, metadata={"description": "Its words rendered and sanitised."})
    points_to_kind = fields.Enum(PointsTo, by_value=True, allow_none=True)
    points_to_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    edited_at = fields.DateTime(allow_none=True)
    deleted_at = fields.DateTime(allow_none=True)


class MessageListSchema(Schema):
    items = fields.List(fields.Nested(MessageSchema))


class MessageListArgs(Schema):
    before = fields.Integer(load_default=None, validate=validate.Range(1, MAX_SEQ))
    after = fields.Integer(load_default=None, validate=validate.Range(0, MAX_SEQ))
    limit = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE))


class MessageInputSchema(Schema):
    body = Text(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE), metadata={
        "description": "Markdown: emphasis, links, lists, code."})
    points_to_kind = fields.Enum(PointsTo, by_value=True, load_default=None, allow_none=True)
    points_to_id = fields.UUID(load_default=None, allow_none=True)


class MessageEditSchema(Schema):
    body = Text(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE))


class ReadSchema(Schema):
    seq = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, MAX_SEQ), metadata={
        "description": "Read up to this place (the last message if none)."})


class ReadStateSchema(Schema):
    seq = fields.Integer()


class UnreadSchema(Schema):
    unread = fields.Integer(metadata={"description": "Messages waiting for you, in all your conversations."})


@blp.route("")
class Conversations(MethodView):
    @blp.doc(operationId="listConversations")
    @blp.arguments(ConversationListArgs, location="query")
    @blp.response(200, ConversationListSchema)
    @documents_errors(blp, 401, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Your conversations, the latest message first, with how many of each are unread; `q` finds those whose
        person or programme is so named or which hold those words."""
        return {"items": conversations.listed(db_session(), current_actor(), **args, asked=asked_locale())}

    @blp.doc(operationId="openConversation")
    @blp.arguments(OpenSchema, example={"user_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"})
    @blp.response(200, ConversationSchema)
    @documents_errors(blp, 400, 401, 404, 422)
    def post(self, body: dict[str, Any]) -> Any:
        """Your one conversation with a mentor or mentee you share a booking or a pairing with (`user_id`), with
        a programme's coordinators (`programme_id`; a coordinator adds `participant_user_id`), or with a group
        session's people (`session_id`: its mentor and the mentees who hold its seats): made the first time, the same
        one after. 404 for anyone you have no reason to talk with."""
        db, actor = db_session(), current_actor()
        if body["user_id"] is not None or body["mentor_profile_id"] is not None:
            made = conversations.open_with(db, actor, body["user_id"], mentor_profile_id=body["mentor_profile_id"])
        elif body["session_id"] is not None:
            made = conversations.open_group(db, actor, body["session_id"])
        else:
            made = conversations.open_desk(db, actor, body["programme_id"], body["participant_user_id"])
        return next(one for one in conversations.listed(db, actor, only=made.id, asked=asked_locale()))


@blp.route("/<uuid:conversation_id>")
class ConversationItem(MethodView):
    @blp.doc(operationId="getConversation")
    @blp.response(200, ConversationSchema)
    @documents_errors(blp, 401, 404)
    def get(self, conversation_id: uuid.UUID) -> Any:
        """One of your conversations, as your list shows it; 404 for one you take no part in."""
        db, actor = db_session(), current_actor()
        return conversations.listed(db, actor, only=conversations.load(db, actor, conversation_id).id,
                                    asked=asked_locale())[0]


@blp.route("/unread")
class Unread(MethodView):
    @blp.doc(operationId="countUnreadMessages")
    @blp.response(200, UnreadSchema)
    @documents_errors(blp, 401)
    def get(self) -> Any:
        """How many messages wait for you: the web app's menu shows it."""
        return {"unread": conversations.unread_total(db_session(), current_actor())}


@blp.route("/<uuid:conversation_id>/messages")
class Messages(MethodView):
    @blp.doc(operationId="listMessages")
    @blp.arguments(MessageListArgs, location="query")
    @blp.response(200, MessageListSchema)
    @documents_errors(blp, 401, 404, 422)
    def get(self, args: dict[str, Any], conversation_id: uuid.UUID) -> Any:
        """A conversation's messages in their order: the latest `limit`, those before the place `before`, or those
        after the place `after` (what you have not shown yet)."""
        return {"items": messages.page(db_session(), current_actor(), conversation_id, **args)}

    @idempotent(blp, never_stored=("body", "html"))
    @blp.doc(operationId="sendMessage")
    @blp.arguments(MessageInputSchema, example={"body": "Could we look at *my outline* first?"})
    @blp.response(201, MessageSchema, example=EXAMPLE_MESSAGE)
    @documents_errors(blp, 400, 401, 403, 404, 409, 422, 429)
    def post(self, body: dict[str, Any], conversation_id: uuid.UUID) -> Any:
        """Write a message (up to 4,000 characters of Markdown), which may point to a session, a booking or a goal
        of yours; its people are told at once (`message.created`, which carries no words). With an
        `Idempotency-Key`, a retry answers the first message (without its words: read them from the list). 429
        past the writer's `MESSAGE_RATE_LIMIT`, or the conversation's `CONVERSATION_RATE_LIMIT` (all its people
        together; counted only for one who takes part in it)."""
        db, actor = db_session(), current_actor()
        limit_messages(str(actor.user_id))
        # Its people only count against the conversation (404 first for anyone else), and before its lock is
        # taken: no writer waits on another's round trip to Redis.
        conversations.load(db, actor, conversation_id)
        limit_conversation_messages(str(conversation_id))
        return messages.send(db, actor, conversation_id, **body)


@blp.route("/<uuid:conversation_id>/messages/<uuid:message_id>")
class MessageItem(MethodView):
    @blp.doc(operationId="editMessage")
    @blp.arguments(MessageEditSchema, example={"body": "Could we look at the outline first?"})
    @blp.response(200, MessageSchema, example=EXAMPLE_MESSAGE)
    @documents_errors(blp, 400, 401, 403, 404, 422)
    def patch(self, body: dict[str, Any], conversation_id: uuid.UUID, message_id: uuid.UUID) -> Any:
        """Change your message within 15 minutes of writing it; it reads as edited."""
        return messages.edit(db_session(), current_actor(), conversation_id, message_id, **body)

    @blp.doc(operationId="deleteMessage")
    @blp.response(204)
    @documents_errors(blp, 400, 401, 403, 404)
    def delete(self, conversation_id: uuid.UUID, message_id: uuid.UUID) -> Any:
        """Delete your message: its words are gone everywhere; its place stays, marked deleted."""
        messages.delete(db_session(), current_actor(), conversation_id, message_id)
        return ""


@blp.route("/<uuid:conversation_id>/read")
class Read(MethodView):
    @blp.doc(operationId="markConversationRead")
    @blp.arguments(ReadSchema, required=False, example={"seq": 7})
    @blp.response(200, ReadStateSchema)
    @documents_errors(blp, 401, 404, 422)
    def post(self, body: dict[str, Any], conversation_id: uuid.UUID) -> Any:
        """You have read the conversation up to a place (its last message if none)."""
        return {"seq": messages.read_up_to(db_session(), current_actor(), conversation_id, (body or {}).get("seq"))}


@blp.route("/<uuid:conversation_id>/mute")
class MuteItem(MethodView):
    @blp.doc(operationId="muteConversation")
    @blp.response(200, ConversationSchema)
    @documents_errors(blp, 401, 404)
    def post(self, conversation_id: uuid.UUID) -> Any:
        """Mute a conversation: it stays readable and in your list, but its messages are not emailed to you nor
        counted in your unread messages."""
        db, actor = db_session(), current_actor()
        messages.mute(db, actor, conversation_id, muted=True)
        return conversations.listed(db, actor, only=conversation_id, asked=asked_locale())[0]

    @blp.doc(operationId="unmuteConversation")
    @blp.response(200, ConversationSchema)
    @documents_errors(blp, 401, 404)
    def delete(self, conversation_id: uuid.UUID) -> Any:
        """Hear a muted conversation again."""
        db, actor = db_session(), current_actor()
        messages.mute(db, actor, conversation_id, muted=False)
        return conversations.listed(db, actor, only=conversation_id, asked=asked_locale())[0]


@blp.route("/<uuid:conversation_id>/block")
class BlockItem(MethodView):
    @blp.doc(operationId="blockPerson")
    @blp.response(200, ConversationSchema)
    @documents_errors(blp, 400, 401, 404)
    def post(self, conversation_id: uuid.UUID) -> Any:
        """Block the other person of this conversation: no new message goes between you, either way; it stays
        readable, and your bookings and pairings stand. It is private (no event, no webhook); where you are paired
        in a programme, its coordinators are told that you stopped messaging. 400 in a conversation with a
        programme's coordinators."""
        db, actor = db_session(), current_actor()
        safety.block(db, actor, conversation_id)
        return conversations.listed(db, actor, only=conversation_id, asked=asked_locale())[0]

    @blp.doc(operationId="unblockPerson")
    @blp.response(200, ConversationSchema)
    @documents_errors(blp, 400, 401, 404)
    def delete(self, conversation_id: uuid.UUID) -> Any:
        """Take back your block: you may write to each other again (unless they blocked you)."""
        db, actor = db_session(), current_actor()
        safety.unblock(db, actor, conversation_id)
        return conversations.listed(db, actor, only=conversation_id, asked=asked_locale())[0]


class ExportedMessageSchema(Schema):
    seq = fields.Integer()
    from_ = fields.String(attribute="from", data_key="from", metadata={
        "description": "Its writer's name, or \"A deleted account\"."})
    mine = fields.Boolean()
    written_at = fields.String()
    edited_at = fields.String(allow_none=True)
    deleted = fields.Boolean()
    text = fields.String(allow_none=True, metadata={"description": "As written (Markdown); none once deleted."})
    points_to = fields.Dict(allow_none=True)


class ExportedConversationSchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    with_ = fields.String(attribute="with", data_key="with", metadata={
        "description": "The other person, the coordinators, or the group session."})
    programme_id = fields.UUID(allow_none=True)
    messages = fields.List(fields.Nested(ExportedMessageSchema))


class ExportSchema(Schema):
    exported_at = fields.String()
    complete = fields.Boolean(metadata={
        "description": f"False when it holds only the latest {safety.MAX_EXPORTED_MESSAGES:,} messages."})
    conversations = fields.List(fields.Nested(ExportedConversationSchema))


@blp.route("/export")
class Export(MethodView):
    @blp.doc(operationId="downloadConversations")
    @blp.response(200, ExportSchema)
    @documents_errors(blp, 401)
    def get(self) -> Any:
        """Your conversations to keep: every one you take part in, each message you may read in order, as JSON (the
        web app saves it as a file)."""
        return safety.export(db_session(), current_actor())
