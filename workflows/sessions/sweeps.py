"""The moves nobody made: when a session's time is over, who checked in decides how it ends.

Scheduled sessions never started, by ``MISSED_GRACE_MINUTES`` after the end, and sessions left in progress, by
``AUTO_COMPLETE_HOURS`` after it, end as ``workflows.sessions.attendance.close`` finds: completed when both sides came,
a no-show of the side that did not, missed when nobody did. Run periodically by the maintenance worker; each sweep
locks its rows with SKIP LOCKED, so two runs at once share the work instead of waiting on each other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import MentorshipSession, SessionStatus
from workflows.clock import utcnow
from workflows.sessions import attendance


def _ended_before(db: Session, status: SessionStatus, cutoff: datetime, limit: int) -> list[MentorshipSession]:
    """Sessions still in ``status`` that ended before ``cutoff``, locked; rows another run holds are skipped."""
    return list(db.execute(
        select(MentorshipSession)
        .where(MentorshipSession.status == status, MentorshipSession.end_time <= cutoff)
        .order_by(MentorshipSession.end_time)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars())


def _close(db: Session, status: SessionStatus, cutoff: datetime, now: datetime, limit: int) -> int:
    rows = _ended_before(db, status, cutoff, limit)
    for session in rows:
        attendance.close(db, session, now=now)
    db.flush()
    return len(rows)


def mark_missed_sessions(db: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Scheduled sessions never started by end + grace: missed, or a no-show of whoever did not check in, or
    completed when both did."""
    now = now or utcnow()
    return _close(db, SessionStatus.SCHEDULED, now - timedelta(minutes=get_settings().missed_grace_minutes), now,
                  limit)


def auto_complete_sessions(db: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Sessions left in progress past end + the grace hours: completed by the system when both sides checked in,
    else a no-show of the side that did not."""
    now = now or utcnow()
    return _close(db, SessionStatus.IN_PROGRESS, now - timedelta(hours=get_settings().auto_complete_hours), now,
                  limit)
