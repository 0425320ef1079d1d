"""One request id, followed from the API into every task it causes, in JSON log lines."""

from __future__ import annotations

import json
import time
import uuid

from sqlalchemy.orm import Session, sessionmaker

from tests.factories.accounts import as_caller
from tests.factories.bookings import BookingFactory
from tests.servers import live_app
from tests.workers_fixtures import StartWorker


def test_request_id_follows_the_work_into_tasks(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker
) -> None:
    booking = BookingFactory()
    listing = booking.listing
    seed.commit()
    worker = start_worker()
    request_id = f"trace-{uuid.uuid4().hex[:8]}"
    response = live_app(committed).test_client().post(
        f"/api/v1/bookings/{booking.id}/accept",
        headers={**as_caller(listing.mentor_profile.user).headers, "X-Request-ID": request_id})
    assert response.headers["X-Request-ID"] == request_id

    def traced() -> list[dict]:
        lines = []
        for line in worker.log().splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("request_id") == request_id:
                    lines.append(record)
        return lines

    def tasks_seen() -> set[str | None]:
        return {r.get("task_name") for r in traced()}

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (
        any(r.get("event") == "session.created" for r in traced())
        and {"sessions.create_from_booking", "notifications.notify"} <= tasks_seen()
    ):
        time.sleep(0.2)
    records = traced()
    tasks = {r.get("task_name") for r in records}
    assert {"sessions.create_from_booking", "notifications.notify"} <= tasks, records
    created = next(r for r in records if r["event"] == "session.created")
    assert created["booking_id"] == str(booking.id) and created["task_id"]
