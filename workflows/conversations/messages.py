"""Messages: written, edited, deleted and read in a conversation, each in the writer's transaction with its event.

A message takes the next place (``seq``) of its conversation under the conversation's row lock, so two people
writing at once are numbered in the order their messages commit and every screen shows one order. Its event
(``message.created``, ``.edited``, ``.deleted``) names the message and its people, never its words: the people read
those with their own token. Its writer may change it for ``EDIT_WITHIN`` (marked edited) and delete it at any time:
a deleted message keeps its place, without its words. How far each person has read is one number per
conversation; their own messages count as read. A person may mute a conversation: it stays readable and listed, and
its messages are neither emailed to them nor counted in their menu.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Uuid, bindparam, exists, func, or_, select
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    Booking,
    Conversation,
    ConversationRead,
    MentorProfile,
    MentorshipSession,
    Message,
    Pairing,
    PairingGoal,
    PointsTo,
    ProgrammeCoordinator,
    User,
)
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.conversation_payloads import MessagePayload
from workflows.conversations import conversations, text
from workflows.errors import BusinessRuleViolation, Forbidden, NotFound
from workflows.events import EventType, record

EDIT_WITHIN = timedelta(minutes=15)
DELETED_ACCOUNT = "A deleted account"


@dataclass(frozen=True)
class MessageView:
    """A message as its conversation's people read it: its source (for its writer to edit) and its safe HTML; none
    of either once deleted."""

    message: Message
    sender_name: str

    @property
    def html(self) -> str | None:
        return text.html(self.message.body) if self.message.body is not None else None

    def __getattr__(self, name: str) -> object:
        return getattr(self.message, name)


def message_payload(conversation: Conversation, message: Message, people: list[uuid.UUID]) -> MessagePayload:
    return {"id": str(message.id), "conversation_id": str(conversation.id),
            "conversation_kind": conversation.kind.value,
            "programme_id": str(conversation.programme_id) if conversation.programme_id else None,
            "seq": message.seq, "sender_user_id": str(message.sender_user_id) if message.sender_user_id else None,
            "points_to_kind": message.points_to_kind.value if message.points_to_kind else None,
            "points_to_id": str(message.points_to_id) if message.points_to_id else None,
            "created_at": message.created_at.isoformat(),
            "edited_at": message.edited_at.isoformat() if message.edited_at else None,
            "deleted": message.deleted_at is not None, "member_user_ids": [str(uid) for uid in people]}


def _record(db: Session, event_type: EventType, conversation: Conversation, message: Message, actor: Actor, *,
            people: list[uuid.UUID] | None = None) -> None:
    """The message's event, naming its conversation's people of now (``people``, when the caller read them)."""
    record(db, event_type, message_payload(
        conversation, message, conversations.members(db, conversation) if people is None else people),
        actor=str(actor))


def _check_points_to(db: Session, actor: Actor, kind: PointsTo, target: uuid.UUID) -> None:
    """400 unless the session, booking or goal is one the writer takes part in (or coordinates, for a goal)."""
    mine = select(MentorProfile.id).where(MentorProfile.user_id == actor.user_id).scalar_subquery()
    if kind == PointsTo.BOOKING:
        found = exists().where(Booking.id == target, or_(Booking.mentee_user_id == actor.user_id,
                                                         Booking.mentor_profile_id == mine))
    elif kind == PointsTo.SESSION:
        found = exists().where(MentorshipSession.id == target, or_(MentorshipSession.mentee_user_id == actor.user_id,
                                                                   MentorshipSession.mentor_profile_id == mine))
    else:
        coordinated = select(ProgrammeCoordinator.programme_id).where(ProgrammeCoordinator.user_id == actor.user_id)
        found = exists().where(PairingGoal.id == target, Pairing.id == PairingGoal.pairing_id, or_(
            Pairing.mentee_user_id == actor.user_id, Pairing.mentor_profile_id == mine,
            Pairing.programme_id.in_(coordinated)))
    if not db.scalar(select(found)):
        raise BusinessRuleViolation("no {kind} of yours has this id", words={"kind": kind.value}, field="points_to_id")


def _mark_read(db: Session, conversation_id: uuid.UUID, user_id: uuid.UUID, seq: int) -> None:
    """How far the user has read: up to ``seq``, never back."""
    statement = insert(ConversationRead).values(conversation_id=conversation_id, user_id=user_id, seq=seq)
    db.execute(statement.on_conflict_do_update(
        index_elements=["conversation_id", "user_id"],
        set_={"seq": func.greatest(ConversationRead.seq, statement.excluded.seq), "read_at": func.now()}))


# The message at the conversation's next place, the writer's read state past it, and the writer's name, in one
# statement (its time the commits' order, the conversation locked already); written once, as SQL, as it runs on
# every message.
_WRITE = sql("""
    WITH next_place AS (
        UPDATE conversations SET last_seq = last_seq + 1, last_message_at = clock_timestamp()
        WHERE id = :conversation RETURNING last_seq, last_message_at),
    read_mark AS (
        INSERT INTO conversation_reads (conversation_id, user_id, seq)
        SELECT :conversation, :sender, last_seq FROM next_place
        ON CONFLICT (conversation_id, user_id)
        DO UPDATE SET seq = greatest(conversation_reads.seq, excluded.seq), read_at = now())
    INSERT INTO messages (id, conversation_id, seq, sender_user_id, body, points_to_kind, points_to_id, created_at)
    SELECT :id, :conversation, last_seq, :sender, :body, :points_to_kind, :points_to_id, last_message_at
    FROM next_place
    RETURNING seq, created_at, (SELECT display_name FROM users WHERE id = :sender)
""").bindparams(bindparam("conversation", type_=Uuid), bindparam("sender", type_=Uuid), bindparam("id", type_=Uuid),
                bindparam("points_to_id", type_=Uuid))


def _write(db: Session, conversation: Conversation, sender: uuid.UUID, body: str, *, points_to_kind: PointsTo | None,
           points_to_id: uuid.UUID | None) -> tuple[Message, str]:
    """:data:`_WRITE`: the message written, and its writer's name."""
    message_id = uuid.uuid4()
    seq, at, name = db.execute(_WRITE, {
        "conversation": conversation.id, "sender": sender, "id": message_id, "body": body,
        "points_to_kind": points_to_kind.value if points_to_kind else None, "points_to_id": points_to_id}).one()
    set_committed_value(conversation, "last_seq", seq)
    set_committed_value(conversation, "last_message_at", at)
    return Message(id=message_id, conversation_id=conversation.id, seq=seq, sender_user_id=sender, body=body,
                   points_to_kind=points_to_kind, points_to_id=points_to_id, created_at=at), name or DELETED_ACCOUNT


def _name(db: Session, user_id: uuid.UUID | None) -> str:
    return (db.scalar(select(User.display_name).where(User.id == user_id)) if user_id else None) or DELETED_ACCOUNT


def send(db: Session, actor: Actor, conversation_id: uuid.UUID, *, body: str, points_to_kind: PointsTo | None = None,
         points_to_id: uuid.UUID | None = None) -> MessageView:
    """Write a message in a conversation the caller takes part in (404 else; 403 for a participant who left its
    programme): its next place, its event, and the writer's read state past it."""
    kept = text.source(body)
    conversation, people = conversations.load_to_write(db, actor, conversation_id)
    if (points_to_kind is None) != (points_to_id is None):
        raise BusinessRuleViolation("a message points to a kind and an id, or to nothing", field="points_to_id")
    if points_to_kind is not None and points_to_id is not None:
        _check_points_to(db, actor, points_to_kind, points_to_id)
    message, name = _write(db, conversation, actor.user_id, kept, points_to_kind=points_to_kind,
                           points_to_id=points_to_id)
    _record(db, EventType.MESSAGE_CREATED, conversation, message, actor, people=people)
    return MessageView(message, name)


def _own(db: Session, actor: Actor, conversation_id: uuid.UUID, message_id: uuid.UUID
         ) -> tuple[Conversation, Message]:
    conversation = conversations.load(db, actor, conversation_id, lock=True)
    message = db.scalar(select(Message).where(Message.id == message_id, Message.conversation_id == conversation.id))
    if message is None:
        raise NotFound("message not found")
    if message.sender_user_id != actor.user_id:
        raise Forbidden("only its writer changes a message")
    if message.deleted_at is not None:
        raise BusinessRuleViolation("this message was deleted")
    return conversation, message


def edit(db: Session, actor: Actor, conversation_id: uuid.UUID, message_id: uuid.UUID, *, body: str,
         now: datetime | None = None) -> MessageView:
    """Change one's message within ``EDIT_WITHIN`` of writing it (400 after); it reads as edited."""
    kept = text.source(body)
    now = now or utcnow()
    conversation, message = _own(db, actor, conversation_id, message_id)
    if now - message.created_at > EDIT_WITHIN:
        raise BusinessRuleViolation("a message is changed within {minutes} minutes of writing it",
                                    words={"minutes": int(EDIT_WITHIN.total_seconds()) // 60})
    message.body, message.edited_at = kept, now
    db.flush()
    _record(db, EventType.MESSAGE_EDITED, conversation, message, actor)
    return MessageView(message, _name(db, actor.user_id))


def delete(db: Session, actor: Actor, conversation_id: uuid.UUID, message_id: uuid.UUID, *,
           now: datetime | None = None) -> None:
    """Delete one's message: its words are gone, its place stays (a tombstone)."""
    conversation, message = _own(db, actor, conversation_id, message_id)
    message.body, message.deleted_at = None, now or utcnow()
    message.points_to_kind = message.points_to_id = None
    db.flush()
    _record(db, EventType.MESSAGE_DELETED, conversation, message, actor)


def page(db: Session, actor: Actor, conversation_id: uuid.UUID, *, before: int | None = None,
         after: int | None = None, limit: int = 20) -> list[MessageView]:
    """A conversation's messages in their order: the latest ``limit`` (before the place ``before``, for older
    ones), or those after the place ``after`` (what a screen has not shown yet)."""
    conversation = conversations.load(db, actor, conversation_id)
    return latest(db, conversation.id, before=before, after=after, limit=limit)


def latest(db: Session, conversation_id: uuid.UUID, *, before: int | None = None, after: int | None = None,
           limit: int = 20) -> list[MessageView]:
    """:func:`page` of a conversation whose reader was checked already (a report's looker, say)."""
    query = select(Message, User.display_name).outerjoin(User, User.id == Message.sender_user_id).where(
        Message.conversation_id == conversation_id)
    if after is not None:
        rows = db.execute(query.where(Message.seq > after).order_by(Message.seq).limit(limit)).all()
    else:
        if before is not None:
            query = query.where(Message.seq < before)
        rows = list(reversed(db.execute(query.order_by(Message.seq.desc()).limit(limit)).all()))
    return [MessageView(row[0], row[1] or DELETED_ACCOUNT) for row in rows]


def read_up_to(db: Session, actor: Actor, conversation_id: uuid.UUID, seq: int | None) -> int:
    """The caller has read the conversation up to ``seq`` (its last message if none, never past it); how far."""
    conversation = conversations.load(db, actor, conversation_id)
    upto = conversation.last_seq if seq is None else max(0, min(seq, conversation.last_seq))
    _mark_read(db, conversation.id, actor.user_id, upto)
    return upto


def mute(db: Session, actor: Actor, conversation_id: uuid.UUID, *, muted: bool) -> None:
    """Mute the conversation for the caller (no email of it, not counted in their menu; an email owed is
    dropped), or hear it again."""
    conversation = conversations.load(db, actor, conversation_id)
    statement = insert(ConversationRead).values(conversation_id=conversation.id, user_id=actor.user_id, seq=0,
                                                muted_at=utcnow() if muted else None)
    changed: dict[str, object] = {"muted_at": statement.excluded.muted_at}
    if muted:
        changed["email_due_at"] = None
    db.execute(statement.on_conflict_do_update(index_elements=["conversation_id", "user_id"], set_=changed))
