"""Forms of questions: a listing's, asked of a mentee who books it and answered with the request; the one model a
programme's intake forms use too. A question is free text, one choice, several choices or a 1-5 scale, required or
not (``models.questions``). An intake's free-text question may instead be answered by the person's organisation's
directory (``workflows.programmes.directory``): the person does not answer it.

Answers are checked against the form as it is when they are given, and kept with the label and kind they answer
(``bookings.answers``): a form changed later leaves every answer given before readable as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import DirectoryAttribute, Question, QuestionKind
from models.questions import (
    MAX_INTAKE_QUESTIONS,
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    MAX_TEXT_ANSWER,
    MIN_OPTIONS,
    SCALE,
)
from workflows.actors import Actor
from workflows.errors import InvalidInput
from workflows.lookups import listing_or_404, own_listing

CHOICES = frozenset({QuestionKind.SINGLE, QuestionKind.MULTIPLE})


def listing_questions(db: Session, listing_id: uuid.UUID) -> list[Question]:
    """A listing's questions, in order (404 for an unknown listing)."""
    listing_or_404(db, listing_id)
    return form_of(db, listing_id)


def form_of(db: Session, listing_id: uuid.UUID) -> list[Question]:
    """The listing's questions in order; none when it asks none."""
    return list(db.scalars(select(Question).where(Question.listing_id == listing_id).order_by(Question.position)))


def set_listing_questions(db: Session, actor: Actor, listing_id: uuid.UUID, asked: Sequence[dict[str, Any]]
                          ) -> list[Question]:
    """Replace the questions of the actor's listing (at most :data:`MAX_QUESTIONS`). Answers already given keep the
    words of the questions they answered."""
    own_listing(db, actor, listing_id, to="change its questions", lock=True)
    if len(asked) > MAX_QUESTIONS:
        raise InvalidInput("a listing asks {max_questions} questions at most", words={"max_questions": MAX_QUESTIONS})
    db.execute(delete(Question).where(Question.listing_id == listing_id))
    return _add(db, [_question({"listing_id": listing_id}, position, one) for position, one in enumerate(asked)])


def programme_form(db: Session, programme_id: uuid.UUID, audience: str) -> list[Question]:
    """A programme's intake form for its mentors or its mentees, in order."""
    return list(db.scalars(select(Question).where(Question.programme_id == programme_id,
                                                  Question.audience == audience).order_by(Question.position)))


def set_programme_form(db: Session, programme_id: uuid.UUID, audience: str, asked: Sequence[dict[str, Any]]
                       ) -> list[Question]:
    """Replace a programme's intake form for one audience (at most :data:`MAX_INTAKE_QUESTIONS`); the caller checked
    who may. Answers already given keep the words of the questions they answered."""
    if len(asked) > MAX_INTAKE_QUESTIONS:
        raise InvalidInput("an intake form asks {max_intake_questions} questions at most",
                           words={"max_intake_questions": MAX_INTAKE_QUESTIONS})
    db.execute(delete(Question).where(Question.programme_id == programme_id, Question.audience == audience))
    owner = {"programme_id": programme_id, "audience": audience}
    return _add(db, [_question(owner, position, one) for position, one in enumerate(asked)])


def _add(db: Session, made: list[Question]) -> list[Question]:
    db.add_all(made)
    db.flush()
    return made


def _question(owner: dict[str, Any], position: int, asked: dict[str, Any]) -> Question:
    kind = QuestionKind(asked["kind"])
    label = asked["label"].strip()
    options = [option.strip() for option in asked.get("options") or []]
    where = f"question {position + 1} (\u201c{label}\u201d)"
    if not label:
        raise InvalidInput("question {position} needs its words", words={"position": position + 1})
    if kind in CHOICES:
        if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS or any(not o or len(o) > MAX_OPTION for o in options):
            raise InvalidInput("{where}: give {min_options} to {max_options} choices of 1 to {max_option} characters",
                               words={"where": where, "min_options": MIN_OPTIONS, "max_options": MAX_OPTIONS,
                                      "max_option": MAX_OPTION})
        if len(set(options)) != len(options):
            raise InvalidInput("{where}: each choice once", words={"where": where})
    elif options:
        raise InvalidInput("{where}: only a question with choices has options", words={"where": where})
    directory = asked.get("directory")
    if directory is not None:
        if "programme_id" not in owner or kind != QuestionKind.TEXT:
            raise InvalidInput("{where}: only an intake's free-text question is answered by the directory",
                               words={"where": where})
        if asked.get("required"):
            raise InvalidInput("{where}: the directory answers it, so it is never required of the person",
                               words={"where": where})
    return Question(id=uuid.uuid4(), **owner, position=position, kind=kind, label=label, options=options,
                    required=bool(asked.get("required")),
                    directory=None if directory is None else DirectoryAttribute(directory))


def answered(questions: Sequence[Question], answers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answers to ``questions`` as kept: each with its question's id, words and kind, in the form's order; 422
    for an answer to no question of the form, a question answered twice, a required one unanswered, or an answer
    that does not fit its question."""
    asked = {str(q.id): q for q in questions}
    given: dict[str, Any] = {}
    for answer in answers:
        question_id = str(answer["question_id"])
        if question_id not in asked:
            raise InvalidInput("an answer is to a question this form does not ask (its questions changed: "
                               "read them again)")
        if question_id in given:
            raise InvalidInput("“{label}” is answered twice", words={"label": asked[question_id].label})
        if asked[question_id].directory is not None and answer.get("value") not in (None, "", []):
            raise InvalidInput("“{label}” is answered by your organisation's directory, not here",
                               words={"label": asked[question_id].label})
        given[question_id] = answer.get("value")
    kept = []
    for question in questions:
        if question.directory is not None:
            continue
        value = _value(question, given.get(str(question.id)))
        if value is None:
            if question.required:
                raise InvalidInput("“{label}” needs an answer", words={"label": question.label})
            continue
        kept.append({"question_id": str(question.id), "label": question.label, "kind": question.kind.value,
                     "value": value})
    return kept


def _value(question: Question, value: Any) -> Any:
    """The answer as kept, ``None`` when there is none; 422 when it does not fit the question."""
    if value is None or value in ("", []):
        return None
    wrong = InvalidInput("“{label}”: {expected}", words={"label": question.label, "expected": _expected(question)})
    if question.kind == QuestionKind.TEXT:
        if not isinstance(value, str) or len(value) > MAX_TEXT_ANSWER:
            raise wrong
        return value.strip() or None
    if question.kind == QuestionKind.SINGLE:
        if not isinstance(value, str) or value not in question.options:
            raise wrong
        return value
    if question.kind == QuestionKind.MULTIPLE:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value) \
                or len(set(value)) != len(value) or any(v not in question.options for v in value):
            raise wrong
        return [option for option in question.options if option in value]  # in the form's order
    if isinstance(value, bool) or not isinstance(value, int) or not SCALE[0] <= value <= SCALE[1]:
        raise wrong
    return value


def _expected(question: Question) -> str:
    return {QuestionKind.TEXT: f"an answer in words, {MAX_TEXT_ANSWER} characters at most",
            QuestionKind.SINGLE: "one of its choices", QuestionKind.MULTIPLE: "some of its choices, each once",
            QuestionKind.SCALE: f"a whole number from {SCALE[0]} to {SCALE[1]}"}[question.kind]
