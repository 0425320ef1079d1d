"""The mentees' choice: in a programme whose mentees choose (``pairing_mode = mentee_choice``), each mentee sees
their best mentors from the latest run (its candidates: those they can meet at the agreed cadence, by score, with
the reasons a mentee may read, never a mentor's room or reliability) among those with a place left now, and asks
one. The ask is a pairing proposed by the mentee: its sessions requested as a series the mentor accepts (the pairing
starts) or declines (it ends), as any pairing. The mentor's participation is locked while their places are counted,
so two mentees asking at once for a mentor's last place cannot both have it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    MatchCandidate,
    MatchRun,
    MatchRunStatus,
    Pairing,
    PairingMode,
    ParticipantRole,
    ParticipantStatus,
    Programme,
    ProgrammeParticipant,
    User,
)
from workflows.actors import Actor
from workflows.errors import BusinessRuleViolation, NotFound
from workflows.matching import runs
from workflows.matching.settings import Settings
from workflows.programmes import pairings
from workflows.programmes.access import participation


@dataclass(frozen=True)
class Recommendation:
    """A mentor as a choosing mentee sees them: their rank, name and the reasons a mentee may read (no score: it
    weighs the mentor's room and reliability, which are not the mentee's to see)."""

    rank: int
    mentor_participant_id: uuid.UUID
    mentor_name: str
    reasons: list[str]


def _mentee(db: Session, actor: Actor, programme_id: uuid.UUID) -> tuple[Programme, ProgrammeParticipant]:
    programme = db.get(Programme, programme_id)
    mine = participation(db, actor.user_id, programme_id) if programme is not None else None
    if programme is None or mine is None or mine.role != ParticipantRole.MENTEE:
        raise NotFound("programme not found")
    if programme.pairing_mode != PairingMode.MENTEE_CHOICE:
        raise BusinessRuleViolation("the programme's coordinators pair its mentees: no choice is asked of you")
    return programme, mine


def _latest_run(db: Session, programme_id: uuid.UUID, mentee_id: uuid.UUID) -> uuid.UUID | None:
    return db.scalar(select(MatchRun.id).where(
        MatchRun.programme_id == programme_id, MatchRun.status == MatchRunStatus.DONE,
        select(MatchCandidate.rank).where(MatchCandidate.run_id == MatchRun.id,
                                          MatchCandidate.mentee_participant_id == mentee_id).exists())
        .order_by(MatchRun.created_at.desc()).limit(1))


def recommendations(db: Session, actor: Actor, programme_id: uuid.UUID) -> list[Recommendation]:
    """The mentee's best mentors with a place left, best first (at most the programme's ``top_k``); none before a
    run has scored them."""
    programme, mine = _mentee(db, actor, programme_id)
    run_id = _latest_run(db, programme_id, mine.id)
    if run_id is None:
        return []
    live = (select(func.count()).select_from(Pairing)
            .where(Pairing.mentor_participant_id == MatchCandidate.mentor_participant_id,
                   Pairing.status.in_(pairings.LIVE)).scalar_subquery())
    rows = db.execute(select(MatchCandidate, User.display_name, ProgrammeParticipant.capacity, live)
                      .join(ProgrammeParticipant, ProgrammeParticipant.id == MatchCandidate.mentor_participant_id)
                      .join(User, User.id == ProgrammeParticipant.user_id)
                      .where(MatchCandidate.run_id == run_id, MatchCandidate.mentee_participant_id == mine.id,
                             ProgrammeParticipant.status == ParticipantStatus.ACTIVE)
                      .order_by(MatchCandidate.rank)).all()
    roomy = [(row, name, (capacity or 0) - taken) for row, name, capacity, taken in rows if (capacity or 0) > taken]
    return [Recommendation(rank, row.mentor_participant_id, name, list(row.reasons))
            for rank, (row, name, _left) in enumerate(roomy[:Settings.of(programme.matching).top_k], start=1)]


def ask(db: Session, actor: Actor, programme_id: uuid.UUID, mentor_participant_id: uuid.UUID) -> pairings.PairingView:
    """Ask a recommended mentor: a pairing proposed by the mentee (201). 409 when the mentee has a live pairing or
    the mentor has no place left (two asking at once for the last place: one has it); 400 for a mentor not among
    the mentee's candidates (a recommended mentor whose places were taken meanwhile: 409)."""
    programme, mine = _mentee(db, actor, programme_id)
    # The mentor's participation, then the mentee's, locked in the order a coordinator's pairing takes them: two
    # asks of one mentee take turns here, and ``pair`` refuses the second; two mentees asking for
    # one mentor's last place take turns there.
    db.scalar(select(ProgrammeParticipant.id).where(ProgrammeParticipant.id == mentor_participant_id,
                                                    ProgrammeParticipant.programme_id == programme_id)
              .with_for_update())
    db.refresh(mine, with_for_update=True)
    run_id = _latest_run(db, programme_id, mine.id)
    offered = set(db.scalars(select(MatchCandidate.mentor_participant_id).where(
        MatchCandidate.run_id == run_id, MatchCandidate.mentee_participant_id == mine.id)))
    if mentor_participant_id not in offered:
        raise BusinessRuleViolation("choose one of the mentors recommended to you", field="mentor_participant_id")
    pairing = pairings.pair(db, programme, mentor_participant_id, mine.id, proposed_by=actor.user_id,
                            actor=str(actor))
    runs.mark_matched(db, pairing, run_id)
    return pairings.get(db, actor, programme_id, pairing.id)
