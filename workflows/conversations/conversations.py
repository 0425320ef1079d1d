"""Who talks with whom: the conversations people have a reason for, who takes part in each, and one's list.

A mentor and a mentee have one conversation (``pair``) once they share a booking of any kind (a request, a seat in a
group session, a session's booking) or a pairing, whichever came first and whatever became of it: no one writes to
a stranger (a request to a mentor carries its own note). A programme's participant has one with its coordinators
(``desk``), opened by the participant or by a coordinator, and the coordinators of the day take part in it, so a
coordinator who joins reads what was said before and one who leaves no longer does. A group session has one
(``group``) among its mentor and the mentees who hold its seats now (or whose seats the session's cancellation
ended): one who gives up their seat no longer takes part. Anyone else is told the conversation does not exist (404).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import (
    Block,
    Booking,
    BookingStatus,
    Conversation,
    ConversationKind,
    ConversationRead,
    Listing,
    ListingKind,
    MentorProfile,
    MentorshipSession,
    Message,
    Pairing,
    ParticipantStatus,
    Programme,
    ProgrammeCoordinator,
    ProgrammeParticipant,
    User,
)
from workflows.actors import Actor
from workflows.errors import BusinessRuleViolation, Forbidden, NotFound
from workflows.language import text
from workflows.pagination import contains
from workflows.people import display_names
from workflows.wording import phrase, say

MAX_LISTED = 200  # one's conversations, newest first: a page of them (the search reaches the rest)


def mentor_of(db: Session, user_id: uuid.UUID) -> uuid.UUID | None:
    return db.scalar(select(MentorProfile.id).where(MentorProfile.user_id == user_id))


def _reason_between(db: Session, one: uuid.UUID, other: uuid.UUID) -> bool:
    """Whether one is the other's mentor, or the other way round, in a booking or a pairing."""
    either: list[ColumnElement[bool]] = []
    for mentor_user, mentee_user in ((one, other), (other, one)):
        profile = mentor_of(db, mentor_user)
        if profile is None:
            continue
        either += [exists().where(Booking.mentor_profile_id == profile, Booking.mentee_user_id == mentee_user),
                   exists().where(Pairing.mentor_profile_id == profile, Pairing.mentee_user_id == mentee_user)]
    return bool(either) and bool(db.scalar(select(or_(*either))))


def _coordinates(db: Session, user_id: uuid.UUID, programme_id: uuid.UUID) -> bool:
    return db.scalar(select(exists().where(ProgrammeCoordinator.programme_id == programme_id,
                                           ProgrammeCoordinator.user_id == user_id))) or False


def _take_part(db: Session, user_id: uuid.UUID, programme_id: uuid.UUID) -> bool:
    return db.scalar(select(exists().where(
        ProgrammeParticipant.programme_id == programme_id, ProgrammeParticipant.user_id == user_id,
        ProgrammeParticipant.status == ParticipantStatus.ACTIVE))) or False


#: Each kind's one conversation is found by these columns (its unique index).
_UNIQUE_BY = {ConversationKind.PAIR: ("first_user_id", "second_user_id"),
              ConversationKind.DESK: ("programme_id", "first_user_id"), ConversationKind.GROUP: ("session_id",)}


def _get_or_make(db: Session, kind: ConversationKind, *, first: uuid.UUID | None = None,
                 second: uuid.UUID | None = None, programme_id: uuid.UUID | None = None,
                 session_id: uuid.UUID | None = None) -> Conversation:
    """The one conversation of its kind between them, made if none is (two at once make one)."""
    values = {"first_user_id": first, "second_user_id": second, "programme_id": programme_id,
              "session_id": session_id}
    index = list(_UNIQUE_BY[kind])
    db.execute(insert(Conversation).values(id=uuid.uuid4(), kind=kind, **values)
               .on_conflict_do_nothing(index_elements=index, index_where=Conversation.kind == kind.value))
    return db.scalars(select(Conversation).where(
        Conversation.kind == kind, *(getattr(Conversation, column) == values[column] for column in index))).one()


def open_with(db: Session, actor: Actor, user_id: uuid.UUID | None, *, mentor_profile_id: uuid.UUID | None = None
              ) -> Conversation:
    """The caller's conversation with a mentor or mentee they share a booking or a pairing with (by account, or a
    mentor by profile); 404 for anyone else (who exists is not told)."""
    if user_id is None:
        user_id = db.scalar(select(MentorProfile.user_id).where(MentorProfile.id == mentor_profile_id))
    if user_id is None or user_id == actor.user_id or db.get(User, user_id) is None or \
            not _reason_between(db, actor.user_id, user_id):
        raise NotFound("no one you share a booking or a pairing with has this id")
    first, second = sorted((actor.user_id, user_id))
    return _get_or_make(db, ConversationKind.PAIR, first=first, second=second)


def open_desk(db: Session, actor: Actor, programme_id: uuid.UUID, participant_user_id: uuid.UUID | None
              ) -> Conversation:
    """A participant's conversation with their programme's coordinators: their own (no ``participant_user_id``), or,
    for a coordinator, a participant's. 404 for a programme the caller takes no part in; 400 for one who does not
    take part in it."""
    if participant_user_id is None or participant_user_id == actor.user_id:
        if not _take_part(db, actor.user_id, programme_id):
            raise NotFound("you take no part in this programme")
        return _get_or_make(db, ConversationKind.DESK, first=actor.user_id, programme_id=programme_id)
    if not _coordinates(db, actor.user_id, programme_id):
        raise NotFound("you coordinate no programme with this id")
    if not _take_part(db, participant_user_id, programme_id):
        raise BusinessRuleViolation("this person takes no part in the programme", field="participant_user_id")
    return _get_or_make(db, ConversationKind.DESK, first=participant_user_id, programme_id=programme_id)


def _seat_held() -> ColumnElement[bool]:
    """SQL: a booking that seats its mentee in its group session now (held, or ended by the session's
    cancellation, so its people still read what was said; not one given up before)."""
    return or_(Booking.status == BookingStatus.ACCEPTED, Booking.ended_with_session)


def _group_members(db: Session, session_id: uuid.UUID) -> list[uuid.UUID]:
    mentor = db.scalar(select(MentorProfile.user_id).join(
        MentorshipSession, MentorshipSession.mentor_profile_id == MentorProfile.id).where(
        MentorshipSession.id == session_id))
    seated = db.scalars(select(Booking.mentee_user_id).where(
        Booking.group_session_id == session_id, _seat_held()).order_by(Booking.mentee_user_id))
    return [uid for uid in dict.fromkeys((mentor, *seated)) if uid is not None]


def open_group(db: Session, actor: Actor, session_id: uuid.UUID) -> Conversation:
    """A group session's conversation, for its mentor and the mentees who hold its seats; 404 for anyone else
    (and for a session that is not a group's)."""
    session = db.get(MentorshipSession, session_id)
    if session is None or session.kind != ListingKind.GROUP or actor.user_id not in _group_members(db, session_id):
        raise NotFound("no group session of yours has this id")
    return _get_or_make(db, ConversationKind.GROUP, session_id=session_id)


def members(db: Session, conversation: Conversation) -> list[uuid.UUID]:
    """Who takes part now: a pair's two; a desk's participant and its programme's coordinators; a group session's
    mentor and seated mentees."""
    if conversation.kind == ConversationKind.PAIR:
        return [uid for uid in (conversation.first_user_id, conversation.second_user_id) if uid is not None]
    if conversation.kind == ConversationKind.GROUP:
        return _group_members(db, conversation.session_id) if conversation.session_id else []
    coordinators = db.scalars(select(ProgrammeCoordinator.user_id).where(
        ProgrammeCoordinator.programme_id == conversation.programme_id).order_by(ProgrammeCoordinator.user_id))
    return [uid for uid in (conversation.first_user_id, *coordinators) if uid is not None]


def other_of(conversation: Conversation, user_id: uuid.UUID) -> uuid.UUID | None:
    """A pair's other person (none for a desk, or a deleted account)."""
    if conversation.kind != ConversationKind.PAIR:
        return None
    return conversation.second_user_id if conversation.first_user_id == user_id else conversation.first_user_id


def load_to_write(db: Session, actor: Actor, conversation_id: uuid.UUID) -> tuple[Conversation, list[uuid.UUID]]:
    """The conversation, locked, for the caller to write in, and its people of now (:func:`members`, read once): 404
    unless the caller is one of them; 403 between two people one of whom blocked the other (read with the
    conversation, in one statement), and for a participant of a desk who no longer takes part in its programme (they
    still read it)."""
    one, other = Conversation.first_user_id, Conversation.second_user_id
    blocked = exists().where(or_(and_(Block.blocker_user_id == one, Block.blocked_user_id == other),
                                 and_(Block.blocker_user_id == other, Block.blocked_user_id == one)))
    row = db.execute(select(Conversation, and_(Conversation.kind == ConversationKind.PAIR, blocked))
                     .where(Conversation.id == conversation_id).with_for_update(of=Conversation)).first()
    people = members(db, row[0]) if row is not None else []
    if row is None or actor.user_id not in people:
        raise NotFound("conversation not found")
    conversation = row[0]
    if row[1]:
        raise Forbidden("one of you blocked the other: no new message goes between you")
    if conversation.kind == ConversationKind.DESK and conversation.first_user_id == actor.user_id and \
            conversation.programme_id is not None and not _take_part(db, actor.user_id, conversation.programme_id):
        raise Forbidden("you no longer take part in this programme: its conversation is read-only for you")
    return conversation, people


def load(db: Session, actor: Actor, conversation_id: uuid.UUID, *, lock: bool = False) -> Conversation:
    """The conversation, if the caller takes part in it now (locked, to write a message in turn); 404 else."""
    query = select(Conversation).where(Conversation.id == conversation_id)
    conversation = db.scalar(query.with_for_update() if lock else query)
    if conversation is None or actor.user_id not in members(db, conversation):
        raise NotFound("conversation not found")
    return conversation


def _mine(user_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL: the conversations a user takes part in now."""
    coordinated = select(ProgrammeCoordinator.programme_id).where(ProgrammeCoordinator.user_id == user_id)
    mentoring = select(MentorshipSession.id).join(
        MentorProfile, MentorProfile.id == MentorshipSession.mentor_profile_id).where(MentorProfile.user_id == user_id)
    seated = select(Booking.group_session_id).where(Booking.mentee_user_id == user_id,
                                                    Booking.group_session_id.is_not(None), _seat_held())
    return or_(Conversation.first_user_id == user_id, Conversation.second_user_id == user_id,
               and_(Conversation.kind == ConversationKind.DESK, Conversation.programme_id.in_(coordinated)),
               and_(Conversation.kind == ConversationKind.GROUP,
                    or_(Conversation.session_id.in_(mentoring), Conversation.session_id.in_(seated))))


@dataclass(frozen=True)
class Listed:
    """One of the caller's conversations, as their list shows it."""

    id: uuid.UUID
    kind: ConversationKind
    title: str
    programme_id: uuid.UUID | None
    other_user_id: uuid.UUID | None
    last_message_at: datetime | None
    unread: int
    blocked: str | None = None  # a pair's: "by_you" or "by_them" once either blocked the other
    session_id: uuid.UUID | None = None  # a group session's
    muted: bool = False


# A conversation's title, as its list shows it to each of its people (in their language): the other person's name, a
# group session's listing, a programme's coordinators' desk, or, to them, who wrote to it.
DELETED = text("conversation.title.deleted", "A deleted account")
GROUP = text("conversation.title.group", "The group of {listing}")
A_GROUP_SESSION = text("conversation.title.a_group_session", "a group session")
DESK = text("conversation.title.desk", "The coordinators of {programme}")
A_PROGRAMME = text("conversation.title.a_programme", "a programme")
AT_DESK = text("conversation.title.at_desk", "{person}, of {programme}")
A_PARTICIPANT = text("conversation.title.a_participant", "A participant")


def _title(conversation: Conversation, me: uuid.UUID, names: dict[uuid.UUID, str], programmes: dict[uuid.UUID, str],
           groups: dict[uuid.UUID, str], *, locale: str | None) -> tuple[str, uuid.UUID | None]:
    if conversation.kind == ConversationKind.PAIR:
        other = conversation.second_user_id if conversation.first_user_id == me else conversation.first_user_id
        found = names.get(other) if other else None
        return found or say(DELETED, locale), other
    if conversation.kind == ConversationKind.GROUP:
        listing = groups.get(conversation.session_id) if conversation.session_id else None
        return say(GROUP, locale, listing=listing or phrase(A_GROUP_SESSION)), None
    programme = programmes.get(conversation.programme_id) if conversation.programme_id else None
    if conversation.first_user_id == me:
        return say(DESK, locale, programme=programme or phrase(A_PROGRAMME)), None
    person = names.get(conversation.first_user_id) if conversation.first_user_id else None
    return say(AT_DESK, locale, person=person or phrase(A_PARTICIPANT), programme=programme or phrase(A_PROGRAMME)), \
        conversation.first_user_id


def _blocks(db: Session, me: uuid.UUID, others: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Of these people, those the user blocked ("by_you") or who blocked the user ("by_them")."""
    if not others:
        return {}
    rows = db.execute(select(Block.blocker_user_id, Block.blocked_user_id).where(or_(
        and_(Block.blocker_user_id == me, Block.blocked_user_id.in_(others)),
        and_(Block.blocked_user_id == me, Block.blocker_user_id.in_(others)))))
    found: dict[uuid.UUID, str] = {}
    for blocker, blocked in rows:
        if blocker == me:
            found[blocked] = "by_you"
        else:
            found.setdefault(blocker, "by_them")
    return found


def _unread_by(user_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL: a message others wrote past how far the user read its conversation (deleted ones aside)."""
    read = (select(ConversationRead.seq).where(ConversationRead.conversation_id == Message.conversation_id,
                                               ConversationRead.user_id == user_id).scalar_subquery())
    return and_(Message.seq > func.coalesce(read, 0), Message.deleted_at.is_(None),
                or_(Message.sender_user_id.is_(None), Message.sender_user_id != user_id))


def unread_counts(db: Session, user_id: uuid.UUID, conversation_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Per conversation, the messages others wrote past how far the user read (deleted ones aside)."""
    if not conversation_ids:
        return {}
    rows = db.execute(select(Message.conversation_id, func.count()).where(
        Message.conversation_id.in_(conversation_ids), _unread_by(user_id)).group_by(Message.conversation_id))
    return {row[0]: row[1] for row in rows}


def unread_total(db: Session, actor: Actor) -> int:
    """What the web app's menu counts: the messages waiting for the caller in all their conversations but those
    they muted (one statement)."""
    muted = exists().where(ConversationRead.conversation_id == Conversation.id,
                           ConversationRead.user_id == actor.user_id, ConversationRead.muted_at.is_not(None))
    return db.scalar(select(func.count()).select_from(Message).join(
        Conversation, Conversation.id == Message.conversation_id).where(
        _mine(actor.user_id), _unread_by(actor.user_id), ~muted)) or 0


def listed(db: Session, actor: Actor, *, q: str | None = None, only: uuid.UUID | None = None,
           limit: int | None = MAX_LISTED, asked: str | None = None) -> list[Listed]:
    """The caller's conversations, the latest message first (those with none last), at most ``MAX_LISTED``;
    ``q``: those whose other person or programme is named so, or with a message holding those words (ILIKE, which
    the messages' trigram index serves from three characters on; shorter ones read one's own conversations only);
    ``only``: that one; ``limit``: how many (none: every one, for a download). Titles are written in the locale
    ``asked`` (a client's), else the caller's own."""
    query = select(Conversation).where(_mine(actor.user_id))
    if only is not None:
        query = query.where(Conversation.id == only)
    if q:
        pattern = contains(q)
        named = exists().where(User.display_name.ilike(pattern), or_(
            User.id == Conversation.first_user_id, User.id == Conversation.second_user_id))
        programme = exists().where(Programme.id == Conversation.programme_id, Programme.name.ilike(pattern))
        said = exists().where(Message.conversation_id == Conversation.id, Message.body.ilike(pattern))
        group = exists().where(MentorshipSession.id == Conversation.session_id,
                               Listing.id == MentorshipSession.listing_id, Listing.title.ilike(pattern))
        query = query.where(or_(named, programme, said, group))
    rows = list(db.scalars(query.order_by(Conversation.last_message_at.desc().nulls_last(),
                                          Conversation.created_at.desc(), Conversation.id).limit(limit)))
    people = {uid for row in rows for uid in (row.first_user_id, row.second_user_id) if uid}
    names = display_names(db, people)
    programme_ids = {row.programme_id for row in rows if row.programme_id}
    programmes = dict(db.execute(select(Programme.id, Programme.name).where(Programme.id.in_(programme_ids)))
                      .all()) if programme_ids else {}
    session_ids = {row.session_id for row in rows if row.session_id}
    groups = dict(db.execute(select(MentorshipSession.id, Listing.title).join(
        Listing, Listing.id == MentorshipSession.listing_id).where(MentorshipSession.id.in_(session_ids))).all()) \
        if session_ids else {}
    unread = unread_counts(db, actor.user_id, [row.id for row in rows])
    muted = muted_of(db, actor.user_id, [row.id for row in rows])
    blocks = _blocks(db, actor.user_id, {one for one in (other_of(row, actor.user_id) for row in rows) if one})
    locale = asked or db.scalar(select(User.locale).where(User.id == actor.user_id))
    shown = []
    for row in rows:
        title, other = _title(row, actor.user_id, names, programmes, groups, locale=locale)
        shown.append(Listed(row.id, row.kind, title, row.programme_id, other, row.last_message_at,
                            unread.get(row.id, 0), blocks.get(other) if other else None, row.session_id,
                            row.id in muted))
    return shown


def muted_of(db: Session, user_id: uuid.UUID, conversation_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Of these conversations, those the user muted."""
    if not conversation_ids:
        return set()
    return set(db.scalars(select(ConversationRead.conversation_id).where(
        ConversationRead.user_id == user_id, ConversationRead.conversation_id.in_(conversation_ids),
        ConversationRead.muted_at.is_not(None))))
