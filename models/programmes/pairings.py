"""A pairing: a programme's mentor and mentee joined for a term, with the agreement they meet by, the series of
sessions that carries it, and the closing survey each answers once it ends (``workflows.programmes.pairings``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin
from models.enums import PairingStatus, check_in, stored_as_text
from models.programmes.programmes import CADENCE_WEEKS, SESSION_COUNT, SESSION_MINUTES

MAX_END_REASON = 1000
MAX_SURVEY_TEXT = 2000

# One pairing alive (proposed, active or paused) per mentee of a programme. The predicate is spelled once, here: an
# ON CONFLICT naming this index gives it as this literal, never as a bound parameter.
ONE_LIVE_PAIRING = "uq_pairings_live_mentee"
LIVE_PREDICATE = f"status <> '{PairingStatus.ENDED.value}'"
MAX_OVERRIDE_REASON = 1000


class Pairing(IdMixin, Base):
    """A mentor and a mentee of a programme, paired: ``proposed`` (its sessions requested as a series on the
    mentor's programme listing) → ``active`` (the mentor accepted them) → ``paused`` ↔ ``active`` → ``ended``."""

    __tablename__ = "pairings"
    __table_args__ = (
        CheckConstraint(check_in("status", PairingStatus), name="status_values"),
        CheckConstraint(f"cadence_weeks IN {CADENCE_WEEKS}", name="cadence_values"),
        CheckConstraint(f"session_minutes BETWEEN {SESSION_MINUTES[0]} AND {SESSION_MINUTES[1]}",
                        name="session_minutes_range"),
        CheckConstraint(f"session_count BETWEEN {SESSION_COUNT[0]} AND {SESSION_COUNT[1]}", name="session_count_range"),
        CheckConstraint("(status = 'ended') = (ended_at IS NOT NULL)", name="ended_at_when_ended"),
        CheckConstraint("mentor_participant_id <> mentee_participant_id", name="two_people"),
        CheckConstraint("match_rank BETWEEN 1 AND 10", name="match_rank_range"),
        CheckConstraint("resume_on IS NULL OR status = 'paused'", name="resume_on_when_paused"),
        CheckConstraint(f"override_reason IS NULL OR length(override_reason) <= {MAX_OVERRIDE_REASON}",
                        name="override_reason_length"),
        CheckConstraint("(jsonb_array_length(rules_overridden) = 0) = (override_reason IS NULL)",
                        name="override_has_reason"),
        Index(ONE_LIVE_PAIRING, "programme_id", "mentee_participant_id", unique=True,
              postgresql_where=text(LIVE_PREDICATE)),
        Index("ix_pairings_programme_status", "programme_id", "status"),
        Index("ix_pairings_series_id", "series_id"),
        Index("ix_pairings_mentor_profile_id", "mentor_profile_id"),
        Index("ix_pairings_mentee_user_id", "mentee_user_id"),
        Index("ix_pairings_resume_on", "resume_on", postgresql_where=text("resume_on IS NOT NULL")),
    )

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    mentor_participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programme_participants.id"))
    mentee_participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programme_participants.id"))
    # Who the pair are, as events name them: the mentor by profile, the mentee by user.
    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id"))
    mentee_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id"))
    status: Mapped[PairingStatus] = mapped_column(stored_as_text(PairingStatus), default=PairingStatus.PROPOSED)
    # The agreement: how often, how long, how many sessions.
    cadence_weeks: Mapped[int] = mapped_column(SmallInteger)
    session_minutes: Mapped[int] = mapped_column(SmallInteger)
    session_count: Mapped[int] = mapped_column(SmallInteger)
    # The series carrying its sessions now (a resumed pairing's is a new one), and its first time.
    series_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("booking_series.id"))
    first_start: Mapped[datetime | None]
    # Sessions held under earlier series (before a pause): a resumed pairing asks for the rest.
    sessions_before: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # The version of its programme's plan its steps were copied from (``models.programmes.plans``): none before it
    # became active.
    plan_version: Mapped[int | None]
    # A paused pairing's day to go on by itself (the system resumes it that day, UTC), if its pauser gave one.
    resume_on: Mapped[date | None]
    # The match run that proposed it, and its mentor's rank among the mentee's candidates there (null past 10).
    match_run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("match_runs.id", ondelete="SET NULL"))
    match_rank: Mapped[int | None] = mapped_column(SmallInteger)
    # The programme's hard rules a coordinator paired them across (their words), and the coordinator's reason.
    rules_overridden: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default="[]")
    override_reason: Mapped[str | None] = mapped_column(Text)
    proposed_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    activated_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(16))  # mentor, mentee, coordinator, admin or system
    end_reason: Mapped[str | None] = mapped_column(Text)


class PairingSurvey(Base):
    """What one of the pair said of it once it ended: a rating of 1 to 5, and a few words."""

    __tablename__ = "pairing_surveys"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint(f"length(comment) <= {MAX_SURVEY_TEXT}", name="comment_length"),
        CheckConstraint("role IN ('mentor', 'mentee')", name="role_values"),
    )

    pairing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    answered_at: Mapped[datetime] = mapped_column(server_default=func.now())
