"""The moves nobody made: sessions never started become missed, those left in progress are completed.

Run periodically by the maintenance worker; each sweep locks its rows with SKIP LOCKED, so two runs at
once share the work instead of waiting on each other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import MentorshipSession, SessionStatus
from workflows.clock import utcnow
from workflows.roles import Role
from workflows.sessions import SESSIONS, SessionAction, emit_event


def _ended_before(db: Session, status: SessionStatus, cutoff: datetime, limit: int) -> list[MentorshipSession]:
    """Sessions still in ``status`` that ended before ``cutoff``, locked; rows another run holds are skipped."""
    return list(db.execute(
        select(MentorshipSession)
        .where(MentorshipSession.status == status, MentorshipSession.end_time <= cutoff)
        .order_by(MentorshipSession.end_time)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars())


def mark_missed_sessions(db: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Scheduled sessions never started by end + grace become ``missed``."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=get_settings().missed_grace_minutes)
    rows = _ended_before(db, SessionStatus.SCHEDULED, cutoff, limit)
    for session in rows:
        missed = SESSIONS.apply(session, SessionAction.MISS, Role.SYSTEM)
        emit_event(db, session, missed.event, Role.SYSTEM.value)
    db.flush()
    return len(rows)


def auto_complete_sessions(db: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Sessions left in progress past end + the grace hours are completed by the system."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=get_settings().auto_complete_hours)
    rows = _ended_before(db, SessionStatus.IN_PROGRESS, cutoff, limit)
    for session in rows:
        completed = SESSIONS.apply(session, SessionAction.COMPLETE, Role.SYSTEM)
        session.completed_at = now
        session.completed_by = Role.SYSTEM.value
        emit_event(db, session, completed.event, Role.SYSTEM.value)
    db.flush()
    return len(rows)
