"""Nudges: a programme's reminders to the people who have left a step undone (``workflows.programmes.nudges``), as
its coordinators set them, and each one sent."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.enums import check_in, stored_as_text


class NudgeStep(StrEnum):
    INVITATION = "invitation"  # an invitation not answered: its mail again, the same link
    INTAKE = "intake"  # a participant's intake not finished (a mentor's hours included)
    PAIRING = "pairing"  # a pairing proposed and not accepted: its mentor
    FIRST_SESSION = "first_session"  # a pairing active and no session booked: its mentee (and its mentor told)


class ProgrammeNudge(Base):
    """One step's reminders in one programme: first ``after_days`` after the step began, then every ``every_days``,
    ``at_most`` in all."""

    __tablename__ = "programme_nudges"
    __table_args__ = (
        CheckConstraint(check_in("step", NudgeStep), name="step_values"),
        CheckConstraint("after_days BETWEEN 1 AND 60 AND every_days BETWEEN 1 AND 60 AND at_most BETWEEN 1 AND 10",
                        name="bounds"),
    )

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[NudgeStep] = mapped_column(stored_as_text(NudgeStep), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True, server_default="true")
    after_days: Mapped[int]
    every_days: Mapped[int]
    at_most: Mapped[int]


class NudgeSent(Base):
    """One reminder sent: of a step, about one invitation, participant or pairing (``subject_id``), its ``round``
    (1 to ``at_most``). The key makes each round go once, whichever worker sends it."""

    __tablename__ = "nudges_sent"
    __table_args__ = (
        CheckConstraint(check_in("step", NudgeStep), name="step_values"),
        Index("ix_nudges_sent_programme_sent", "programme_id", "sent_at"),
    )

    step: Mapped[NudgeStep] = mapped_column(stored_as_text(NudgeStep), primary_key=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    round: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    to: Mapped[str]  # who was reminded, as the coordinators read it: a name, or an invitation's address
    sent_at: Mapped[datetime] = mapped_column(server_default=func.now())
