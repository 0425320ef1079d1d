"""Match runs on a real worker of the ``matching`` queue, as the Procfile and compose start it (concurrency 1): a
coordinator's run is carried out there with its progress and its end recorded; a run whose worker was lost is taken
over by the next worker once the sweep finds it past its time limit; the worker consumes nothing else, so a run never
holds a booking's task."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import yaml
from celery import Celery
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from models import MatchDraft, MatchRun, MatchRunStatus, OutboxEvent
from tests.concurrency import wait_until
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.programmes import BASE, create, joined
from tests.servers import live_app
from tests.workers_fixtures import PROCFILE, StartWorker, procfile_workers


def _status(committed: sessionmaker[Session], run_id: str) -> MatchRunStatus:
    with committed() as db:
        return db.get_one(MatchRun, uuid.UUID(run_id)).status


def test_the_matching_worker_runs_a_match_and_takes_over_one_whose_worker_was_lost(
        seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, celery_app: Celery) -> None:
    (queues, concurrency), = [(q, c) for q, c in procfile_workers() if q and "matching" in q.split(",")]
    assert (queues, concurrency) == ("matching", 1)
    compose = yaml.safe_load((PROCFILE.parent / "docker-compose.yml").read_text())
    command = compose["services"]["worker-matching"]["command"]
    assert command[command.index("-Q") + 1] == "matching" and command[command.index("--concurrency") + 1] == "1"
    admin, coordinator = as_caller(UserFactory(is_admin=True)), as_caller(UserFactory())
    people = [as_caller(UserFactory()) for _ in range(4)]
    seed.commit()
    client = live_app(committed).test_client()
    programme = create(client, admin, coordinator)
    client.post(f"{BASE}/{programme['id']}/open-enrolment", headers=coordinator.headers)
    joined(client, coordinator, programme, "mentor", person=people[0], capacity=2)
    for mentee in people[1:]:
        joined(client, coordinator, programme, "mentee", person=mentee)
    start_worker(queues=queues, concurrency=concurrency)
    run = client.post(f"{BASE}/{programme['id']}/match-runs", headers=coordinator.headers).get_json()
    wait_until(lambda: _status(committed, run["id"]) == MatchRunStatus.DONE, 60, "the run done by the worker")
    with committed() as db:
        kinds = db.scalars(select(OutboxEvent.type).where(OutboxEvent.aggregate_id == uuid.UUID(run["id"]))
                           .order_by(OutboxEvent.created_at)).all()
        assert kinds[0] == "match_run.requested" and kinds[-1] == "match_run.completed"
        assert kinds.count("match_run.progress") >= 2
        assert db.scalar(select(func.count()).select_from(MatchDraft)) == 2  # the mentor's two places
    # A run whose worker died long ago (it reads as running, started before the time limit): the sweep hands it on.
    lost = client.post(f"{BASE}/{programme['id']}/match-runs", headers=coordinator.headers).get_json()
    assert lost["status"] in {"queued", "running", "done"}
    wait_until(lambda: _status(committed, lost["id"]) == MatchRunStatus.DONE, 60, "the second run done")
    with committed() as db:
        db.execute(update(MatchRun).where(MatchRun.id == uuid.UUID(lost["id"])).values(
            status=MatchRunStatus.RUNNING, finished_at=None, started_at=datetime.now(UTC) - timedelta(hours=1)))
        db.commit()
    celery_app.send_task("matching.sweep")
    wait_until(lambda: _status(committed, lost["id"]) == MatchRunStatus.DONE, 60, "the lost run taken over")
