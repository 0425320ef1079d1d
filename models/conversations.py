"""Conversations: the people who have a reason to talk, their messages and how far each has read
(``workflows.conversations``).

A conversation is between a mentor and a mentee (``pair``: the two accounts, lower id first, one conversation
between two people whatever brought them together), between a programme's participant and the programme's
coordinators (``desk``: one per participant and programme; the coordinators of the day take part), or among a group
session's mentor and the mentees who hold its seats (``group``: one per group session). Its messages are
numbered in the order they were written (``seq``, under the conversation's row lock); a deleted message keeps its
place, without its words.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, trigram_index
from models.enums import check_in, stored_as_text

MAX_MESSAGE = 4000


class ConversationKind(StrEnum):
    PAIR = "pair"
    DESK = "desk"
    GROUP = "group"


class PointsTo(StrEnum):
    """What a message may point to."""

    SESSION = "session"
    BOOKING = "booking"
    GOAL = "goal"


class Conversation(IdMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(check_in("kind", ConversationKind), name="kind_values"),
        CheckConstraint("kind <> 'pair' OR (first_user_id IS NOT NULL AND second_user_id IS NOT NULL "
                        "AND first_user_id < second_user_id AND programme_id IS NULL)", name="pair_of_two"),
        CheckConstraint("kind <> 'desk' OR (programme_id IS NOT NULL AND first_user_id IS NOT NULL "
                        "AND second_user_id IS NULL)", name="desk_of_a_participant"),
        CheckConstraint("(kind = 'group') = (session_id IS NOT NULL) AND (kind <> 'group' OR "
                        "(first_user_id IS NULL AND second_user_id IS NULL))", name="group_of_a_session"),
        # One conversation between two people; one desk per participant of a programme.
        Index("uq_conversations_pair", "first_user_id", "second_user_id", unique=True,
              postgresql_where=text("kind = 'pair'")),
        Index("uq_conversations_desk", "programme_id", "first_user_id", unique=True,
              postgresql_where=text("kind = 'desk'")),
        Index("uq_conversations_group", "session_id", unique=True, postgresql_where=text("kind = 'group'")),
        Index("ix_conversations_second_user_id", "second_user_id"),
    )

    kind: Mapped[ConversationKind] = mapped_column(stored_as_text(ConversationKind))
    # A pair's two people (lower id first); a desk's participant (first) and programme; a group session.
    first_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    second_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    programme_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    last_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_message_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Message(IdMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        CheckConstraint(f"body IS NULL OR length(body) BETWEEN 1 AND {MAX_MESSAGE}", name="body_length"),
        CheckConstraint("(deleted_at IS NULL) = (body IS NOT NULL)", name="deleted_has_no_body"),
        CheckConstraint("(points_to_kind IS NULL) = (points_to_id IS NULL)", name="points_to_both"),
        CheckConstraint(f"points_to_kind IS NULL OR {check_in('points_to_kind', PointsTo)}", name="points_to_values"),
        trigram_index("ix_messages_body_trgm", "body"),
        Index("ix_messages_sender_user_id", "sender_user_id"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    # Null once the account that wrote it is deleted: "a deleted account".
    sender_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str | None] = mapped_column(Text)  # the Markdown source; null once deleted
    points_to_kind: Mapped[PointsTo | None] = mapped_column(stored_as_text(PointsTo))
    points_to_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class ConversationRead(Base):
    """How far one person has read one conversation: every message up to ``seq`` (their own count as read); and when
    its unread messages are emailed to them (``email_due_at``: a while after the first one they have not read, never
    sooner than an hour after the last email, ``emailed_at``); and whether they muted it (``muted_at``: it stays
    readable and listed, its messages are neither emailed to them nor counted in their menu)."""

    __tablename__ = "conversation_reads"
    __table_args__ = (Index("ix_conversation_reads_email_due", "email_due_at",
                            postgresql_where=text("email_due_at IS NOT NULL")),)

    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"),
                                                       primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    read_at: Mapped[datetime] = mapped_column(server_default=func.now())
    email_due_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
    muted_at: Mapped[datetime | None]


class Audience(StrEnum):
    """Who an announcement is to: a programme's participants (all, its mentors, its mentees, or the people of its
    pairings not yet active); a platform notice is to everyone."""

    EVERYONE = "everyone"
    MENTORS = "mentors"
    MENTEES = "mentees"
    NOT_ACTIVE = "not_active"


MAX_ANNOUNCEMENT_TITLE = 200


class Announcement(IdMixin, Base):
    """A programme's coordinators' word to its people, or (no programme) an admin's notice to everyone: each recipient
    is told in their inbox (a notification of its event, once each), live and by email as they chose; ``recipients``
    is how many, once its workers told them all (``delivered_at``)."""

    __tablename__ = "announcements"
    __table_args__ = (
        CheckConstraint(check_in("audience", Audience), name="audience_values"),
        CheckConstraint("programme_id IS NOT NULL OR audience = 'everyone'", name="platform_to_everyone"),
        CheckConstraint(f"length(title) BETWEEN 1 AND {MAX_ANNOUNCEMENT_TITLE}", name="title_length"),
        CheckConstraint(f"length(body) BETWEEN 1 AND {MAX_MESSAGE}", name="body_length"),
        Index("ix_announcements_programme_created", "programme_id", "created_at"),
    )

    programme_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    audience: Mapped[Audience] = mapped_column(stored_as_text(Audience))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)  # Markdown source, as a message's
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    recipients: Mapped[int | None]
    delivered_at: Mapped[datetime | None]


class Block(Base):
    """One person blocked another: no new message between them either way, in their conversation (it stays readable;
    their bookings and pairings stand)."""

    __tablename__ = "blocks"
    __table_args__ = (CheckConstraint("blocker_user_id <> blocked_user_id", name="not_oneself"),
                      Index("ix_blocks_blocked_user_id", "blocked_user_id"))

    blocker_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    blocked_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ReportReason(StrEnum):
    HARASSMENT = "harassment"
    SPAM = "spam"
    INAPPROPRIATE = "inappropriate"
    SAFETY = "safety"  # someone may be at risk
    OTHER = "other"


MAX_REPORT_WORDS = 1000


class ConversationReport(IdMixin, Base):
    """Someone in a conversation reported it (or one message of it) to those who look after it: the coordinators of
    its programme (``programme_id``), or the platform's administrators (none). They may then read that conversation,
    each read written in the audit trail."""

    __tablename__ = "conversation_reports"
    __table_args__ = (
        CheckConstraint(check_in("reason", ReportReason), name="reason_values"),
        CheckConstraint(f"length(words) <= {MAX_REPORT_WORDS}", name="words_length"),
        Index("ix_conversation_reports_conversation", "conversation_id"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    reporter_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    programme_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("programmes.id", ondelete="SET NULL"))
    reason: Mapped[ReportReason] = mapped_column(stored_as_text(ReportReason))
    words: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
