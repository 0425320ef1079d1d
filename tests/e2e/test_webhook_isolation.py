"""Hanging webhook receivers never delay session creation, with the workers laid out as ``make run`` lays them out."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from tests.concurrency import wait_until
from tests.servers import live_app
from tests.webhook_receiver import HANG, Receiver, admin, endpoint
from tests.workers_fixtures import StartWorker, procfile_workers
from tests.workflow_runs import accept_all, every_booking_has_one_session, seed_drafts


def test_five_hanging_receivers_never_delay_a_session_under_the_make_run_layout(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,
) -> None:
    owner = admin(seed)  # an admin's endpoints receive every event
    for number in range(5):
        endpoint(seed, receiver, owner, f"/hang-{number}")
        receiver.answer(f"/hang-{number}", HANG)
    mentor, ids = seed_drafts(seed, 24)
    app = live_app(committed)
    for queues, concurrency in procfile_workers():
        start_worker(queues=queues, concurrency=concurrency)  # the default 15 s webhook timeout
    # First, hanging deliveries take whatever slots webhook delivery may use.
    accept_all(app, mentor, ids[:4])
    wait_until(lambda: sum(receiver.in_flight.values()) >= 2, 15, "deliveries hanging at the receivers")
    began = time.monotonic()
    accept_all(app, mentor, ids[4:])
    waited = wait_until(lambda: every_booking_has_one_session(committed, ids), 10,
                        "every session within 10 s of the accepts, with five receivers hanging")
    print(f"20 sessions {time.monotonic() - began:.1f} s after the first accept (waited {waited:.1f} s)")
    assert sum(receiver.in_flight.values()) >= 2, "the receivers stopped hanging: the test proved nothing"
