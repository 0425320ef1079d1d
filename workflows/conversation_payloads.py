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
