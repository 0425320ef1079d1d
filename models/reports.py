"""Programme reports: summary rows the analytics worker keeps from the outbox's events (``workflows.reports``), so
a coordinator's dashboard reads a few rows whatever the programme's size. Each can be rebuilt from the source rows."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.enums import PairingStatus, check_in, stored_as_text

# The counts of a programme week, in the order the dashboard and the rebuild read them.
WEEK_COUNTS = ("held", "minutes_held", "cancelled_by_mentor", "cancelled_by_mentee", "cancelled_by_coordinator",
               "cancelled_by_admin", "cancelled_by_system", "no_show_mentee", "no_show_mentor", "missed", "rating_sum",
               "rating_count", "first_sessions", "first_session_hours", "pairs_started", "pairs_ended", "survey_sum",
               "survey_count")
PAIRING_COUNTS = ("held", "cancelled", "cancelled_by_pair", "no_shows", "missed", "rating_sum", "rating_count",
                  "goals_set", "goals_done")
PROGRAMME_COUNTS = ("proposed", "active", "paused", "ended", "from_run", "top3", "goals_set", "goals_done")


def _counts(names: tuple[str, ...]) -> str:
    return " AND ".join(f"{name} >= 0" for name in names)


class ProgrammeWeek(Base):
    """A programme's week (Monday, UTC): its sessions by outcome (by their start), their reviews, the pairs whose
    first session was held that week and how long after pairing, the pairs made and ended, and the closing surveys
    answered."""

    __tablename__ = "programme_weeks"
    __table_args__ = (CheckConstraint(_counts(WEEK_COUNTS), name="counts_non_negative"),)

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True)
    week: Mapped[date] = mapped_column(primary_key=True)
    held: Mapped[int] = mapped_column(default=0, server_default="0")
    minutes_held: Mapped[int] = mapped_column(default=0, server_default="0")
    cancelled_by_mentor: Mapped[int] = mapped_column(default=0, server_default="0")
    cancelled_by_mentee: Mapped[int] = mapped_column(default=0, server_default="0")
    cancelled_by_coordinator: Mapped[int] = mapped_column(default=0, server_default="0")  # pause, end, removal
    cancelled_by_admin: Mapped[int] = mapped_column(default=0, server_default="0")
    cancelled_by_system: Mapped[int] = mapped_column(default=0, server_default="0")
    no_show_mentee: Mapped[int] = mapped_column(default=0, server_default="0")
    no_show_mentor: Mapped[int] = mapped_column(default=0, server_default="0")
    missed: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_count: Mapped[int] = mapped_column(default=0, server_default="0")
    first_sessions: Mapped[int] = mapped_column(default=0, server_default="0")
    first_session_hours: Mapped[int] = mapped_column(default=0, server_default="0")  # from pairing, summed
    pairs_started: Mapped[int] = mapped_column(default=0, server_default="0")
    pairs_ended: Mapped[int] = mapped_column(default=0, server_default="0")
    survey_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    survey_count: Mapped[int] = mapped_column(default=0, server_default="0")


class PairingTally(Base):
    """A pairing's numbers: its status, whether a match run made it and its mentor's rank there, its sessions by
    outcome, its first and last held sessions, their reviews, and its goals. The pairs at risk are read from these."""

    __tablename__ = "pairing_tallies"
    __table_args__ = (
        CheckConstraint(check_in("status", PairingStatus), name="status_values"),
        CheckConstraint(_counts(PAIRING_COUNTS), name="counts_non_negative"),
        Index("ix_pairing_tallies_programme", "programme_id", "paired_at", "pairing_id"),
    )

    pairing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), primary_key=True)
    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    status: Mapped[PairingStatus] = mapped_column(stored_as_text(PairingStatus))
    paired_at: Mapped[datetime]
    from_run: Mapped[bool] = mapped_column(default=False, server_default="false")
    match_rank: Mapped[int | None] = mapped_column(SmallInteger)
    held: Mapped[int] = mapped_column(default=0, server_default="0")
    cancelled: Mapped[int] = mapped_column(default=0, server_default="0")
    # Those the mentor or mentee asked for one by one (or a series from a date): what the pairs at risk count.
    cancelled_by_pair: Mapped[int] = mapped_column(default=0, server_default="0")
    no_shows: Mapped[int] = mapped_column(default=0, server_default="0")
    missed: Mapped[int] = mapped_column(default=0, server_default="0")
    first_held_at: Mapped[datetime | None]
    last_held_at: Mapped[datetime | None]
    rating_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_count: Mapped[int] = mapped_column(default=0, server_default="0")
    goals_set: Mapped[int] = mapped_column(default=0, server_default="0")
    goals_done: Mapped[int] = mapped_column(default=0, server_default="0")


class ProgrammeTally(Base):
    """A programme's pairs by status, how many a match run made and how many of those have a top-3 mentor, and its
    goals: the sums of its pairings' tallies."""

    __tablename__ = "programme_tallies"
    __table_args__ = (CheckConstraint(_counts(PROGRAMME_COUNTS), name="counts_non_negative"),)

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True)
    proposed: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[int] = mapped_column(default=0, server_default="0")
    paused: Mapped[int] = mapped_column(default=0, server_default="0")
    ended: Mapped[int] = mapped_column(default=0, server_default="0")
    from_run: Mapped[int] = mapped_column(default=0, server_default="0")
    top3: Mapped[int] = mapped_column(default=0, server_default="0")
    goals_set: Mapped[int] = mapped_column(default=0, server_default="0")
    goals_done: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

