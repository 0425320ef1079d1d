"""A programme's engagement plan (its steps, edited by its coordinators) and each pairing's copy of it, where the pair
tick its steps done or skip them (``workflows.programmes.plans``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin
from models.enums import check_in, stored_as_text

MAX_STEPS = 52  # a plan's: a year of weekly steps
MAX_STEP_TITLE = 120
MAX_AGENDA = 4000  # Markdown source
MAX_STEP_LINKS = 5  # the resources a step suggests
MAX_LINK_TITLE = 120
MAX_LINK_URL = 2000
MAX_SKIP_NOTE = 1000
MAX_WEEK = 104  # two years
MAX_SESSION_NUMBER = 100


class StepAnchor(StrEnum):
    """When a step comes: in week N of the pairing (from the day it became active), or at its session N."""

    WEEK = "week"
    SESSION = "session"


class StepStatus(StrEnum):
    TODO = "todo"
    DONE = "done"
    SKIPPED = "skipped"


def _step_checks(prefix: str) -> tuple[CheckConstraint, ...]:
    return (
        CheckConstraint(check_in("anchor", StepAnchor), name=f"{prefix}anchor_values"),
        CheckConstraint(f"number BETWEEN 1 AND CASE WHEN anchor = 'week' THEN {MAX_WEEK} ELSE {MAX_SESSION_NUMBER} "
                        "END", name=f"{prefix}number_range"),
        CheckConstraint(f"length(title) BETWEEN 1 AND {MAX_STEP_TITLE}", name=f"{prefix}title_length"),
        CheckConstraint(f"length(agenda) <= {MAX_AGENDA}", name=f"{prefix}agenda_length"),
        CheckConstraint(f"jsonb_array_length(links) <= {MAX_STEP_LINKS}", name=f"{prefix}links_count"),
        CheckConstraint(f"cardinality(resource_ids) <= {MAX_STEP_LINKS}", name=f"{prefix}resource_ids_count"),
        CheckConstraint(f"position >= 0 AND position < {MAX_STEPS}", name=f"{prefix}position_range"),
    )


class StepWords:
    """What a plan's step and a pairing's copy of it both say: when it comes, its words and what it suggests."""

    position: Mapped[int] = mapped_column(SmallInteger)
    anchor: Mapped[StepAnchor] = mapped_column(stored_as_text(StepAnchor))
    number: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(MAX_STEP_TITLE))
    agenda: Mapped[str] = mapped_column(Text, default="", server_default="")
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    # Resources of the programme's library or the platform's it suggests (``models.programmes.resources``).
    resource_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list, server_default="{}")


class PlanStep(StepWords, IdMixin, Base):
    """One step of a programme's plan: when it comes, its title, a short agenda (the safe Markdown subset of
    ``workflows.conversations.text``) and the resources it suggests: links (``[{"title": …, "url": …}]``) and
    resources of the libraries (``resource_ids``)."""

    __tablename__ = "plan_steps"
    __table_args__ = (
        *_step_checks(""),
        Index("uq_plan_steps_programme_position", "programme_id", "position", unique=True),
    )

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))


class PairingStep(StepWords, IdMixin, Base):
    """A step of a pairing's copy of its programme's plan (the plan step it came from in ``plan_step_id``, kept
    without a foreign key: the plan's step may be gone), and where the pair stand with it."""

    __tablename__ = "pairing_steps"
    __table_args__ = (
        *_step_checks(""),
        CheckConstraint(check_in("status", StepStatus), name="status_values"),
        CheckConstraint("(status = 'todo') = (done_at IS NULL)", name="done_at_unless_todo"),
        CheckConstraint(f"note IS NULL OR length(note) <= {MAX_SKIP_NOTE}", name="note_length"),
        Index("ix_pairing_steps_pairing_position", "pairing_id", "position"),
        Index("ix_pairing_steps_plan_step", "plan_step_id"),
    )

    pairing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"))
    plan_step_id: Mapped[uuid.UUID | None]
    status: Mapped[StepStatus] = mapped_column(stored_as_text(StepStatus), default=StepStatus.TODO)
    note: Mapped[str | None] = mapped_column(Text)  # why it was skipped, or what came of it
    done_at: Mapped[datetime | None]  # done or skipped
    done_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
