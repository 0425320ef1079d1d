"""The moves nobody makes (``workflows/sessions/sweeps.py``): a session never started is missed once the grace after
its end has passed; one left in progress is completed by the system some hours after its end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from infra.config import get_settings
from models import MentorshipSession, SessionStatus
from tests.database import events_of
from tests.factories.sessions import individual_session
from workflows.sessions import sweeps as session_sweeps

# The sweeps read every session of the database: long ago, so that no other test's committed rows are due.
START = datetime(2021, 3, 1, 9, tzinfo=UTC)
MOMENT = timedelta(microseconds=1)


def session_in(db: Session, status: SessionStatus, start: datetime = START) -> MentorshipSession:
    session = individual_session(db, start)
    session.status = status
    # What the database asks of a session in that status (started, completed).
    if status in {SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED}:
        session.started_at = start
    if status == SessionStatus.COMPLETED:
        session.completed_at = session.end_time
    db.flush()
    return session


def test_a_session_never_started_is_missed_once_the_grace_after_its_end_has_passed(db: Session) -> None:
    session = session_in(db, SessionStatus.SCHEDULED)
    missed_at = session.end_time + timedelta(minutes=get_settings().missed_grace_minutes)
    assert session_sweeps.mark_missed_sessions(db, now=missed_at - MOMENT) == 0
    assert session.status == SessionStatus.SCHEDULED
    assert session_sweeps.mark_missed_sessions(db, now=missed_at) == 1
    assert session.status == SessionStatus.MISSED
    assert events_of(db, session.id) == [("session.missed", "system")]
    assert session_sweeps.mark_missed_sessions(db, now=missed_at + timedelta(days=1)) == 0


def test_the_grace_is_the_configured_one(db: Session, configure: Callable[..., None]) -> None:
    configure(MISSED_GRACE_MINUTES="0")
    session = session_in(db, SessionStatus.SCHEDULED)
    assert session_sweeps.mark_missed_sessions(db, now=session.end_time) == 1


def test_a_session_left_in_progress_without_check_ins_is_completed_by_the_system_hours_after_its_end(
        db: Session) -> None:
    # Started before check-ins were recorded: completed as it always was (tests/workflows/sessions/test_attendance.py
    # has the sessions whose check-ins decide).
    session = session_in(db, SessionStatus.IN_PROGRESS)
    due = session.end_time + timedelta(hours=get_settings().auto_complete_hours)
    assert session_sweeps.auto_complete_sessions(db, now=due - MOMENT) == 0
    assert session_sweeps.auto_complete_sessions(db, now=due) == 1
    assert (session.status, session.completed_by, session.completed_at) == (SessionStatus.COMPLETED, "system", due)
    assert events_of(db, session.id) == [("session.completed", "system")]
    assert session_sweeps.auto_complete_sessions(db, now=due + timedelta(days=1)) == 0


def test_each_sweep_moves_only_sessions_in_its_own_status(db: Session) -> None:
    later = START + timedelta(days=30)
    by_status = {status: session_in(db, status) for status in SessionStatus}
    assert session_sweeps.mark_missed_sessions(db, now=later) == 1
    assert session_sweeps.auto_complete_sessions(db, now=later) == 1
    assert {status: session.status for status, session in by_status.items()} == {
        SessionStatus.SCHEDULED: SessionStatus.MISSED, SessionStatus.IN_PROGRESS: SessionStatus.COMPLETED,
        SessionStatus.COMPLETED: SessionStatus.COMPLETED, SessionStatus.CANCELLED: SessionStatus.CANCELLED,
        SessionStatus.MISSED: SessionStatus.MISSED, SessionStatus.MENTEE_NO_SHOW: SessionStatus.MENTEE_NO_SHOW,
        SessionStatus.MENTOR_NO_SHOW: SessionStatus.MENTOR_NO_SHOW}


def test_a_sweep_takes_at_most_its_limit_those_that_ended_first(db: Session) -> None:
    made = [session_in(db, SessionStatus.SCHEDULED, START - timedelta(hours=hours)) for hours in (1, 3, 2)]
    assert session_sweeps.mark_missed_sessions(db, now=START + timedelta(days=1), limit=2) == 2
    assert [s.status for s in made] == [SessionStatus.SCHEDULED, SessionStatus.MISSED, SessionStatus.MISSED]
