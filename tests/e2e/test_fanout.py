"""Completion fans out to separate handlers: each side effect once, independently, through crashes."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from infra.celery_config import create_celery
from infra.config import get_settings
from models import (
    OutboxEvent,
    OutboxHandler,
)
from tests.concurrency import wait_until
from tests.servers import live_app
from tests.workers_fixtures import BeatProcess, StartWorker
from tests.workflow_runs import seed_sessions_in_progress, side_effects


def test_completion_side_effects_happen_once_each_when_a_worker_is_killed(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker,
    start_beat: Callable[..., BeatProcess],
) -> None:
    sessions = seed_sessions_in_progress(seed, 60)
    client = live_app(committed).test_client()
    for mentor, _mentee, session_id in sessions:
        response = client.post(f"/api/v1/sessions/{session_id}/complete", headers=mentor.headers)
        assert response.status_code == 200
    # One row per claim: a handler drains the 60 events in 60 transactions, so the kill lands between and within them.
    worker = start_worker(concurrency=2, env={"HANDLER_BATCH": "1"})
    wait_until(lambda: side_effects(committed)["eligibilities"] >= 5, 30, "the worker to get going")
    worker.kill()  # mid-stream: some side effects done, some in flight, some still queued
    at_kill = side_effects(committed)
    assert 0 < at_kill["pending_handlers"] < 3 * 60, f"the kill did not land mid-stream: {at_kill}"
    start_worker(concurrency=2)
    start_beat()
    expected = {"notifications": 120, "eligibilities": 60, "completed_counted": 60, "pending_handlers": 0}
    wait_until(lambda: side_effects(committed) == expected, 75, f"all side effects once: {expected}")
    time.sleep(2)
    assert side_effects(committed) == expected
    mentor, mentee, session_id = sessions[0]
    review = client.post(f"/api/v1/sessions/{session_id}/review", json={"rating": 5}, headers=mentee.headers)
    assert review.status_code == 201
    stats = client.get(f"/api/v1/mentor-profiles/{mentor.user.mentor_profile.id}/stats", headers=mentee.headers)
    assert stats.get_json()["sessions_completed"] == 1


def test_a_failing_side_effect_neither_blocks_nor_repeats_the_others(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker,
    start_beat: Callable[..., BeatProcess],
) -> None:
    ((mentor, _mentee, session_id),) = seed_sessions_in_progress(seed, 1)
    with committed.kw["bind"].begin() as conn:
        conn.execute(text("""
            CREATE FUNCTION refuse_stats() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'analytics store unavailable'; END $$;
            CREATE TRIGGER refuse_stats BEFORE INSERT OR UPDATE ON mentor_stats
            FOR EACH ROW EXECUTE FUNCTION refuse_stats();
        """))
    try:
        client = live_app(committed).test_client()
        start_worker()
        start_beat()
        assert client.post(f"/api/v1/sessions/{session_id}/complete", headers=mentor.headers).status_code == 200

        def analytics_failed() -> bool:
            with committed() as db:
                error = db.scalar(select(OutboxHandler.last_error).where(OutboxHandler.handler == "analytics.record"))
                return error is not None and "analytics store unavailable" in error

        def others_done_while_analytics_fails() -> bool:
            effects = side_effects(committed)
            done = (effects["notifications"], effects["eligibilities"], effects["completed_counted"]) == (2, 1, 0)
            return done and analytics_failed()

        wait_until(others_done_while_analytics_fails, 20, "the other side effects while analytics fails")
    finally:
        with committed.kw["bind"].begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_stats ON mentor_stats; DROP FUNCTION refuse_stats();"))
    # The relay redelivers the failed handler alone; the others are not repeated.
    expected = {"notifications": 2, "eligibilities": 1, "completed_counted": 1, "pending_handlers": 0}
    wait_until(lambda: side_effects(committed) == expected, 60, "analytics to be redelivered")
    with committed() as db:
        events = db.scalar(select(func.count()).where(OutboxEvent.type == "session.completed"))
    assert events == 1


def test_each_completion_handler_delivered_three_times_does_its_effect_once(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker,
) -> None:
    ((mentor, _mentee, session_id),) = seed_sessions_in_progress(seed, 1)
    client = live_app(committed).test_client()  # publishes each handler's task once, after commit
    assert client.post(f"/api/v1/sessions/{session_id}/complete", headers=mentor.headers).status_code == 200
    with committed() as db:
        event_id = db.scalar(select(OutboxEvent.id).where(OutboxEvent.type == "session.completed"))
    app = create_celery(get_settings())
    for handler in ("reviews.unlock", "notifications.notify", "analytics.record"):
        for _ in range(2):  # two more copies of each: three deliveries in all
            app.send_task(handler, args=[str(event_id)])
    start_worker(concurrency=2)
    expected = {"notifications": 2, "eligibilities": 1, "completed_counted": 1, "pending_handlers": 0}
    wait_until(lambda: side_effects(committed) == expected, 20, f"each side effect once: {expected}")
    time.sleep(2)  # every copy has been taken by now; none may add a second effect
    assert side_effects(committed) == expected
