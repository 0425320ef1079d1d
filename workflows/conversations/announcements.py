"""Announcements: a programme's coordinators tell its people something at once (everyone, its mentors, its mentees,
or the people of its pairings not yet active); a platform admin, everyone who has an account.

Posting one (:func:`post`) writes it and its event (``announcement.posted``) in the author's transaction, and
nothing more: the workers tell each recipient (:func:`deliver`, the event's handler), in batches of ``BATCH``, one
notification each (the inbox's ``(event, user, type)`` key: a handler run again after a worker died tells no one
twice), mailed by each one's choice for announcements (``workflows.notifications.preferences``); after their commit,
one live frame each (:func:`publish_live`). Its coordinators (an admin, for a notice) see how many were told and how
many have read it: a recipient has read it once its notification is read (opening it marks it).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Select, Uuid, bindparam, func, literal, select, union, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.orm import Session

from infra import live_publish
from infra.channels import user_channel
from infra.config import get_settings
from models import (
    Announcement,
    Audience,
    EmailStatus,
    MentorProfile,
    Notification,
    OutboxEvent,
    Pairing,
    PairingStatus,
    Programme,
    ProgrammeCoordinator,
    ProgrammeParticipant,
    ProgrammeStatus,
    User,
)
from models.conversations import MAX_ANNOUNCEMENT_TITLE
from models.enums import ParticipantRole, ParticipantStatus
from outbox import enqueue_after_commit
from workflows import access
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.conversation_payloads import MEMBERS_KEY, AnnouncementPayload
from workflows.conversations import text
from workflows.errors import BusinessRuleViolation, InvalidInput, NotFound
from workflows.events import EventType, record
from workflows.inbox import NOTIFICATIONS_TABLE, SEND_EMAIL_TASK
from workflows.live.frames import message
from workflows.people import display_names

log = structlog.get_logger(__name__)

BATCH = 1000
LIVE_TASK = "events.publish_announcement"  # the events queue: not behind the notifications queue's emails
MAX_LISTED = 100
NOTICE_POSTED = "notice.posted"  # the audit trail's name of an administrator's notice


def _coordinators(db: Session, programme_id: uuid.UUID) -> list[uuid.UUID]:
    return list(db.scalars(select(ProgrammeCoordinator.user_id).where(
        ProgrammeCoordinator.programme_id == programme_id).order_by(ProgrammeCoordinator.user_id)))


def _title(title: str) -> str:
    """One line of words: control and direction characters dropped, spaces run together; 422 when empty or long."""
    kept = " ".join(text.source(title).split()) if title.strip() else ""
    if not kept:
        raise InvalidInput("an announcement has a title", field="title")
    if len(kept) > MAX_ANNOUNCEMENT_TITLE:
        raise InvalidInput("a title has at most {max_announcement_title} characters",
                           words={"max_announcement_title": MAX_ANNOUNCEMENT_TITLE}, field="title")
    return kept


def payload(announcement: Announcement, coordinators: Sequence[uuid.UUID]) -> AnnouncementPayload:
    return {"id": str(announcement.id),
            "programme_id": str(announcement.programme_id) if announcement.programme_id else None,
            "audience": announcement.audience.value,
            "author_user_id": str(announcement.author_user_id) if announcement.author_user_id else None,
            "created_at": announcement.created_at.isoformat(),
            "coordinator_user_ids": [str(one) for one in coordinators]}


def post(db: Session, actor: Actor, programme_id: uuid.UUID | None, *, audience: Audience, title: str, body: str
         ) -> Announcement:
    """Write an announcement to a programme's ``audience`` (its coordinators only: 404 for anyone else), or, with no
    programme, a notice to everyone (admins only: 403); its people are told by the workers."""
    kept_title, kept_body = _title(title), text.source(body)
    if programme_id is None:
        access.require_admin(actor)
        if audience != Audience.EVERYONE:
            raise InvalidInput("a notice is to everyone", field="audience")
        coordinators: list[uuid.UUID] = []
    else:
        programme = db.get(Programme, programme_id)
        if programme is None or actor.user_id not in (coordinators := _coordinators(db, programme_id)):
            raise NotFound("you coordinate no programme with this id")
        if programme.status == ProgrammeStatus.CLOSED:
            raise BusinessRuleViolation("the programme is closed: it announces nothing more", field="programme")
    announcement = Announcement(id=uuid.uuid4(), programme_id=programme_id, author_user_id=actor.user_id,
                                audience=audience, title=kept_title, body=kept_body, created_at=utcnow())
    db.add(announcement)
    db.flush()
    record(db, EventType.ANNOUNCEMENT_POSTED, payload(announcement, coordinators), actor=str(actor))
    if programme_id is None:  # an administrator's word to everyone is in the audit trail, its title the reason
        access.record_admin_action(db, actor, NOTICE_POSTED, "announcement", announcement.id, reason=kept_title)
    return announcement


def recipients(announcement: Announcement) -> Select[uuid.UUID]:
    """SQL: who the announcement is to (its author aside), each once, by user id."""
    if announcement.programme_id is None:
        return select(User.id).where(User.deleted_at.is_(None), User.disabled_at.is_(None),
                                     User.id != announcement.author_user_id)
    if announcement.audience == Audience.NOT_ACTIVE:
        asked = select(Pairing).where(Pairing.programme_id == announcement.programme_id,
                                      Pairing.status == PairingStatus.PROPOSED).subquery()
        people = union(select(asked.c.mentee_user_id.label("id")),
                       select(MentorProfile.user_id).join(asked, asked.c.mentor_profile_id == MentorProfile.id)
                       ).subquery()
        return select(people.c.id).where(people.c.id != announcement.author_user_id)
    query = select(ProgrammeParticipant.user_id).where(
        ProgrammeParticipant.programme_id == announcement.programme_id,
        ProgrammeParticipant.status == ParticipantStatus.ACTIVE,
        ProgrammeParticipant.user_id != announcement.author_user_id).distinct()
    if announcement.audience in (Audience.MENTORS, Audience.MENTEES):
        role = ParticipantRole.MENTOR if announcement.audience == Audience.MENTORS else ParticipantRole.MENTEE
        query = query.where(ProgrammeParticipant.role == role)
    return query


def _notification(db: Session, announcement: Announcement) -> dict[str, Any]:
    """What every recipient's notification holds: the same words for each (read in their own zone and locale)."""
    words: dict[str, str | None]
    if announcement.programme_id is None:
        title, words = "Notice: {title}", {"title": announcement.title}
    else:
        programme = db.scalar(select(Programme.name).where(Programme.id == announcement.programme_id))
        title, words = "{programme}: {title}", {"programme": programme, "title": announcement.title}
    return {"type": EventType.ANNOUNCEMENT_POSTED.value, "title": title, "body": "{body}",
            "words": {**words, "body": text.plain(announcement.body)},
            "data": {"event_type": EventType.ANNOUNCEMENT_POSTED.value,
                     "resource": {"id": str(announcement.id), "programme_id": str(announcement.programme_id)
                                  if announcement.programme_id else None},
                     "link": f"#/announcements/{announcement.id}"}}


def deliver(db: Session, events: Sequence[OutboxEvent]) -> int:
    """The handler: each announcement's recipients told in their inbox, ``BATCH`` at a time, once each; their emails
    and live frames after the commit. How many were told now."""
    told = 0
    status = EmailStatus.PENDING if get_settings().smtp_url else EmailStatus.NONE
    for event in events:
        announcement = db.get(Announcement, uuid.UUID(event.payload["id"]))
        if announcement is None:
            continue
        common = _notification(db, announcement)
        who = recipients(announcement).subquery()
        after: uuid.UUID | None = None
        while True:
            batch = select(who.c[0]).order_by(who.c[0]).limit(BATCH)
            ids = list(db.scalars(batch.where(who.c[0] > after) if after else batch))
            if not ids:
                break
            after = ids[-1]
            made = list(db.execute(insert(NOTIFICATIONS_TABLE).from_select(
                ["id", "user_id", "event_id", "type", "title", "body", "words", "data", "email_status"],
                select(func.gen_random_uuid(), func.unnest(bindparam("ids", ids, type_=ARRAY(Uuid))),
                       literal(event.id, Uuid), literal(common["type"]), literal(common["title"]),
                       literal(common["body"]), literal(common["words"], JSONB), literal(common["data"], JSONB),
                       literal(status.value)))
                .on_conflict_do_nothing(index_elements=["event_id", "user_id", "type"])
                .returning(NOTIFICATIONS_TABLE.c.id)).scalars())
            told += len(made)
            if status == EmailStatus.PENDING:
                for notification_id in made:
                    enqueue_after_commit(db, SEND_EMAIL_TASK, str(notification_id))
        announcement.recipients = db.scalar(select(func.count()).select_from(Notification).where(
            Notification.event_id == event.id, Notification.type == EventType.ANNOUNCEMENT_POSTED.value))
        announcement.delivered_at = utcnow()
        # After its emails: on a queue of its own, so its frames do not wait behind them.
        enqueue_after_commit(db, LIVE_TASK, str(event.id))
    log.info("announcements.delivered", told=told, events=len(events))
    return told


def publish_live(db: Session, event_id: uuid.UUID) -> int:
    """After the delivery's commit: each recipient's stream is told, by a frame naming them alone (best effort, as
    every live frame: a stream that missed it finds the notification when it reads its inbox). How many."""
    event = db.get(OutboxEvent, event_id)
    if event is None:
        return 0
    prefix, published, after = get_settings().redis_key_prefix, 0, None
    while True:
        query = select(Notification.user_id).where(Notification.event_id == event_id).order_by(Notification.user_id)
        ids = list(db.scalars((query.where(Notification.user_id > after) if after else query).limit(BATCH)))
        if not ids:
            return published
        after = ids[-1]
        framed = [(user_channel(prefix, user_id), message(event.id, event.type, {**event.payload,
                                                                                 MEMBERS_KEY: [str(user_id)]}))
                  for user_id in ids]
        live_publish.publish([(channel, f"[{one}]") for channel, one in framed])
        published += len(ids)


@dataclass(frozen=True)
class AnnouncementView:
    """An announcement as its recipients read it, and (for its coordinators or an admin) how far it went."""

    announcement: Announcement
    author_name: str | None
    read: int | None  # how many have read it: its coordinators and admins only

    @property
    def html(self) -> str:
        return text.html(self.announcement.body)

    def __getattr__(self, name: str) -> object:
        return getattr(self.announcement, name)


def _read_counts(db: Session, event_ids: dict[uuid.UUID, uuid.UUID]) -> dict[uuid.UUID, int]:
    """Per announcement (by its event), how many of its notifications are read."""
    if not event_ids:
        return {}
    rows = db.execute(select(Notification.event_id, func.count()).where(
        Notification.event_id.in_(list(event_ids)), Notification.type == EventType.ANNOUNCEMENT_POSTED.value,
        Notification.read_at.is_not(None)).group_by(Notification.event_id))
    counts = dict(rows.all())
    return {announcement: counts.get(event, 0) for event, announcement in event_ids.items()}


def _events_of(db: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Each announcement's event id -> the announcement's."""
    rows = db.execute(select(OutboxEvent.id, OutboxEvent.aggregate_id).where(
        OutboxEvent.type == EventType.ANNOUNCEMENT_POSTED.value, OutboxEvent.aggregate_id.in_(list(ids))))
    return dict(rows.all())




def listed(db: Session, actor: Actor, programme_id: uuid.UUID | None) -> list[AnnouncementView]:
    """A programme's announcements for its coordinators (404 for anyone else), or the notices for an admin (403),
    the latest first, with how many read each."""
    if programme_id is None:
        access.require_admin(actor)
    elif actor.user_id not in _coordinators(db, programme_id):
        raise NotFound("you coordinate no programme with this id")
    rows = list(db.scalars(select(Announcement).where(
        Announcement.programme_id == programme_id if programme_id else Announcement.programme_id.is_(None))
        .order_by(Announcement.created_at.desc(), Announcement.id).limit(MAX_LISTED)))
    reads = _read_counts(db, _events_of(db, [row.id for row in rows]))
    names = display_names(db, {row.author_user_id for row in rows})
    return [AnnouncementView(row, names.get(row.author_user_id) if row.author_user_id else None, reads.get(row.id, 0))
            for row in rows]


def read(db: Session, actor: Actor, announcement_id: uuid.UUID) -> AnnouncementView:
    """One announcement, for a recipient (whose notification of it is marked read), its programme's coordinators or an
    admin (who see how many read it); 404 for anyone else."""
    announcement = db.get(Announcement, announcement_id)
    if announcement is None:
        raise NotFound("announcement not found")
    events = _events_of(db, [announcement.id])
    event_id = next(iter(events), None)
    counts = (announcement.programme_id is not None and actor.user_id in _coordinators(
        db, announcement.programme_id)) or (announcement.programme_id is None and access.is_admin(actor))
    marked = db.execute(update(Notification).where(
        Notification.event_id == event_id, Notification.user_id == actor.user_id,
        Notification.type == EventType.ANNOUNCEMENT_POSTED.value).values(
        read_at=func.coalesce(Notification.read_at, func.now()))).rowcount if event_id else 0  # type: ignore[attr-defined]
    if not marked and not counts and announcement.author_user_id != actor.user_id:
        raise NotFound("announcement not found")
    name = display_names(db, {announcement.author_user_id}).get(announcement.author_user_id) \
        if announcement.author_user_id else None
    return AnnouncementView(announcement, name, _read_counts(db, events).get(announcement.id, 0) if counts else None)

