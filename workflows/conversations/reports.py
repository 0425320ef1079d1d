"""Reporting a conversation: anyone in one reports it (or one of its messages) with a reason and words, to those who
look after it: the coordinators of its programme (a desk's; a pair's, the programme where the two are paired), else
the platform's administrators. They are told (a notification, a live frame, ``conversation.reported``, which carries
no words) and may then read that conversation, and only that one, from the report: every read is written in the
audit trail, naming who looked and why (the report).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from models import (
    Conversation,
    ConversationKind,
    ConversationReport,
    MentorshipSession,
    Message,
    Pairing,
    PairingStatus,
    ProgrammeCoordinator,
    ReportReason,
    User,
)
from models.conversations import MAX_REPORT_WORDS
from workflows import access, wording
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.conversation_payloads import ReportPayload
from workflows.conversations import conversations, messages, text
from workflows.errors import InvalidInput, NotFound
from workflows.events import EventType, record
from workflows.inbox import notify_user
from workflows.language import text as declare
from workflows.people import display_names

log = structlog.get_logger(__name__)

READ_ACTION = "conversation.read_reported"
MAX_LISTED = 100
SAID = {ReportReason.HARASSMENT: declare("report.reason.harassment", "harassment"),
        ReportReason.SPAM: declare("report.reason.spam", "spam"),
        ReportReason.INAPPROPRIATE: declare("report.reason.inappropriate", "something inappropriate"),
        ReportReason.SAFETY: declare("report.reason.safety", "someone's safety"),
        ReportReason.OTHER: declare("report.reason.other", "another reason")}
REPORTED = wording.notice("conversation.reported", "A conversation was reported", (
    "{reporter} reported a conversation for {reason}. Read it from the report: your reading is recorded."))


def _programme_of(db: Session, conversation: Conversation) -> uuid.UUID | None:
    """Whose programme looks after the conversation: a desk's own, a group session's (if in one); a pair's, the
    latest where the two are paired."""
    if conversation.kind == ConversationKind.DESK:
        return conversation.programme_id
    if conversation.kind == ConversationKind.GROUP:
        return db.scalar(select(MentorshipSession.programme_id).where(
            MentorshipSession.id == conversation.session_id))
    one, other = conversation.first_user_id, conversation.second_user_id
    if one is None or other is None:
        return None
    mentors = {user: conversations.mentor_of(db, user) for user in (one, other)}
    pairs = [(Pairing.mentee_user_id == mentee) & (Pairing.mentor_profile_id == mentors[mentor])
             for mentee, mentor in ((one, other), (other, one)) if mentors[mentor] is not None]
    if not pairs:
        return None
    return db.scalar(select(Pairing.programme_id).where(or_(*pairs), Pairing.status != PairingStatus.ENDED)
                     .order_by(Pairing.created_at.desc()).limit(1))


def _lookers(db: Session, programme_id: uuid.UUID | None) -> list[uuid.UUID]:
    """Who looks after a report: the programme's coordinators, or every administrator."""
    if programme_id is not None:
        return list(db.scalars(select(ProgrammeCoordinator.user_id).where(
            ProgrammeCoordinator.programme_id == programme_id).order_by(ProgrammeCoordinator.user_id)))
    return list(db.scalars(select(User.id).where(User.is_admin.is_(True), User.deleted_at.is_(None))
                           .order_by(User.id)))


def report(db: Session, actor: Actor, conversation_id: uuid.UUID, *, reason: ReportReason, words: str = "",
           message_id: uuid.UUID | None = None) -> ConversationReport:
    """Report a conversation one takes part in (404 else), or one of its messages; its lookers are told."""
    conversation = conversations.load(db, actor, conversation_id)
    kept = " ".join(text.source(words).split("\n")) if words.strip() else ""
    if len(kept) > MAX_REPORT_WORDS:
        raise InvalidInput("a report's words are at most {max_report_words} characters",
                           words={"max_report_words": MAX_REPORT_WORDS}, field="words")
    if message_id is not None and db.scalar(select(Message.id).where(
            Message.id == message_id, Message.conversation_id == conversation.id)) is None:
        raise NotFound("no message of this conversation has this id")
    programme_id = _programme_of(db, conversation)
    made = ConversationReport(id=uuid.uuid4(), conversation_id=conversation.id, message_id=message_id,
                              reporter_user_id=actor.user_id, programme_id=programme_id, reason=reason, words=kept,
                              created_at=utcnow())
    db.add(made)
    db.flush()
    lookers = _lookers(db, programme_id)
    payload: ReportPayload = {
        "id": str(made.id), "conversation_id": str(conversation.id),
        "message_id": str(message_id) if message_id else None,
        "programme_id": str(programme_id) if programme_id else None, "reason": reason.value,
        "reporter_user_id": str(actor.user_id), "created_at": made.created_at.isoformat(),
        "coordinator_user_ids": [str(one) for one in lookers] if programme_id else []}
    event = record(db, EventType.CONVERSATION_REPORTED, payload, actor=str(actor))
    reporter = db.scalar(select(User.display_name).where(User.id == actor.user_id))
    for looker in lookers:
        if looker == actor.user_id:
            continue
        notify_user(db, looker, type_=EventType.CONVERSATION_REPORTED.value, said=REPORTED,
                    words={"reporter": reporter, "reason": wording.phrase(SAID[reason])},
                    data={"link": f"#/reports/{made.id}", "resource": {"id": str(made.id)}}, event_id=event.id)
    log.info("conversation.report_made", report_id=str(made.id), lookers=len(lookers))
    return made


def _looks_after(db: Session, actor: Actor, one: ConversationReport) -> bool:
    if one.programme_id is None:
        return access.is_admin(actor)
    return actor.user_id in _lookers(db, one.programme_id)


@dataclass(frozen=True)
class ReportView:
    report: ConversationReport
    reporter_name: str
    people: list[str]  # the conversation's people, by name
    messages: list[Any]  # its latest messages (``messages.MessageView``), for a looker; none in a list

    def __getattr__(self, name: str) -> object:
        return getattr(self.report, name)


def _people(db: Session, conversation: Conversation) -> list[str]:
    ids = conversations.members(db, conversation)
    names = display_names(db, ids)
    return [names.get(one, messages.DELETED_ACCOUNT) for one in ids]


def listed(db: Session, actor: Actor) -> list[ReportView]:
    """The reports the caller looks after (their programmes'; an administrator's, those of no programme), the latest
    first, without the conversations' words."""
    coordinated = select(ProgrammeCoordinator.programme_id).where(ProgrammeCoordinator.user_id == actor.user_id)
    mine: ColumnElement[bool] = ConversationReport.programme_id.in_(coordinated)
    if access.is_admin(actor):
        mine = or_(mine, ConversationReport.programme_id.is_(None))
    rows = list(db.scalars(select(ConversationReport).where(mine)
                           .order_by(ConversationReport.created_at.desc()).limit(MAX_LISTED)))
    names = display_names(db, [one.reporter_user_id for one in rows])
    return [ReportView(one, names.get(one.reporter_user_id, messages.DELETED_ACCOUNT) if one.reporter_user_id
                       else messages.DELETED_ACCOUNT, [], []) for one in rows]


def read(db: Session, actor: Actor, report_id: uuid.UUID) -> ReportView:
    """A report and its conversation's latest messages, for one who looks after it (404 for anyone else); the read is
    written in the audit trail, naming the reader and the report."""
    one = db.get(ConversationReport, report_id)
    if one is None or not _looks_after(db, actor, one):
        raise NotFound("report not found")
    conversation = db.get_one(Conversation, one.conversation_id)
    access.record_admin_action(db, actor, READ_ACTION, "conversation", conversation.id,
                               reason=f"report {one.id}: {one.reason.value}")
    latest = messages.latest(db, conversation.id, limit=100)
    reporter = db.scalar(select(User.display_name).where(User.id == one.reporter_user_id)) \
        if one.reporter_user_id else None
    return ReportView(one, reporter or messages.DELETED_ACCOUNT, _people(db, conversation), latest)
