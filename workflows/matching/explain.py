"""Why a given pair was or was not made by a run, read again from the run's kept inputs ("Ada and Lin: 0 h in
common at 60-minute sessions every 2 weeks")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models import MatchRunStatus
from workflows.actors import Actor
from workflows.errors import Conflict, InvalidInput
from workflows.matching import runs


@dataclass(frozen=True)
class Explanation:
    mentee_name: str
    mentor_name: str
    made: bool
    candidate: bool
    score: float | None
    reasons: list[str]
    explanation: str


def explain(db: Session, actor: Actor, programme_id: uuid.UUID, run_id: uuid.UUID, *, mentee_id: uuid.UUID | None,
            mentor_id: uuid.UUID | None) -> Explanation:
    """The pair as the run saw it (its coordinators): made or not, its score and reasons, and why."""
    from workflows.matching import scores  # noqa: PLC0415 - numpy enters the API process only when asked for
    run = runs.get(db, actor, programme_id, run_id)
    if mentee_id is None or mentor_id is None:
        raise InvalidInput("name the mentee and the mentor: mentee_participant_id and mentor_participant_id",
                           field="mentee_participant_id" if mentee_id is None else "mentor_participant_id")
    if run.status != MatchRunStatus.DONE or run.result is None:
        raise Conflict("the run is {status}: it explains pairs once done",
                       words={"status": run.status.value}, reason="run_not_done")
    if run.inputs is None:
        raise Conflict("this run's inputs are no longer kept (a programme's latest ten runs keep theirs)",
                       reason="run_inputs_gone")
    inputs, found = run.inputs, run.result
    mentee = next((one for one in inputs["mentees"] if one["id"] == str(mentee_id)), None)
    mentor = next((one for one in inputs["mentors"] if one["id"] == str(mentor_id)), None)
    if mentee is None or mentor is None:
        who = "the mentee" if mentee is None else "the mentor"
        return Explanation(mentee["name"] if mentee else "", mentor["name"] if mentor else "", made=False,
                           candidate=False, score=None, reasons=[],
                           explanation=f"{who} was not in this run: paired already, pinned to a draft, or joined "
                                       f"after it")
    names = f"{mentee['name']} and {mentor['name']}"
    matrix = scores.compute({**inputs, "mentees": [mentee], "mentors": [mentor]})
    made = next((pair for pair in found["pairs"] if pair["mentee_participant_id"] == mentee["id"]), None)
    why = scores.why_not(matrix, 0, 0)
    score = float(matrix.score[0, 0]) if why is None else None
    reasons = scores.reasons(matrix, 0, 0) if matrix.candidate[0, 0] else []
    if made is not None and made["mentor_participant_id"] == mentor["id"]:
        text = f"{names}: paired, score {made['score']:g}, the mentee's choice number {made['rank']} by score"
    elif why is not None:
        text = f"{names}: {why}"
    elif made is not None:
        other = next(one["name"] for one in inputs["mentors"] if one["id"] == made["mentor_participant_id"])
        text = (f"{names} could meet (score {score:g}), but the best assignment of the whole cohort gave "
                f"{mentee['name']} {other} (score {made['score']:g})")
    else:
        reason = next((one["reason"] for one in found["unmatched"] if one["mentee_participant_id"] == mentee["id"]),
                      "")
        text = f"{names} could meet (score {score:g}), but {mentee['name']} was left unmatched: {reason}"
    paired = made is not None and made["mentor_participant_id"] == mentor["id"]
    return Explanation(mentee["name"], mentor["name"], made=paired, candidate=bool(matrix.candidate[0, 0]),
                       score=score, reasons=reasons, explanation=text)
