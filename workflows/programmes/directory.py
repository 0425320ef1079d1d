"""Intake answers the organisation's directory gives: a programme's free-text question may read a participant's
department or manager (``Question.directory``; a manager by name where they are in the directory too, by
their id there otherwise) from what their identity provider's SCIM client sent (the enterprise
extension, ``models.sign_on.ScimUser``) instead of asking them.

The answer is read when it is read, never copied: a person moved to another department by their IT department is
matched and exported with the new one the next time. Every reader of intake answers (the participant's and the
coordinators' intake pages, the matcher, the participants' export) reads :func:`answers_with_directory` or
:func:`directory_answers`, each answer as the person's are kept (its question's id, words and kind) with
``"directory"`` naming where it came from; a person the directory says nothing of has no answer there, as one who
skipped a question. The person's own answers come first, then the directory's in the form's order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, Uuid, case, cast, func, literal, select, text
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.orm import Session, aliased

from models import DirectoryAttribute, ProgrammeParticipant, Question, ScimUser, User

_EMPTY = text("'[]'::jsonb")
_UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _value() -> ColumnElement[Any]:
    """The directory's answer to the question of the enclosing query: the attribute as sent, but for a manager who
    is a user of the same directory, their name (the manager's ``value`` is their id there, RFC 7643 §4.3)."""
    sent = _sent()
    by_id, by_external_id = aliased(ScimUser), aliased(ScimUser)
    # Two lookups, each by an index: the manager's id here (a UUID, else no match), or their external id.
    as_id = case((sent.op("~*")(_UUID), cast(sent, Uuid)), else_=None)
    named = [select(User.display_name).select_from(one).join(User, User.id == one.user_id)
             .where(one.provider_id == ScimUser.provider_id, matches).scalar_subquery()
             for one, matches in ((by_id, by_id.id == as_id), (by_external_id, by_external_id.external_id == sent))]
    return case((Question.directory == DirectoryAttribute.MANAGER.value, func.coalesce(*named, sent)), else_=sent)


def _sent() -> ColumnElement[Any]:
    """The attribute as the directory sent it."""
    return ScimUser.attributes.op("->>")(Question.directory)


def _from_directory() -> ColumnElement[Any]:
    """The directory's answers for the participant of the enclosing query, as one JSON array (empty for none)."""
    value = _value()
    answer = func.jsonb_build_object("question_id", cast(Question.id, String), "label", Question.label,
                                     "kind", literal("text"), "value", value, "directory", Question.directory)
    return (select(func.coalesce(func.jsonb_agg(aggregate_order_by(answer, Question.position)), _EMPTY))
            .select_from(Question).join(ScimUser, ScimUser.user_id == ProgrammeParticipant.user_id)
            .where(Question.programme_id == ProgrammeParticipant.programme_id,
                   Question.audience == cast(ProgrammeParticipant.role, String), Question.directory.is_not(None),
                   func.length(func.btrim(_sent())) > 0)
            .correlate(ProgrammeParticipant).scalar_subquery())


def answers_with_directory() -> ColumnElement[Any]:
    """A column of the participant's intake answers and then the directory's (for queries over
    ``ProgrammeParticipant``): JSON ``null`` when there are none of either."""
    both = func.coalesce(ProgrammeParticipant.intake_answers, _EMPTY).op("||", return_type=JSONB)(_from_directory())
    return func.nullif(both, _EMPTY)


def directory_answers(db: Session, participant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Each participant's answers from the directory (none for those it says nothing of)."""
    if not participant_ids:
        return {}
    return {participant_id: answers for participant_id, answers in db.execute(
        select(ProgrammeParticipant.id, _from_directory()).where(ProgrammeParticipant.id.in_(participant_ids)))
        if answers}


def all_answers(db: Session, row: ProgrammeParticipant) -> list[dict[str, Any]]:
    """One participant's answers, theirs and then the directory's."""
    return [*(row.intake_answers or []), *directory_answers(db, [row.id]).get(row.id, [])]
