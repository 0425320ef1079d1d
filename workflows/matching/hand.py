"""A coordinator's pairing by hand (``POST /programmes/{id}/pairings``): the programme's hard rules
(``workflows.matching.settings``: ``differ``, never the same answer; ``above``, the mentor's answer ranks above the
mentee's) hold for it as they hold for a run's drafts. A coordinator may pair across one, giving a reason: the
pairing keeps the rules it was paired across and the reason, and its ``pairing.proposed`` says both (the history).
The rest is :func:`workflows.programmes.pairings.pair`'s: one live pairing per mentee, the mentor's capacity, no
session before the programme's first day.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Pairing, Programme, ProgrammeParticipant, Question
from workflows.actors import Actor
from workflows.errors import Conflict
from workflows.matching.settings import Criterion, Settings
from workflows.programmes import access as programme_access
from workflows.programmes import pairings
from workflows.programmes.directory import directory_answers
from workflows.programmes.lifecycle import actor_label

HARD_RULE = "hard_rule"  # the ``rule`` a refusal names


def broken_rules(db: Session, programme: Programme, mentor: ProgrammeParticipant, mentee: ProgrammeParticipant
                 ) -> list[str]:
    """The programme's hard rules this mentor and mentee would break together, in a coordinator's words."""
    hard = [one for one in Settings.of(programme.matching).criteria if one.hard]
    if not hard:
        return []
    # numpy enters the API process only when a programme has a hard rule to weigh.
    from workflows.matching import scores  # noqa: PLC0415
    from workflows.matching.cohort import answers_of, encoded  # noqa: PLC0415
    options = {str(q_id): list(opts) for q_id, opts in db.execute(
        select(Question.id, Question.options).where(Question.programme_id == programme.id))}
    from_directory = directory_answers(db, [mentor.id, mentee.id])

    def compared(person: ProgrammeParticipant, criterion: Criterion, question_id: str | None) -> Any:
        given = answers_of(person, from_directory.get(person.id, []))
        return encoded(criterion, given.get(question_id or ""), options.get(question_id or ""))

    return [scores.rule_broken(one) for one in hard
            if scores.first_broken(Settings((one,)), [[compared(mentee, one, one.mentee_question_id)]],
                                   [[compared(mentor, one, one.mentor_question_id)]])[0, 0] >= 0]


def _participant(db: Session, programme_id: uuid.UUID, participant_id: uuid.UUID) -> ProgrammeParticipant | None:
    return db.scalar(select(ProgrammeParticipant).where(ProgrammeParticipant.id == participant_id,
                                                        ProgrammeParticipant.programme_id == programme_id))


def propose(db: Session, actor: Actor, programme_id: uuid.UUID, *, mentor_participant_id: uuid.UUID,
            mentee_participant_id: uuid.UUID, override_reason: str | None = None,
            first_start: datetime | None = None, cadence_weeks: int | None = None, session_count: int | None = None,
            now: datetime | None = None) -> Pairing:
    """Pair a mentor and a mentee of the programme (its coordinators), asking for their sessions at once; the
    agreement is the programme's unless given. 409 for a pair that breaks a hard rule (unless ``override_reason``
    says why it should be made all the same), for a mentee already paired, past the mentor's capacity, or when they
    have no time in common; 400 for people not taking part in those roles, a programme not under way, or a first
    time before the programme's first day."""
    programme, role = programme_access.may_change(db, actor, programme_id)
    broken = []
    if any(one.hard for one in Settings.of(programme.matching).criteria):  # the pair read only to weigh a rule
        mentor = _participant(db, programme.id, mentor_participant_id)
        mentee = _participant(db, programme.id, mentee_participant_id)
        broken = broken_rules(db, programme, mentor, mentee) if mentor is not None and mentee is not None else []
    reason = (override_reason or "").strip() or None
    if broken and reason is None:
        raise Conflict("this pair breaks the programme's rules: {broken}. Give a reason to pair them all the same",
                       words={"broken": '; '.join(broken)}, rule=HARD_RULE, reason="pair_breaks_rules")
    return pairings.pair(db, programme, mentor_participant_id, mentee_participant_id, proposed_by=actor.user_id,
                         actor=actor_label(actor, role), first_start=first_start, cadence_weeks=cadence_weeks,
                         session_count=session_count, overridden=(broken, reason) if broken else None, now=now)
