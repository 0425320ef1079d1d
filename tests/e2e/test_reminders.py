"""Reminders through real worker processes: the beat task sent many times at once tells each participant
once per (session, offset), and records one ``session.reminder`` event per (session, offset)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from celery import Celery
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Notification, OutboxEvent, SessionReminder, SessionStatus
from tests.concurrency import wait_until
from tests.factories.sessions import group_session, individual_session
from tests.workers_fixtures import BeatProcess, StartWorker
from workflows.events import EventType


def test_concurrent_reminder_runs_tell_each_participant_once_per_session_and_offset(
    seed: Session, committed: sessionmaker[Session], celery_app: Celery, start_worker: StartWorker,
) -> None:
    now = datetime.now(UTC)
    # REMINDER_OFFSETS=1h,10m: the first ten are due their one-hour reminder, the last five their ten-minute one.
    sessions = [individual_session(seed, now + timedelta(minutes=30, seconds=i)) for i in range(10)]
    sessions += [individual_session(seed, now + timedelta(minutes=5, seconds=i)) for i in range(5)]
    group, mentees = group_session(seed, now + timedelta(minutes=40), seats=4)
    seed.commit()
    expected = 2 * 15 + 1 + len(mentees)

    env = {"REMINDER_OFFSETS": "1h,10m"}
    start_worker(queues="maintenance", concurrency=2, env=env)
    start_worker(queues="maintenance", concurrency=2, env=env)
    for _ in range(12):  # as if several beats (or a restarted one) sent it at once
        celery_app.send_task("maintenance.send_reminders")

    def told() -> int:
        with committed() as db:
            return len(db.scalars(select(Notification.id).where(Notification.type == EventType.SESSION_REMINDER)).all())

    wait_until(lambda: told() >= expected, 30, "every reminder")
    time.sleep(2)  # any late duplicate would land by now
    for _ in range(4):
        celery_app.send_task("maintenance.send_reminders")
    time.sleep(2)

    with committed() as db:
        notes = db.scalars(select(Notification).where(Notification.type == EventType.SESSION_REMINDER)).all()
        per_person = Counter((n.data["resource"]["id"], n.user_id, n.data["resource"]["offset_seconds"])
                             for n in notes)
        events = db.scalars(select(OutboxEvent).where(OutboxEvent.type == EventType.SESSION_REMINDER)).all()
        per_session = Counter((e.payload["id"], e.payload["offset_seconds"]) for e in events)
        rows = db.scalars(select(SessionReminder)).all()
    assert len(notes) == expected
    assert set(per_person.values()) == {1}
    assert len(rows) == expected
    assert len(per_session) == 16 and set(per_session.values()) == {1}
    offsets = {str(s.id): offset for (s_id, offset) in per_session for s in sessions if str(s.id) == s_id}
    assert sorted(Counter(offsets.values()).items()) == [(600, 5), (3600, 10)]
    assert per_session[(str(group.id), 3600)] == 1


def test_two_beats_remind_each_participant_once_per_offset_and_never_for_a_cancelled_session(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker,
    start_beat: Callable[..., BeatProcess],
) -> None:
    """Two beat processes each send ``maintenance.send_reminders`` every second; offsets of 15 s and 5 s."""
    env = {"REMINDER_OFFSETS": "15s,5s", "REMINDER_CHECK_SECONDS": "1"}
    start_worker(queues="maintenance", concurrency=2, env=env)
    start_beat(env=env)
    start_beat(env=env)
    now = datetime.now(UTC)
    sessions = [individual_session(seed, now + timedelta(seconds=20)) for _ in range(3)]
    group, mentees = group_session(seed, now + timedelta(seconds=20), seats=2)
    cancelled = individual_session(seed, now + timedelta(seconds=20))
    cancelled.status = SessionStatus.CANCELLED  # before its first reminder is due (in 5 s)
    seed.commit()
    people = 2 * len(sessions) + 1 + len(mentees)

    def rows() -> list[SessionReminder]:
        with committed() as db:
            return list(db.scalars(select(SessionReminder)).all())

    wait_until(lambda: len(rows()) >= 2 * people, 45, "both reminders of every participant")
    time.sleep(3)  # beats keep sending until the sessions start: nothing more may come of it

    with committed() as db:
        notes = db.scalars(select(Notification).where(Notification.type == EventType.SESSION_REMINDER)).all()
        events = db.scalars(select(OutboxEvent).where(OutboxEvent.type == EventType.SESSION_REMINDER)).all()
    per_person = Counter((n.data["resource"]["id"], n.user_id, n.data["resource"]["offset_seconds"]) for n in notes)
    assert len(rows()) == len(notes) == 2 * people
    assert set(per_person.values()) == {1}
    assert sorted(Counter(offset for (_, _, offset) in per_person).items()) == [(5, people), (15, people)]
    per_session = Counter((e.payload["id"], e.payload["offset_seconds"]) for e in events)
    assert len(per_session) == 2 * (len(sessions) + 1) and set(per_session.values()) == {1}
    assert str(cancelled.id) not in {session_id for (session_id, _, _) in per_person}
    assert str(group.id) in {session_id for (session_id, _) in per_session}
