"""One webhook owner cannot take the webhook workers: real worker processes, real receivers that hang.

A hanging receiver here is a real socket that reads the request and never answers (until the test ends).
"""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import timedelta

from celery import Celery
from sqlalchemy import func, update
from sqlalchemy.orm import Session, sessionmaker

from infra.config import get_settings
from models import User, WebhookMessage
from tests.concurrency import wait_until
from tests.factories.accounts import as_caller
from tests.servers import live_app
from tests.webhook_receiver import HANG, Receiver, admin, attempts, emit, endpoint, messages, statuses
from tests.workers_fixtures import StartWorker, procfile_workers

CAP = 2  # WEBHOOK_MAX_INFLIGHT_PER_OWNER's default, which these tests run with


def webhooks_concurrency() -> int:
    """The concurrency of the Procfile's ``webhooks`` worker (``make run``)."""
    (concurrency,) = [c for queues, c in procfile_workers() if queues == "webhooks"]
    return concurrency


def test_an_owner_with_twenty_hanging_endpoints_holds_two_deliveries_and_another_owners_arrive_within_seconds(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
    celery_app: Celery,
) -> None:
    assert get_settings().webhook_max_inflight_per_owner == CAP
    hoarder = admin(seed)  # an admin's endpoints receive every event
    for number in range(20):
        endpoint(seed, receiver, hoarder, f"/hang-{number}")
        receiver.answer(f"/hang-{number}", HANG)
    receiver.watch("/hang-")
    # Two webhook workers as make run starts one (the default 15 s timeout): the cap holds across processes.
    for _ in range(2):
        start_worker(queues="webhooks", concurrency=webhooks_concurrency())
    for _ in range(2):
        emit(committed, celery_app)  # 40 messages to the hoarder's endpoints, 20 deliver tasks
    wait_until(lambda: receiver.most_in_flight_under["/hang-"] >= CAP, 15, "the hoarder's deliveries hanging")
    time.sleep(1)  # every other deliver of the hoarder has had its chance to take a slot

    other = endpoint(seed, receiver, admin(seed), "/other")
    began = time.monotonic()
    emit(committed, celery_app)
    waited = wait_until(lambda: len(receiver.at("/other")) == 1, 5,
                        "another owner's delivery within 5 s, with the hoarder's twenty endpoints hanging")
    print(f"another owner's delivery {time.monotonic() - began:.2f} s after its event (waited {waited:.2f} s); "
          f"the hoarder's requests in flight at most {receiver.most_in_flight_under['/hang-']} at once")
    assert receiver.at("/other")[0].verify_error is None
    assert receiver.most_in_flight_under["/hang-"] == CAP, "more of one owner's deliveries ran at once than its cap"
    assert sum(n for path, n in receiver.in_flight.items() if path.startswith("/hang-")) == CAP, \
        "the hoarder's receivers stopped hanging: the test proved nothing"
    wait_until(lambda: statuses(committed, other.id)() == ["delivered"], 5, "the other owner's outcome")


def user(committed: sessionmaker[Session], user_id: uuid.UUID) -> User:
    with committed() as db:
        found = db.get(User, user_id)
        assert found is not None
        return found


def test_an_endpoint_that_keeps_timing_out_backs_off_while_its_neighbour_delivers(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
    celery_app: Celery, fast_beat: None,
) -> None:
    owner = admin(seed)
    hanging = endpoint(seed, receiver, owner, "/slow", event_types=["booking.accepted"])
    neighbour = endpoint(seed, receiver, owner, "/next-door", event_types=["booking.declined"])
    receiver.answer("/slow", HANG)
    timeout, steps = 1.0, (2.0, 4.0, 60.0)
    start_worker(queues="webhooks", concurrency=2, env={
        "WEBHOOK_TIMEOUT_SECONDS": str(timeout), "WEBHOOK_RETRY_SCHEDULE": ",".join(f"{s:g}s" for s in steps)})
    for _ in range(4):  # a backlog: without a backoff of its own, each message would time out in turn at once
        emit(committed, celery_app, "booking.accepted")
    wait_until(lambda: len(receiver.at("/slow")) == 1, 15, "the first hanging request")
    # While the endpoint backs off, its owner's other endpoint is not held back.
    for _ in range(3):
        emit(committed, celery_app, "booking.declined")
    wait_until(lambda: len(receiver.at("/next-door")) == 3, 3, "the neighbour's deliveries")
    # The first three failures in a row wait 2 s, 4 s, then 60 s (each ± 20 %) after their timeout: the third
    # request comes within about 10 s of the first, a fourth not for a minute.
    time.sleep(timeout + 1.2 * (steps[0] + steps[1]) + timeout + 5)
    requests = receiver.at("/slow")
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(requests)]
    print(f"{len(requests)} requests to the hanging endpoint, {', '.join(f'{gap:.1f}' for gap in gaps)} s apart")
    assert len(requests) == 3, f"{len(requests)} requests: the endpoint did not back off"
    for gap, step in zip(gaps, steps, strict=False):
        assert gap >= timeout + 0.8 * step, gaps
    shown = live_app(committed).test_client().get(
        f"/api/v1/webhook-endpoints/{hanging.id}", headers=as_caller(user(committed, owner.user_id)).headers,
    ).get_json()
    assert shown["consecutive_failures"] == 3 and shown["failing_since"] is not None
    assert shown["backoff_until"] is not None
    assert statuses(committed, neighbour.id)() == ["delivered"] * 3


def test_a_killed_worker_frees_its_owners_slot_once_its_lease_runs_out(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
    celery_app: Celery, fast_beat: None,
) -> None:
    owner = admin(seed)
    stuck = endpoint(seed, receiver, owner, "/stuck", event_types=["booking.accepted"])
    waiting = endpoint(seed, receiver, owner, "/waiting", event_types=["booking.declined"])
    receiver.answer("/stuck", HANG)
    one_slot = {"WEBHOOK_MAX_INFLIGHT_PER_OWNER": "1"}
    worker = start_worker(queues="webhooks", concurrency=2, env=one_slot)
    emit(committed, celery_app, "booking.accepted")
    wait_until(lambda: len(receiver.at("/stuck")) == 1, 15, "the hanging request")
    emit(committed, celery_app, "booking.declined")
    time.sleep(2)
    assert receiver.at("/waiting") == [], "the owner's one slot did not hold"
    worker.kill()  # SIGKILL mid-request: the lease is all that is left of the batch
    # The lease outlives any attempt (about 45 s by default); let its clock run out instead of waiting.
    with committed() as db:
        db.execute(update(WebhookMessage).where(WebhookMessage.endpoint_id == stuck.id,
                                                WebhookMessage.lease_id.is_not(None))
                   .values(next_attempt_at=func.now() - timedelta(seconds=1)))
        db.commit()
    start_worker(queues="webhooks", concurrency=2, env=one_slot)
    wait_until(lambda: statuses(committed, waiting.id)() == ["delivered"], 15,
               "the owner's other endpoint, once the dead batch's lease ran out")
    (lost,) = messages(committed, stuck.id)
    # The dead batch is settled by its endpoint's next lease, which may come just after the other endpoint's.
    wait_until(lambda: any(a.error and "worker stopped" in a.error for a in attempts(committed, lost.id)), 15,
               "the dead attempt recorded as a failure")
    (lost,) = messages(committed, stuck.id)
    assert lost.status == "pending"  # the dead attempt counts as a failure, retried on the schedule
