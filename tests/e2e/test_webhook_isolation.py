"""Hanging webhook receivers never delay session creation, with the workers laid out as ``make run`` lays them out."""

from __future__ import annotations

import shlex
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tests.e2e.test_webhook_delivery import HANG, Receiver, admin, endpoint, receiver  # noqa: F401 - a fixture
from tests.e2e.test_workflow_guarantees import (
    _accept_all,
    every_booking_has_one_session,
    live_app,
    seed_drafts,
    wait_until,
)
from tests.workers_fixtures import StartWorker

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def procfile_workers() -> list[tuple[str | None, int]]:
    """(queues, concurrency) of each ``celery -A workers worker`` line of the Procfile ``make run`` starts."""
    found = []
    for line in PROCFILE.read_text().splitlines():
        _name, _, command = line.partition(":")
        words = shlex.split(command)
        if "celery" not in words or "worker" not in words:
            continue
        queues, concurrency = None, 2
        for flag, value in zip(words, [*words[1:], ""], strict=True):
            if flag in {"-Q", "--queues"}:
                queues = value
            elif flag in {"-c", "--concurrency"}:
                concurrency = int(value)
            elif flag.startswith("--queues="):
                queues = flag.split("=", 1)[1]
            elif flag.startswith("--concurrency="):
                concurrency = int(flag.split("=", 1)[1])
        found.append((queues, concurrency))
    assert found, "the Procfile starts no worker"
    return found


def test_five_hanging_receivers_never_delay_a_session_under_the_make_run_layout(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker, receiver: Receiver,  # noqa: F811
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
    _accept_all(app, mentor, ids[:4])
    wait_until(lambda: sum(receiver.in_flight.values()) >= 2, 15, "deliveries hanging at the receivers")
    began = time.monotonic()
    _accept_all(app, mentor, ids[4:])
    waited = wait_until(lambda: every_booking_has_one_session(committed, ids), 10,
                        "every session within 10 s of the accepts, with five receivers hanging")
    print(f"20 sessions {time.monotonic() - began:.1f} s after the first accept (waited {waited:.1f} s)")
    assert sum(receiver.in_flight.values()) >= 2, "the receivers stopped hanging: the test proved nothing"
