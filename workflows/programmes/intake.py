"""A programme's intake: a form for its mentors and one for its mentees (the listings' question model: free text,
one choice, several choices, a 1-5 scale; required or not), edited by its coordinators; each participant's answers
to the form of their role, and a mentee's weekly availability windows in their own zone (a mentor's free time comes
from their schedule). Participants answer when they join and change their answers while the intake is open
(``intake_open``: its coordinators close it when they match) and the programme is not closed. The answers are seen
by the programme's coordinators and by the participant, no one else.
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
from workflows.programmes.lifecycle import coordinators_of, participation, record_change, run_by

MAX_WINDOWS = 21  # a mentee's weekly windows: three a day


@dataclass(frozen=True, order=True)
class Window:
    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class IntakeView:
    """A participant's intake as they (or a coordinator) read it: the form of their role, the answers kept, the
    zone and windows of a mentee, and whether it can still change."""

    participant_id: uuid.UUID
    role: ParticipantRole
    form: list[Question]
    answers: list[dict[str, Any]]
    answered_at: Any
    timezone: str | None
    windows: list[Window]
    editable: bool


def _open(programme: Programme) -> bool:
    return programme.intake_open and programme.status != ProgrammeStatus.CLOSED


def form(db: Session, actor: Actor, programme_id: uuid.UUID, audience: ParticipantRole) -> list[Question]:
    """The intake form for ``audience``: its coordinators read both, a participant the one of their role; 404 for
    anyone else."""
    try:
        run_by(db, actor, programme_id, lock=False)
    except Forbidden:
        mine = participation(db, actor.user_id, programme_id)
        if mine is None or mine.role != audience:
            raise NotFound("intake form not found") from None
    return questions.programme_form(db, programme_id, audience.value)


def set_form(db: Session, actor: Actor, programme_id: uuid.UUID, audience: ParticipantRole,
             asked: Sequence[dict[str, Any]]) -> list[Question]:
    """Replace the intake form for ``audience`` (its coordinators; 400 once the programme is closed). Two editors at
    once take turns on the programme's row: the second form replaces the first whole."""
    programme, role = run_by(db, actor, programme_id, lock=True)
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


def _view(db: Session, programme: Programme, row: ProgrammeParticipant) -> IntakeView:
    return IntakeView(row.id, row.role, questions.programme_form(db, programme.id, row.role.value),
                      row.intake_answers or [], row.intake_answered_at, row.timezone, _windows(db, row.id),
                      _open(programme) and row.status == ParticipantStatus.ACTIVE)


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
        try:
            run_by(db, actor, programme_id, lock=False)
        except Forbidden:
            raise NotFound("participant not found") from None
    if row is None:
        raise NotFound("participant not found")
    programme = db.get_one(Programme, programme_id)
    return _view(db, programme, row)


def _checked_windows(windows: Sequence[dict[str, int]]) -> list[Window]:
    """The windows in order; 400 for more than :data:`MAX_WINDOWS`, or two that overlap on a day."""
    if len(windows) > MAX_WINDOWS:
        raise BusinessRuleViolation(f"at most {MAX_WINDOWS} weekly windows", field="windows")
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
    a required one missing or one that does not fit), and for a mentee their weekly windows in ``timezone`` (their
    account's when not given). 400 once the intake is closed; 400 for a mentor's windows."""
    programme = db.get(Programme, programme_id, with_for_update={"key_share": True})
    row = participation(db, actor.user_id, programme_id, lock=True) if programme is not None else None
    if programme is None or row is None:
        raise NotFound("programme not found")
    if not _open(programme):
        raise BusinessRuleViolation("the intake is closed: your answers change no more")
    kept = questions.answered(questions.programme_form(db, programme_id, row.role.value), answers)
    if row.role == ParticipantRole.MENTOR and windows:
        raise BusinessRuleViolation("a mentor's free time comes from their schedule, not from windows",
                                    field="windows")
    row.intake_answers, row.intake_answered_at = kept, utcnow()
    if row.role == ParticipantRole.MENTEE and windows is not None:
        chosen = _checked_windows(windows)
        user = db.get_one(User, actor.user_id)
        row.timezone = timezone or row.timezone or user.timezone or "UTC"
        db.execute(delete(ParticipantAvailability).where(ParticipantAvailability.participant_id == row.id))
        db.add_all(ParticipantAvailability(id=uuid.uuid4(), participant_id=row.id, weekday=w.weekday,
                                           start_minute=w.start_minute, end_minute=w.end_minute) for w in chosen)
    elif timezone is not None and row.role == ParticipantRole.MENTEE:
        row.timezone = timezone
    db.flush()
    return _view(db, programme, row)
