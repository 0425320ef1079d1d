"""``/metrics``: requests by route and status, outbox backlog, task durations from real workers."""

from __future__ import annotations

import os
import re
import time
import uuid

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import MentorshipSession
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.bookings import BookingFactory
from tests.servers import live_app
from tests.workers_fixtures import StartWorker


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample, 0 when absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_need_the_token_or_an_admin(client: FlaskClient, db: Session) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=as_caller(UserFactory()).headers).status_code == 403
    assert client.get("/metrics", headers=as_caller(UserFactory(is_admin=True)).headers).status_code == 200
    response = client.get("/metrics", headers={"Authorization": f"Bearer {os.environ['METRICS_TOKEN']}"})
    assert response.status_code == 200 and b"outbox_pending_handlers" in response.data


def db_session_made(committed: sessionmaker[Session], booking_id: uuid.UUID) -> bool:
    """Whether the worker made the booking's session (this test's task ran)."""
    with committed() as db:
        return db.scalar(select(MentorshipSession.id).where(MentorshipSession.booking_id == booking_id)) is not None


def test_metrics_count_requests_outbox_and_worker_tasks(
    seed: Session, committed: sessionmaker[Session], start_worker: StartWorker
) -> None:
    booking = BookingFactory()
    listing = booking.listing
    seed.commit()
    client = live_app(committed).test_client()
    token = {"Authorization": f"Bearer {os.environ['METRICS_TOKEN']}"}
    before = client.get("/metrics", headers=token).get_data(as_text=True)
    route = "/api/v1/bookings/<uuid:booking_id>/accept"
    accepted_before = sample(before, "http_requests_total", route=route, status="200")
    tasks_before = sample(before, "celery_task_duration_seconds_count", task="sessions.create_from_booking")
    successes_before = sample(before, "celery_tasks_total", task="sessions.create_from_booking", outcome="success")
    assert client.post(f"/api/v1/bookings/{booking.id}/accept",
                       headers=as_caller(listing.mentor_profile.user).headers).status_code == 200
    backlog = client.get("/metrics", headers=token).get_data(as_text=True)
    assert sample(backlog, "outbox_pending_handlers") >= 1
    assert sample(backlog, "http_requests_total", route=route, status="200") == accepted_before + 1
    assert re.search(r'http_request_duration_seconds_bucket\{.*route="/api/v1/bookings/<uuid:booking_id>/accept"',
                     backlog)
    start_worker()
    deadline = time.monotonic() + 20

    def succeeded(text: str) -> float:
        return sample(text, "celery_tasks_total", task="sessions.create_from_booking", outcome="success")

    # Until this test's task is counted a success: other tests' workers write to the same metrics directory, so
    # another's task may be counted first (it may be counted too: at least one more).
    while time.monotonic() < deadline:
        text = client.get("/metrics", headers=token).get_data(as_text=True)
        if succeeded(text) > successes_before and db_session_made(committed, booking.id):
            break
        time.sleep(0.3)
    assert sample(text, "celery_task_duration_seconds_count", task="sessions.create_from_booking") > tasks_before
    assert succeeded(text) >= successes_before + 1 and db_session_made(committed, booking.id)


def test_unknown_methods_and_unmatched_paths_share_one_label_each(client: FlaskClient, db: Session) -> None:
    token = {"Authorization": f"Bearer {os.environ['METRICS_TOKEN']}"}
    method, path = f"X{uuid.uuid4().hex[:8].upper()}", f"/nowhere-{uuid.uuid4().hex}"
    before = client.get("/metrics", headers=token).get_data(as_text=True)
    others = sample(before, "http_requests_total", method="other", route="unmatched", status="405")
    unmatched = sample(before, "http_requests_total", method="GET", route="unmatched", status="404")
    assert client.open("/api/v1/me", method=method).status_code == 405
    assert client.get(path).status_code == 404
    after = client.get("/metrics", headers=token).get_data(as_text=True)
    assert method not in after and path not in after
    assert sample(after, "http_requests_total", method="other", route="unmatched", status="405") == others + 1
    assert sample(after, "http_requests_total", method="GET", route="unmatched", status="404") == unmatched + 1
