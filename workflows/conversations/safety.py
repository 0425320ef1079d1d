"""Keeping one's conversations safe and one's own: blocking a person, and taking one's conversations away.

A block is private to the person who made it: no event, no webhook, nothing the blocked person is told but that no
new message goes between them (either way: 403 when either writes); their conversation stays readable to both, and
their bookings and pairings stand. Where the two are paired in a programme, its coordinators are told (an inbox
notification, as a coordinator would want to know why a pair stopped talking), without the words of either.
Unblocking lets them write again.

The download (:func:`export`) is every conversation one takes part in now, with every message one may read, as
JSON: the words as written, deleted messages as their places, a deleted account's as "A deleted account".
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import Block, Message, Pairing, PairingStatus, Programme, ProgrammeCoordinator, User
from workflows import wording
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.conversations import conversations
from workflows.conversations.messages import DELETED_ACCOUNT
from workflows.errors import BusinessRuleViolation
from workflows.inbox import notify_user
from workflows.people import display_names

log = structlog.get_logger(__name__)

BLOCKED_TYPE = "conversation.blocked"
BLOCKED = wording.notice("conversation.blocked", "A pair stopped messaging", (
    "{blocker} blocked {blocked} in the service's messages, in {programme}: no new message goes between them. Their "
    "pairing and its sessions stand."))
MAX_EXPORTED_MESSAGES = 50_000  # a download holds this many at most, the latest (it says so when cut)


def _other(db: Session, actor: Actor, conversation_id: uuid.UUID) -> uuid.UUID:
    conversation = conversations.load(db, actor, conversation_id)
    other = conversations.other_of(conversation, actor.user_id)
    if other is None:
        raise BusinessRuleViolation("only a conversation between two people blocks one of them")
    return other


def _tell_coordinators(db: Session, blocker: uuid.UUID, blocked: uuid.UUID) -> int:
    """The coordinators of each programme where the two are paired (a pairing not ended) are told; how many."""
    pairs = [(blocker, conversations.mentor_of(db, blocked)), (blocked, conversations.mentor_of(db, blocker))]
    programmes = set()
    for mentee, mentor in pairs:
        if mentor is not None:
            programmes |= set(db.scalars(select(Pairing.programme_id).where(
                Pairing.mentee_user_id == mentee, Pairing.mentor_profile_id == mentor,
                Pairing.status != PairingStatus.ENDED)))
    names = display_names(db, [blocker, blocked])
    told = 0
    for programme_id, programme in db.execute(select(Programme.id, Programme.name).where(
            Programme.id.in_(programmes))).all():
        for coordinator in db.scalars(select(ProgrammeCoordinator.user_id).where(
                ProgrammeCoordinator.programme_id == programme_id)):
            notify_user(db, coordinator, type_=BLOCKED_TYPE, said=BLOCKED,
                        words={"blocker": names.get(blocker, DELETED_ACCOUNT),
                               "blocked": names.get(blocked, DELETED_ACCOUNT), "programme": wording.quoted(programme)},
                        data={"link": f"#/programmes/{programme_id}"})
            told += 1
    return told


def block(db: Session, actor: Actor, conversation_id: uuid.UUID) -> None:
    """Block the conversation's other person (400 in a programme's conversation with its coordinators; 404 for one
    the caller takes no part in). Blocking again changes nothing."""
    other = _other(db, actor, conversation_id)
    made = db.execute(insert(Block).values(blocker_user_id=actor.user_id, blocked_user_id=other)
                      .on_conflict_do_nothing().returning(Block.blocker_user_id)).scalar_one_or_none()
    if made is not None:
        told = _tell_coordinators(db, actor.user_id, other)
        log.info("conversation.blocked", conversation_id=str(conversation_id), coordinators_told=told)


def unblock(db: Session, actor: Actor, conversation_id: uuid.UUID) -> None:
    """Take back one's block of the conversation's other person; they may write to each other again (unless they
    blocked the caller)."""
    other = _other(db, actor, conversation_id)
    db.execute(delete(Block).where(Block.blocker_user_id == actor.user_id, Block.blocked_user_id == other))


def export(db: Session, actor: Actor) -> dict[str, Any]:
    """Every conversation the caller takes part in, with its messages in order, as one JSON document."""
    listed = conversations.listed(db, actor, limit=None)
    ids = [one.id for one in listed]
    rows = db.execute(select(Message, User.display_name).outerjoin(User, User.id == Message.sender_user_id)
                      .where(Message.conversation_id.in_(ids)).order_by(Message.created_at.desc(), Message.id)
                      .limit(MAX_EXPORTED_MESSAGES)).all() if ids else []
    by_conversation: dict[uuid.UUID, list[dict[str, Any]]] = {one: [] for one in ids}
    for message, name in reversed(rows):
        by_conversation[message.conversation_id].append({
            "seq": message.seq, "from": name or DELETED_ACCOUNT, "mine": message.sender_user_id == actor.user_id,
            "written_at": _iso(message.created_at), "edited_at": _iso(message.edited_at),
            "deleted": message.deleted_at is not None, "text": message.body,
            "points_to": {"kind": message.points_to_kind.value, "id": str(message.points_to_id)}
            if message.points_to_kind and message.points_to_id else None})
    return {"exported_at": _iso(utcnow()), "complete": len(rows) < MAX_EXPORTED_MESSAGES,
            "conversations": [{"id": str(one.id), "kind": one.kind.value, "with": one.title,
                               "programme_id": str(one.programme_id) if one.programme_id else None,
                               "messages": by_conversation[one.id]} for one in listed]}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
