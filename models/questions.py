from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin
from models.enums import check_in, stored_as_text

# A form's bounds: a few questions, short labels, a few short choices.
MAX_QUESTIONS = 10
MAX_LABEL = 200
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_OPTION = 100
MAX_TEXT_ANSWER = 2000
SCALE = (1, 5)


class QuestionKind(StrEnum):
    TEXT = "text"  # free text, one answer of at most MAX_TEXT_ANSWER characters
    SINGLE = "single"  # one of the options
    MULTIPLE = "multiple"  # any of the options (at least one when required)
    SCALE = "scale"  # a whole number from 1 to 5


class Question(IdMixin, Base):
    """A question of a form: asked of a mentee when they book a listing (its intake questions), answered with the
    request. The form is its owner's questions in ``position`` order (``workflows.questions``)."""

    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint(check_in("kind", QuestionKind), name="kind_values"),
        CheckConstraint(f"length(label) BETWEEN 1 AND {MAX_LABEL}", name="label_length"),
        CheckConstraint(f"position BETWEEN 0 AND {MAX_QUESTIONS - 1}", name="position_range"),
        # Choices exactly for the questions that choose: 2 to MAX_OPTIONS of them.
        CheckConstraint(f"(kind IN ('single', 'multiple')) = (cardinality(options) BETWEEN {MIN_OPTIONS} AND "
                        f"{MAX_OPTIONS})",
                        name="options_for_choices"),
        Index("uq_questions_listing_position", "listing_id", "position", unique=True),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    position: Mapped[int]
    kind: Mapped[QuestionKind] = mapped_column(stored_as_text(QuestionKind))
    label: Mapped[str] = mapped_column(String(MAX_LABEL))
    options: Mapped[list[str]] = mapped_column(ARRAY(String(MAX_OPTION)), default=list, server_default="{}")
    required: Mapped[bool] = mapped_column(default=False, server_default="false")
