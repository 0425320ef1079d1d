"""A programme's intake: a form for its mentors and one for its mentees (the listings' question model: free text,
one choice, several choices, a 1-5 scale; required or not), edited by its coordinators; each participant's answers
to the form of their role, a mentee's weekly availability windows in their own zone, and a mentor's weekly hours
(their mentor profile's own windows, in its zone: the same hours serve their public listings). Participants answer
when they join and change their answers while the intake is open (``intake_open``: its coordinators close it when
they match) and the programme is not closed. The answers are seen by the programme's coordinators and by the
participant, no one else.

An intake is finished (``intake_finished_at``) when it is saved, a mentor's only once their hours are confirmed in it
(a mentor with no hours would read as free at any time, day and night); a mentee of a programme that asks its mentees
nothing finishes it by joining. Only finished participants are matched or paired (:data:`FINISHED`); the coordinators
read who is left out and why (:func:`left_out`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import (
    MentorProfile,
    ParticipantAvailability,
    ParticipantRole,
    ParticipantStatus,
    Programme,
    ProgrammeParticipant,
    ProgrammeStatus,
    Question,
    User,
)
from workflows import questions
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Forbidden, NotFound
from workflows.events import EventType
from workflows.mentors import profiles
from workflows.programmes import access as programme_access
from workflows.programmes import directory
from workflows.programmes.access import participation
from workflows.programmes.enrolment import finish
from workflows.programmes.lifecycle import FINISHED, coordinators_of, record_change
from workflows.programmes.listings import mentor_profile

MAX_WINDOWS = 21  # a participant's weekly windows: three a day


@dataclass(frozen=True, order=True)
class Window:
    weekday: int
    start_minute: int
    end_minute: int


# The hours suggested to a mentor who has none: weekdays, 09:00 to 17:00 in their zone.
WORKING_HOURS = tuple(Window(weekday, 9 * 60, 17 * 60) for weekday in range(5))


@dataclass(frozen=True)
class IntakeView:
    """A participant's intake as they (or a coordinator) read it: the form of their role, the answers kept, the
    zone and windows of a mentee (a mentor's: their profile's weekly hours, or :data:`WORKING_HOURS` suggested when
    they have none), whether it is finished, and whether it can still change."""

    participant_id: uuid.UUID
    role: ParticipantRole
    form: list[Question]
    answers: list[dict[str, Any]]
    answered_at: Any
    timezone: str | None
    windows: list[Window]
    editable: bool
    finished_at: Any = None
    hours_suggested: bool = False


@dataclass(frozen=True)
class LeftOutPerson:
    participant_id: uuid.UUID
    name: str
    role: ParticipantRole
    reason: str


@dataclass(frozen=True)
class LeftOut:
    """The participants taking part whose intake is not finished: no run matches them and no one pairs them."""

    mentors: int
    mentees: int
    people: list[LeftOutPerson]

    @property
    def summary(self) -> str:
        said = [f"{self.mentors} mentor{'s have' if self.mentors != 1 else ' has'} not given their hours"
                if self.mentors else "",
                f"{self.mentees} mentee{'s have' if self.mentees != 1 else ' has'} not answered the intake"
                if self.mentees else ""]
        return " · ".join(one for one in said if one) or "Everyone taking part has finished their intake."


def _open(programme: Programme) -> bool:
    return programme.intake_open and programme.status != ProgrammeStatus.CLOSED


def form(db: Session, actor: Actor, programme_id: uuid.UUID, audience: ParticipantRole) -> list[Question]:
    """The intake form for ``audience``: its coordinators read both, a participant the one of their role; 404 for
    anyone else."""
    try:
        programme_access.may_read(db, actor, programme_id)
    except Forbidden:
        mine = participation(db, actor.user_id, programme_id)
        if mine is None or mine.role != audience:
            raise NotFound("intake form not found") from None
    return questions.programme_form(db, programme_id, audience.value)


def set_form(db: Session, actor: Actor, programme_id: uuid.UUID, audience: ParticipantRole,
             asked: Sequence[dict[str, Any]]) -> list[Question]:
    """Replace the intake form for ``audience`` (its coordinators; 400 once the programme is closed). Two editors at
    once take turns on the programme's row: the second form replaces the first whole."""
    programme, role = programme_access.may_change(db, actor, programme_id)
    if programme.status == ProgrammeStatus.CLOSED:
        raise BusinessRuleViolation("the programme is closed: its intake changes no more")
    before = _words(questions.programme_form(db, programme_id, audience.value))
    made = questions.set_programme_form(db, programme_id, audience.value, asked)
    if _words(made) != before:  # in the programme's history, who changed which form
        record_change(db, actor, role, programme, coordinators=coordinators_of(db, programme_id),
                      event=EventType.PROGRAMME_INTAKE_FORM_CHANGED, changed=[f"intake_form:{audience.value}"])
    return made


def _words(form: Sequence[Question]) -> list[tuple[str, str, list[str], bool]]:
    return [(q.kind.value, q.label, list(q.options or []), q.required) for q in form]


def _windows(db: Session, participant_id: uuid.UUID) -> list[Window]:
    return [Window(row.weekday, row.start_minute, row.end_minute) for row in db.scalars(
        select(ParticipantAvailability).where(ParticipantAvailability.participant_id == participant_id)
        .order_by(ParticipantAvailability.weekday, ParticipantAvailability.start_minute))]


def _hours(db: Session, user_id: uuid.UUID) -> tuple[str, list[Window], bool]:
    """A mentor's zone and weekly hours, as their profile has them; weekdays' working hours suggested when they have
    none (and whether they are)."""
    profile = db.scalar(select(MentorProfile).where(MentorProfile.user_id == user_id))
    windows = [Window(w.weekday, w.start_minute, w.end_minute) for w in profile.availability] if profile else []
    zone = profile.timezone if profile else (db.get_one(User, user_id).timezone or "UTC")
    return zone, windows or list(WORKING_HOURS), not windows


def _view(db: Session, programme: Programme, row: ProgrammeParticipant) -> IntakeView:
    zone: str | None = row.timezone
    windows, suggested = _windows(db, row.id), False
    if row.role == ParticipantRole.MENTOR:
        zone, windows, suggested = _hours(db, row.user_id)
    return IntakeView(row.id, row.role, questions.programme_form(db, programme.id, row.role.value),
                      directory.all_answers(db, row), row.intake_answered_at, zone, windows,
                      _open(programme) and row.status == ParticipantStatus.ACTIVE,
                      None if suggested else row.intake_finished_at, suggested)


def mine(db: Session, actor: Actor, programme_id: uuid.UUID) -> IntakeView:
    """One's own intake in a programme one takes part in (404 otherwise)."""
    programme = db.get(Programme, programme_id)
    row = participation(db, actor.user_id, programme_id) if programme is not None else None
    if programme is None or row is None:
        raise NotFound("programme not found")
    return _view(db, programme, row)


def of_participant(db: Session, actor: Actor, programme_id: uuid.UUID, participant_id: uuid.UUID) -> IntakeView:
    """A participant's intake: the programme's coordinators, or the participant; 404 for anyone else."""
    row = db.scalar(select(ProgrammeParticipant).where(ProgrammeParticipant.id == participant_id,
                                                       ProgrammeParticipant.programme_id == programme_id))
    if row is None or row.user_id != actor.user_id:
        programme_access.may_read_answers(db, actor, programme_id, row.id if row is not None else None)
    if row is None:
        raise NotFound("participant not found")
    programme = db.get_one(Programme, programme_id)
    return _view(db, programme, row)


def _checked_windows(windows: Sequence[dict[str, int]]) -> list[Window]:
    """The windows in order; 400 for more than :data:`MAX_WINDOWS`, or two that overlap on a day."""
    if len(windows) > MAX_WINDOWS:
        raise BusinessRuleViolation("at most {max_windows} weekly windows",
                                    words={"max_windows": MAX_WINDOWS}, field="windows")
    ordered = sorted(Window(w["weekday"], w["start_minute"], w["end_minute"]) for w in windows)
    if any(window.start_minute >= window.end_minute for window in ordered):
        raise BusinessRuleViolation("a window ends after it starts", field="windows")
    for before, after in pairwise(ordered):
        if before.weekday == after.weekday and after.start_minute < before.end_minute:
            raise BusinessRuleViolation("two windows of the same day overlap: join them", field="windows")
    return ordered


def answer(db: Session, actor: Actor, programme_id: uuid.UUID, *, answers: Sequence[dict[str, Any]],
           timezone: str | None = None, windows: Sequence[dict[str, int]] | None = None) -> IntakeView:
    """Give or change one's intake: the answers to the form of one's role (checked against it as it is now: 422 for
    a required one missing or one that does not fit), and one's weekly windows in ``timezone``: a mentee's own (their
    account's zone when not given), a mentor's hours (their profile's, which their public listings keep too; at least
    one). Saving finishes a mentee's intake, a mentor's once their hours were confirmed. 400 once the intake is
    closed."""
    programme = db.get(Programme, programme_id, with_for_update={"key_share": True})
    row = participation(db, actor.user_id, programme_id, lock=True) if programme is not None else None
    if programme is None or row is None:
        raise NotFound("programme not found")
    if not _open(programme):
        raise BusinessRuleViolation("the intake is closed: your answers change no more")
    kept = questions.answered(questions.programme_form(db, programme_id, row.role.value), answers)
    chosen = _checked_windows(windows) if windows is not None else None
    row.intake_answers, row.intake_answered_at = kept, utcnow()
    if row.role == ParticipantRole.MENTOR:
        if chosen is not None:
            _confirm_hours(db, actor, row, chosen, timezone)
        finished = chosen is not None or row.intake_finished_at is not None
    else:
        if chosen is not None:
            user = db.get_one(User, actor.user_id)
            row.timezone = timezone or row.timezone or user.timezone or "UTC"
            db.execute(delete(ParticipantAvailability).where(ParticipantAvailability.participant_id == row.id))
            db.add_all(ParticipantAvailability(id=uuid.uuid4(), participant_id=row.id, weekday=w.weekday,
                                               start_minute=w.start_minute, end_minute=w.end_minute) for w in chosen)
        elif timezone is not None:
            row.timezone = timezone
        finished = True
    db.flush()
    if finished and row.intake_finished_at is None:
        finish(db, programme, row, actor=str(actor))
    return _view(db, programme, row)


def _confirm_hours(db: Session, actor: Actor, row: ProgrammeParticipant, chosen: Sequence[Window],
                   timezone: str | None) -> None:
    """A mentor's weekly hours, confirmed: their profile's windows (and zone), as their own schedule's page sets
    them."""
    if not chosen:
        raise BusinessRuleViolation("give the weekly hours you mentor in: at least one window", field="windows")
    profile = mentor_profile(db, row.user_id)
    if timezone is not None and timezone != profile.timezone:
        profiles.update_mentor_profile(db, actor, profile.id, {"timezone": timezone})
    profiles.set_availability(db, actor, profile.id, [profiles.WindowSpec(w.weekday, w.start_minute, w.end_minute)
                                                      for w in chosen])


def left_out(db: Session, actor: Actor, programme_id: uuid.UUID) -> LeftOut:
    """Who takes part but is not matched nor paired yet, and why (its coordinators)."""
    programme_access.may_read(db, actor, programme_id)
    rows = db.execute(select(ProgrammeParticipant.id, ProgrammeParticipant.role, User.display_name)
                      .join(User, User.id == ProgrammeParticipant.user_id)
                      .where(ProgrammeParticipant.programme_id == programme_id,
                             ProgrammeParticipant.status == ParticipantStatus.ACTIVE, ~FINISHED)
                      .order_by(ProgrammeParticipant.role, User.display_name, ProgrammeParticipant.id)).all()
    people = [LeftOutPerson(row.id, row.display_name, row.role, "has not given their hours"
                            if row.role == ParticipantRole.MENTOR else "has not answered the intake")
              for row in rows]
    mentors = sum(1 for one in people if one.role == ParticipantRole.MENTOR)
    return LeftOut(mentors, len(people) - mentors, people)
