"""Nudges: a programme's coordinators turn on reminders for what people have left undone: an invitation not answered
(its mail again, with the same link), an intake not finished (a mentor's hours included), a pairing not accepted (its
mentor), a first session not booked once a pairing is active (its mentee, who books, and its mentor, told). Each step
reminds ``after_days`` after it began, then every ``every_days``, ``at_most`` times.

The beat looks every few minutes (:func:`send_due`). Each reminder is one round of one step about one invitation,
participant or pairing, written in ``nudges_sent`` under its key before it is sent: a round goes once, whichever
worker sends it, and a person who acted (answered, finished, accepted, booked) is no longer found, so it stops at
once. The coordinators see who was reminded and when (:func:`sent`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from infra.config import get_settings
from models import (
    Booking,
    BookingStatus,
    EmailStatus,
    InvitationStatus,
    MentorProfile,
    NudgeSent,
    NudgeStep,
    Pairing,
    PairingStatus,
    Programme,
    ProgrammeInvitation,
    ProgrammeNudge,
    ProgrammeParticipant,
    User,
)
from models.enums import ParticipantStatus
from outbox import enqueue_after_commit
from workflows import wording
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.inbox import notify_user
from workflows.language import text
from workflows.programmes import access as programme_access
from workflows.programmes.enrolment import refuse_if_closed
from workflows.programmes.lifecycle import SEND_INVITATIONS_TASK, TAKING_PARTICIPANTS

log = structlog.get_logger(__name__)

INTAKE = wording.notice("nudge.intake", "Reminder: finish your intake for {programme}", (
    "Your coordinators pair you once your intake in {programme} is finished (a mentor's weekly hours too). It takes "
    "a few minutes."))
FIRST_SESSION = wording.notice("nudge.first_session.mentee", "Reminder: book your first session with {mentor}", (
    "You and {mentor} were paired in {programme} and no session is booked yet: choose a time on the programme's page, "
    "or agree one in your conversation."))
FIRST_SESSION_TOLD = wording.notice("nudge.first_session.mentor", "Reminder: no first session yet with {mentee}", (
    "{mentee} and you were paired in {programme} and no session is booked yet: they were reminded to choose a time; "
    "you can write to them from the programme's page."))
A_MENTEE = text("words.a_mentee", "a mentee")
PAIRING = wording.notice("nudge.pairing", "Reminder: a pairing waits for your answer", (
    "{mentee} was paired with you in {programme}: accept or decline the pairing on the programme's page."))

# A step's reminders before its coordinators choose: first after, then every (days), at most.
DEFAULTS = {NudgeStep.INVITATION: (3, 4, 2), NudgeStep.INTAKE: (3, 4, 2), NudgeStep.PAIRING: (2, 3, 2),
            NudgeStep.FIRST_SESSION: (7, 7, 2)}
PER_RUN = 500  # the subjects one look reads per step, the longest waiting first
MAX_SENT_LISTED = 100


@dataclass(frozen=True)
class Setting:
    step: NudgeStep
    enabled: bool
    after_days: int
    every_days: int
    at_most: int


def settings(db: Session, actor: Actor, programme_id: uuid.UUID) -> list[Setting]:
    """The programme's reminders, step by step (off, with the defaults, where none was chosen); its coordinators."""
    programme_access.may_change(db, actor, programme_id)
    return _settings(db, programme_id)


def _settings(db: Session, programme_id: uuid.UUID) -> list[Setting]:
    rows = {row.step: row for row in db.scalars(select(ProgrammeNudge).where(
        ProgrammeNudge.programme_id == programme_id))}
    return [Setting(step, row.enabled, row.after_days, row.every_days, row.at_most) if (row := rows.get(step))
            else Setting(step, False, *DEFAULTS[step]) for step in NudgeStep]  # noqa: FBT003 - off


def choose(db: Session, actor: Actor, programme_id: uuid.UUID, chosen: Sequence[Mapping[str, Any]]) -> list[Setting]:
    """Set some steps' reminders (the rest stay); its coordinators, while it is not closed."""
    programme, _ = programme_access.may_change(db, actor, programme_id)
    refuse_if_closed(programme)
    for one in chosen:
        values = {"enabled": one["enabled"], "after_days": one["after_days"], "every_days": one["every_days"],
                  "at_most": one["at_most"]}
        db.execute(insert(ProgrammeNudge).values(programme_id=programme_id, step=NudgeStep(one["step"]), **values)
                   .on_conflict_do_update(index_elements=["programme_id", "step"], set_=values))
    return _settings(db, programme_id)


def sent(db: Session, actor: Actor, programme_id: uuid.UUID) -> list[NudgeSent]:
    """Who was reminded of what and when, the latest first; its coordinators."""
    programme_access.may_change(db, actor, programme_id)
    return list(db.scalars(select(NudgeSent).where(NudgeSent.programme_id == programme_id)
                           .order_by(NudgeSent.sent_at.desc(), NudgeSent.subject_id).limit(MAX_SENT_LISTED)))


@dataclass(frozen=True)
class _Waiting:
    """One person who left a step undone: its subject, when the step began, who is reminded."""

    subject_id: uuid.UUID
    began: datetime
    user_id: uuid.UUID | None  # none for an invitation (its address is mailed)
    to: str
    words: dict[str, Any]
    also: uuid.UUID | None = None  # a pairing's mentor, told its mentee has not booked


def _waiting(db: Session, programme: Programme, step: NudgeStep, before: datetime) -> list[_Waiting]:
    """Those who left the step undone since before ``before``, the longest waiting first."""
    if step == NudgeStep.INVITATION:
        rows = db.execute(select(ProgrammeInvitation.id, ProgrammeInvitation.created_at, ProgrammeInvitation.email)
                          .where(ProgrammeInvitation.programme_id == programme.id,
                                 ProgrammeInvitation.status == InvitationStatus.PENDING,
                                 ProgrammeInvitation.expires_at > func.now(),
                                 ProgrammeInvitation.email_status != EmailStatus.PENDING,
                                 ProgrammeInvitation.created_at <= before)
                          .order_by(ProgrammeInvitation.created_at).limit(PER_RUN))
        return [_Waiting(one, began, None, email, {}) for one, began, email in rows]
    if step == NudgeStep.INTAKE:
        rows = db.execute(select(ProgrammeParticipant.id, ProgrammeParticipant.joined_at, User.id, User.display_name)
                          .join(User, User.id == ProgrammeParticipant.user_id)
                          .where(ProgrammeParticipant.programme_id == programme.id,
                                 ProgrammeParticipant.status == ParticipantStatus.ACTIVE,
                                 ProgrammeParticipant.intake_finished_at.is_(None),
                                 ProgrammeParticipant.joined_at <= before)
                          .order_by(ProgrammeParticipant.joined_at).limit(PER_RUN))
        return [_Waiting(row[0], row[1], row[2], row[3], {}) for row in cast(list[Any], rows.all())]
    if step == NudgeStep.FIRST_SESSION:
        return _not_booked(db, programme, before)
    mentee_user = aliased(User)
    mentee = select(mentee_user.display_name).where(mentee_user.id == Pairing.mentee_user_id).scalar_subquery()
    rows = db.execute(select(Pairing.id, Pairing.created_at, User.id, User.display_name, mentee)
                      .join(MentorProfile, MentorProfile.id == Pairing.mentor_profile_id)
                      .join(User, User.id == MentorProfile.user_id)
                      .where(Pairing.programme_id == programme.id, Pairing.status == PairingStatus.PROPOSED,
                             Pairing.created_at <= before)
                      .order_by(Pairing.created_at).limit(PER_RUN))
    return [_Waiting(row[0], row[1], row[2], row[3], {"mentee": row[4] or wording.phrase(A_MENTEE)})
            for row in cast(list[Any], rows.all())]


def _not_booked(db: Session, programme: Programme, before: datetime) -> list[_Waiting]:
    """The active pairings, active since before ``before``, whose mentee holds no booking on the pairing's listing
    (accepted, or asked and not yet answered): their first session is not booked."""
    mentor_user = aliased(User)
    booked = exists().where(Booking.listing_id == Pairing.listing_id, Booking.mentee_user_id == Pairing.mentee_user_id,
                            Booking.status.in_((BookingStatus.ACCEPTED, BookingStatus.DRAFT)))
    rows = db.execute(select(Pairing.id, Pairing.activated_at, User.id, User.display_name, mentor_user.id,
                             mentor_user.display_name)
                      .join(User, User.id == Pairing.mentee_user_id)
                      .join(MentorProfile, MentorProfile.id == Pairing.mentor_profile_id)
                      .join(mentor_user, mentor_user.id == MentorProfile.user_id)
                      .where(Pairing.programme_id == programme.id, Pairing.status == PairingStatus.ACTIVE,
                             Pairing.activated_at <= before, ~booked)
                      .order_by(Pairing.activated_at).limit(PER_RUN))
    return [_Waiting(row[0], row[1], row[2], f"{row[3]} and {row[5]}", {"mentee": row[3], "mentor": row[5]}, row[4])
            for row in cast(list[Any], rows.all())]


def _remind(db: Session, programme: Programme, step: NudgeStep, waiting: _Waiting) -> None:
    link = {"link": f"#/programmes/{programme.id}"}
    if step == NudgeStep.INVITATION:
        invitation = db.get_one(ProgrammeInvitation, waiting.subject_id)
        invitation.email_status, invitation.email_attempts = EmailStatus.PENDING, 0
        enqueue_after_commit(db, SEND_INVITATIONS_TASK, str(programme.id))
    elif step == NudgeStep.INTAKE and waiting.user_id is not None:
        notify_user(db, waiting.user_id, type_="nudge.intake", said=INTAKE,
                    words={"programme": wording.quoted(programme.name)}, data=link)
    elif step == NudgeStep.FIRST_SESSION and waiting.user_id is not None:
        notify_user(db, waiting.user_id, type_="nudge.first_session", said=FIRST_SESSION,
                    words={"programme": wording.quoted(programme.name), **waiting.words}, data=link)
        if waiting.also is not None:
            notify_user(db, waiting.also, type_="nudge.first_session", said=FIRST_SESSION_TOLD,
                        words={"programme": wording.quoted(programme.name), **waiting.words}, data=link)
    elif waiting.user_id is not None:
        notify_user(db, waiting.user_id, type_="nudge.pairing", said=PAIRING,
                    words={"programme": wording.quoted(programme.name), **waiting.words}, data=link)


def send_due(db: Session, *, now: datetime | None = None) -> int:
    """Every reminder due now, each round once; how many went."""
    now = now or utcnow()
    mails = bool(get_settings().smtp_url)
    told = 0
    for nudge, programme in db.execute(select(ProgrammeNudge, Programme).join(
            Programme, Programme.id == ProgrammeNudge.programme_id).where(
            ProgrammeNudge.enabled.is_(True), Programme.status.in_(TAKING_PARTICIPANTS))).all():
        if nudge.step == NudgeStep.INVITATION and not mails:
            continue  # no mail goes from this service: an invitation's reminder is its mail
        waiting = _waiting(db, programme, nudge.step, now - timedelta(days=nudge.after_days))
        if not waiting:
            continue
        rounds = dict(db.execute(select(NudgeSent.subject_id, func.max(NudgeSent.round)).where(
            NudgeSent.step == nudge.step, NudgeSent.subject_id.in_([one.subject_id for one in waiting]))
            .group_by(NudgeSent.subject_id)).all())
        for one in waiting:
            done = rounds.get(one.subject_id, 0)
            due_at = one.began + timedelta(days=nudge.after_days + done * nudge.every_days)
            if done >= nudge.at_most or due_at > now:
                continue
            written = db.execute(insert(NudgeSent).values(
                step=nudge.step, subject_id=one.subject_id, round=done + 1, programme_id=programme.id, to=one.to)
                .on_conflict_do_nothing().returning(NudgeSent.round)).scalar_one_or_none()
            if written is not None:
                _remind(db, programme, nudge.step, one)
                told += 1
    if told:
        log.info("nudges.sent", count=told)
    return told
