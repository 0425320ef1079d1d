"""What the matcher weighs in a programme, as its coordinators set it (``programmes.matching``), and how it pairs
(``programmes.pairing_mode``).

A criterion joins a question of the mentees' intake to one of the mentors' (or to the skills of the mentor's
profile) and says how their answers count:

- ``shared``: the more of the mentee's choices the mentor's answer also has, the better (choices or skills);
- ``same``: the same answer is better (one choice, or a 1-5 scale);
- ``differ``: a hard rule: never the same answer (e.g. "department", as asked or as the organisation's directory
  gives it: ``workflows.programmes.directory``);
- ``above``: a hard rule: the mentor's answer ranks above the mentee's (a later option of a one-choice question,
  e.g. a seniority listed from junior to senior, or a higher number on a scale).

Soft criteria carry a weight (0 to 10); so do free time in common, timezone distance, the mentor's room left and,
if the coordinators want it, reliability (the mentor's confirmed no-shows, shown to coordinators only).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import PairingMode, ProgrammeStatus, Question, QuestionKind
from workflows.actors import Actor
from workflows.errors import BusinessRuleViolation, InvalidInput
from workflows.events import EventType
from workflows.programmes import access as programme_access
from workflows.programmes.lifecycle import coordinators_of, record_change

MAX_CRITERIA = 10
MAX_WEIGHT = 10.0
TOP_K = (1, 10)
SKILLS = None  # a criterion's mentor side when it is the mentor profile's skills


class Kind(StrEnum):
    SHARED = "shared"
    SAME = "same"
    DIFFER = "differ"
    ABOVE = "above"


HARD = frozenset({Kind.DIFFER, Kind.ABOVE})
_FITS: Mapping[Kind, frozenset[QuestionKind]] = {
    Kind.SHARED: frozenset({QuestionKind.SINGLE, QuestionKind.MULTIPLE}),
    Kind.SAME: frozenset({QuestionKind.SINGLE, QuestionKind.SCALE}),
    Kind.DIFFER: frozenset({QuestionKind.SINGLE, QuestionKind.SCALE}),
    Kind.ABOVE: frozenset({QuestionKind.SINGLE, QuestionKind.SCALE}),
}

# A question the directory answers (its free text: a department, a manager) is compared whole, without case.
_DIRECTORY_FITS = frozenset({Kind.SAME, Kind.DIFFER})


@dataclass(frozen=True)
class Criterion:
    kind: Kind
    mentee_question_id: str
    mentor_question_id: str | None  # None: the mentor's profile skills
    weight: float = 1.0
    label: str = ""  # the mentee question's words, as reasons quote them

    @property
    def hard(self) -> bool:
        return self.kind in HARD


@dataclass(frozen=True)
class Settings:
    criteria: tuple[Criterion, ...] = ()
    free_time_weight: float = 3.0
    timezone_weight: float = 1.0
    capacity_weight: float = 1.0
    reliability_weight: float = 0.0  # 0: no-shows are not weighed
    top_k: int = 3  # how many mentors a choosing mentee sees

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["criteria"] = [{**one, "kind": str(one["kind"])} for one in data["criteria"]]
        return data

    @classmethod
    def of(cls, stored: Mapping[str, Any] | None) -> Settings:
        stored = dict(stored or {})
        criteria = tuple(Criterion(Kind(one["kind"]), str(one["mentee_question_id"]),
                                   None if one.get("mentor_question_id") is None else str(one["mentor_question_id"]),
                                   float(one.get("weight", 1.0)), str(one.get("label", "")))
                         for one in stored.pop("criteria", []))
        known = {key: stored[key] for key in ("free_time_weight", "timezone_weight", "capacity_weight",
                                              "reliability_weight", "top_k") if key in stored}
        return cls(criteria, **known)


@dataclass(frozen=True)
class MatchingView:
    programme_id: uuid.UUID
    pairing_mode: PairingMode
    settings: Settings


def read(db: Session, actor: Actor, programme_id: uuid.UUID) -> MatchingView:
    """The programme's pairing mode and matcher settings (its coordinators)."""
    programme, _ = programme_access.may_read(db, actor, programme_id)
    return MatchingView(programme.id, programme.pairing_mode, Settings.of(programme.matching))


def _question(questions: Mapping[str, Question], question_id: str | None, audience: str, kind: Kind,
              where: str) -> Question | None:
    if question_id is None:
        return None
    question = questions.get(question_id)
    if question is None or question.audience != audience:
        raise InvalidInput("{where}: no question of the {audience}s' intake has the id {question_id}",
                           words={"where": where, "audience": audience, "question_id": question_id})
    if question.kind not in _FITS[kind] and not (question.directory is not None and kind in _DIRECTORY_FITS):
        raise InvalidInput("{where}: “{label}” is a {question_kind} question; “{kind}” compares {fits} questions",
                           words={"where": where, "label": question.label, "question_kind": question.kind.value,
                                  "kind": kind.value, "fits": " or ".join(sorted(k.value for k in _FITS[kind]))})
    return question


def write(db: Session, actor: Actor, programme_id: uuid.UUID, *, pairing_mode: PairingMode,
          criteria: list[dict[str, Any]], **weights: Any) -> MatchingView:
    """Set how the programme pairs and what the matcher weighs (its coordinators; 400 once it is closed). Each
    criterion's questions must be the intake's, of a kind its comparison reads (422 otherwise)."""
    programme, role = programme_access.may_change(db, actor, programme_id)
    if programme.status == ProgrammeStatus.CLOSED:
        raise BusinessRuleViolation("the programme is closed: its matching changes no more")
    if len(criteria) > MAX_CRITERIA:
        raise InvalidInput("at most {max_criteria} criteria", words={"max_criteria": MAX_CRITERIA})
    questions = {str(q.id): q for q in db.scalars(select(Question).where(Question.programme_id == programme_id))}
    kept = []
    for number, one in enumerate(criteria, start=1):
        kind, where = Kind(one["kind"]), f"criterion {number}"
        mentee = _question(questions, str(one["mentee_question_id"]), "mentee", kind, where)
        mentor_id = one.get("mentor_question_id")
        if mentor_id is None and kind != Kind.SHARED:
            raise InvalidInput("{where}: only “shared” compares with the mentor's skills; name a mentors' question",
                               words={"where": where})
        mentor = _question(questions, None if mentor_id is None else str(mentor_id), "mentor", kind, where)
        if kind == Kind.ABOVE and mentor is not None and mentee is not None and mentor.kind != mentee.kind:
            raise InvalidInput("{where}: “above” compares two questions of the same kind", words={"where": where})
        assert mentee is not None
        kept.append(Criterion(kind, str(mentee.id), None if mentor is None else str(mentor.id),
                              0.0 if kind in HARD else float(one.get("weight", 1.0)), mentee.label))
    settings = Settings(tuple(kept), **weights)
    if sum(one.weight for one in kept) + settings.free_time_weight + settings.timezone_weight \
            + settings.capacity_weight + settings.reliability_weight <= 0:
        raise InvalidInput("give at least one weight above 0")
    was, now = {"pairing_mode": programme.pairing_mode, **Settings.of(programme.matching).as_json()}, {
        "pairing_mode": pairing_mode, **settings.as_json()}
    programme.pairing_mode = pairing_mode
    programme.matching = settings.as_json()
    changed = sorted(name for name in now if now[name] != was.get(name))
    if changed:  # in the programme's history, who changed what
        record_change(db, actor, role, programme, coordinators=coordinators_of(db, programme_id),
                      event=EventType.PROGRAMME_MATCHING_CHANGED, changed=changed)
    return MatchingView(programme.id, programme.pairing_mode, settings)
