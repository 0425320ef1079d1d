"""The payload of a conversation's events (``message.*``), as the outbox stores it, webhooks carry it and live streams
show it; built by ``workflows.conversations.messages``."""

from __future__ import annotations

from typing import TypedDict

MEMBERS_KEY = "member_user_ids"  # the people of a conversation, where its events name them (participants())


class MessagePayload(TypedDict):
    """``message.*``: a message written, edited or deleted in a conversation, told to its people (``member_user_ids``,
    as it stood then). Its words are never in an event (nor in the outbox, a live replay or a webhook delivery): the
    people read them with their own token (``GET /conversations/{conversation_id}/messages``). ``seq``: its place in
    the conversation; what it points to (``points_to_kind``, ``points_to_id``)."""

    id: str
    conversation_id: str
    conversation_kind: str
    programme_id: str | None
    seq: int
    sender_user_id: str | None
    points_to_kind: str | None
    points_to_id: str | None
    created_at: str
    edited_at: str | None
    deleted: bool
    member_user_ids: list[str]


class AnnouncementPayload(TypedDict):
    """``announcement.posted``: a programme's coordinators' announcement (``programme_id``; none for an admin's notice
    to everyone) to its ``audience``, told to its coordinators (``coordinator_user_ids``) as the event; each
    recipient is told by a notification of it (and a live frame naming them alone). Its words are not in the event:
    read them with a token (``GET /announcements/{id}``)."""

    id: str
    programme_id: str | None
    audience: str
    author_user_id: str | None
    created_at: str
    coordinator_user_ids: list[str]


class ReportPayload(TypedDict):
    """``conversation.reported``: someone in a conversation reported it (or one of its messages, ``message_id``) for
    a ``reason``, to the coordinators of its programme (``programme_id``, ``coordinator_user_ids``) or, with no
    programme, to the administrators. Neither the report's words nor the conversation's are in the event: those who
    look after it read them with their token (``GET /conversation-reports/{id}``), and each read is audited."""

    id: str
    conversation_id: str
    message_id: str | None
    programme_id: str | None
    reason: str
    reporter_user_id: str | None
    created_at: str
    coordinator_user_ids: list[str]
