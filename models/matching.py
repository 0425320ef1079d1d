"""Matching a programme's cohort: each run of the matcher (its inputs and its result, kept, so the same inputs give
the same pairs), the draft pairings a coordinator reviews before publishing them, and each mentee's best candidates
(``workflows.matching``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, SmallInteger, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin
from models.enums import DraftStatus, MatchRunStatus, PreferenceKind, check_in, stored_as_text

MAX_REASONS_TEXT = 600
# At most one run waiting or under way per programme.
ONE_RUN_AT_A_TIME = "uq_match_runs_programme_busy"
ONE_DRAFT_PER_MENTEE = "uq_match_drafts_programme_mentee"
ONE_WORD_PER_PAIR = "uq_match_preferences_pair"


class MatchRun(IdMixin, Base):
    """One run of the matcher over a programme: ``queued`` → ``running`` → ``done`` (or ``failed``, ``cancelled``).
    Its ``inputs`` are the cohort as it stood (free time as bitsets of 15-minute steps, answers, capacities, the
    settings); its ``result`` the assignment with scores and reasons, who was left unmatched and why, and the
    distribution of scores."""

    __tablename__ = "match_runs"
    __table_args__ = (
        CheckConstraint(check_in("status", MatchRunStatus), name="status_values"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint("(status IN ('done', 'failed', 'cancelled')) = (finished_at IS NOT NULL)",
                        name="finished_when_over"),
        Index(ONE_RUN_AT_A_TIME, "programme_id", unique=True,
              postgresql_where=text("status IN ('queued', 'running')")),
        Index("ix_match_runs_programme_created", "programme_id", "created_at", "id"),
        Index("ix_match_runs_busy", "created_at", postgresql_where=text("status IN ('queued', 'running')")),
    )

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    status: Mapped[MatchRunStatus] = mapped_column(stored_as_text(MatchRunStatus), default=MatchRunStatus.QUEUED)
    requested_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    progress: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    stage: Mapped[str] = mapped_column(String(64), default="queued", server_default="queued")
    cancel_requested: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Workers that took it: one lost is replaced once; a run that loses a second is failed, not retried again.
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # SHA-256 of the canonical inputs: two runs with the same digest give the same pairs.
    inputs_digest: Mapped[str | None] = mapped_column(String(64))
    inputs: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)


class MatchDraft(IdMixin, Base):
    """A pairing a run (or a coordinator) drafted: reviewed, swapped, pinned (kept when the match is run again) or
    removed, then published as a pairing (``publishing`` while a worker proposes it; ``failed`` with its
    ``problem`` when it could not be)."""

    __tablename__ = "match_drafts"
    __table_args__ = (
        CheckConstraint(check_in("status", DraftStatus), name="status_values"),
        CheckConstraint("mentor_participant_id <> mentee_participant_id", name="two_people"),
        Index(ONE_DRAFT_PER_MENTEE, "programme_id", "mentee_participant_id", unique=True),
        Index("ix_match_drafts_programme_score", "programme_id", "score", "id"),
        Index("ix_match_drafts_publishing", "programme_id", postgresql_where=text("status = 'publishing'")),
    )

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("match_runs.id", ondelete="SET NULL"))
    mentor_participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programme_participants.id", ondelete="CASCADE"))
    mentee_participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programme_participants.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    pinned: Mapped[bool] = mapped_column(default=False, server_default="false")
    # The pair's first common start the run found: what publication asks for first (else their first free time).
    first_start: Mapped[datetime | None]
    status: Mapped[DraftStatus] = mapped_column(stored_as_text(DraftStatus), default=DraftStatus.DRAFT)
    problem: Mapped[str | None] = mapped_column(Text)
    published_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class MatchCandidate(Base):
    """One of a mentee's best mentors by a run's scores (those they could meet), in rank order: what a mentee who
    chooses reads (with the reasons a mentee may see), and the top-3 the result is measured by."""

    __tablename__ = "match_candidates"
    __table_args__ = (
        CheckConstraint("rank BETWEEN 1 AND 10", name="rank_range"),
        Index("ix_match_candidates_mentor", "run_id", "mentor_participant_id"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("match_runs.id", ondelete="CASCADE"), primary_key=True)
    mentee_participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programme_participants.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    mentor_participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programme_participants.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")


class MatchPreference(IdMixin, Base):
    """A coordinator's word on a mentee and a mentor that every later run obeys: ``never`` pair them, or ``prefer``
    them (paired first, if they fit: rules kept, time in common, a place left). One word per pair; a pair whose
    pairing ended in the programme is kept apart unless it is preferred."""

    __tablename__ = "match_preferences"
    __table_args__ = (
        CheckConstraint(check_in("kind", PreferenceKind), name="kind_values"),
        CheckConstraint("mentor_participant_id <> mentee_participant_id", name="two_people"),
        Index(ONE_WORD_PER_PAIR, "programme_id", "mentee_participant_id", "mentor_participant_id", unique=True),
    )

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    mentee_participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programme_participants.id", ondelete="CASCADE"))
    mentor_participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programme_participants.id", ondelete="CASCADE"))
    kind: Mapped[PreferenceKind] = mapped_column(stored_as_text(PreferenceKind))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
