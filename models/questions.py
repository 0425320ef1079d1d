from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin
from models.enums import check_in, stored_as_text

# A form's bounds: a few questions (a programme's intake a few more), short labels, a few short choices.
MAX_QUESTIONS = 10
MAX_INTAKE_QUESTIONS = 30
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


class DirectoryAttribute(StrEnum):
    """What an intake question may read from the person's organisation's directory (SCIM's enterprise extension)
    instead of asking them: the answer is the directory's, kept current by provisioning."""

    DEPARTMENT = "department"
    MANAGER = "manager"  # the manager's name where they are in the directory too, else their id there


class Question(IdMixin, Base):
    """A question of a form: asked of a mentee when they book a listing, answered with the request; or of a
    programme's mentors or mentees (``audience``) when they join it, its intake. The form is its owner's questions
    in ``position`` order (``workflows.questions``)."""

    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint(check_in("kind", QuestionKind), name="kind_values"),
        # Read from the directory: a programme's free-text question only.
        CheckConstraint(f"directory IS NULL OR ({check_in('directory', DirectoryAttribute)} AND programme_id IS NOT "
                        "NULL AND kind = 'text')", name="directory_of_intake_text"),
        CheckConstraint(f"length(label) BETWEEN 1 AND {MAX_LABEL}", name="label_length"),
        CheckConstraint(f"position >= 0 AND position < CASE WHEN listing_id IS NULL THEN {MAX_INTAKE_QUESTIONS} "
                        f"ELSE {MAX_QUESTIONS} END", name="position_range"),
        # One owner: a listing, or a programme's form for one audience (its mentors, or its mentees).
        CheckConstraint("(listing_id IS NULL) <> (programme_id IS NULL)", name="one_owner"),
        CheckConstraint("(programme_id IS NULL) = (audience IS NULL) AND (audience IS NULL OR audience IN "
                        "('mentor', 'mentee'))", name="audience_of_programmes"),
        # Choices exactly for the questions that choose: 2 to MAX_OPTIONS of them.
        CheckConstraint(f"(kind IN ('single', 'multiple')) = (cardinality(options) BETWEEN {MIN_OPTIONS} AND "
                        f"{MAX_OPTIONS})",
                        name="options_for_choices"),
        Index("uq_questions_listing_position", "listing_id", "position", unique=True),
        Index("uq_questions_programme_position", "programme_id", "audience", "position", unique=True,
              postgresql_where=text("programme_id IS NOT NULL")),
    )

    listing_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    programme_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    audience: Mapped[str | None] = mapped_column(String(16))
    position: Mapped[int]
    kind: Mapped[QuestionKind] = mapped_column(stored_as_text(QuestionKind))
    label: Mapped[str] = mapped_column(String(MAX_LABEL))
    options: Mapped[list[str]] = mapped_column(ARRAY(String(MAX_OPTION)), default=list, server_default="{}")
    required: Mapped[bool] = mapped_column(default=False, server_default="false")
    directory: Mapped[DirectoryAttribute | None] = mapped_column(stored_as_text(DirectoryAttribute))
