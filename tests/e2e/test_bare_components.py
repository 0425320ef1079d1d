"""Each component starts with the ecosystem's usual command, configured by ``DATABASE_URL`` and ``REDIS_URL`` alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from devstack.host import free_port, stop_groups
from tests.workers_fixtures import RedisServer

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture
def bare_stack(database_url: str, private_redis: RedisServer, committed: sessionmaker[Session],
               tmp_path: Path) -> Iterator[tuple[str, dict[str, Path]]]:
    """gunicorn, a worker and beat, each with nothing but the two URLs (and PATH) in its environment."""
    port = free_port()
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": database_url, "REDIS_URL": private_redis.url}
    commands = {
        "api": [str(BIN / "gunicorn"), "api:create_app()", "--bind", f"127.0.0.1:{port}"],
        "worker": [str(BIN / "celery"), "-A", "workers", "worker"],
        "beat": [str(BIN / "celery"), "-A", "workers", "beat", "--schedule", str(tmp_path / "beat-schedule")],
    }
    processes: list[subprocess.Popen[bytes]] = []
    logs = {name: tmp_path / f"{name}.log" for name in commands}
    try:
        for name, command in commands.items():
            with logs[name].open("wb") as log:
                processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                  start_new_session=True))
        yield f"http://127.0.0.1:{port}", logs
    finally:
        stop_groups(*processes, grace=20)


def _wait_for(check: Any, what: str, logs: dict[str, Path], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except httpx.TransportError:
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s\n" + "\n".join(
        f"--- {name}\n{path.read_text(errors='replace')[-3000:]}" for name, path in logs.items()))


def test_bare_api_worker_and_beat_take_a_booking_to_its_session(bare_stack: tuple[str, dict[str, Path]]) -> None:
    base, logs = bare_stack
    with httpx.Client(base_url=base, timeout=10) as client:
        _journey(client, logs)


def _journey(client: httpx.Client, logs: dict[str, Path]) -> None:
    _wait_for(lambda: client.get("/health/ready").status_code == 200, "the API is not ready", logs)

    def sign_up(email: str) -> dict[str, str]:
        password = "a long enough password"
        registered = client.post("/api/v1/auth/register",
                                 json={"email": email, "password": password, "display_name": email})
        assert registered.status_code == 201, registered.text
        token = client.post("/api/v1/auth/token", json={"email": email, "password": password}).json()
        return {"Authorization": f"Bearer {token['access_token']}"}

    mentor, mentee = sign_up("bare-mentor@example.com"), sign_up("bare-mentee@example.com")
    profile = client.post("/api/v1/mentor-profiles", headers=mentor,
                          json={"headline": "Rust", "timezone": "UTC", "skills": ["rust"]})
    assert profile.status_code == 201, profile.text
    listing = client.post("/api/v1/listings", headers=mentor,
                          json={"title": "Rust review", "skill": "rust", "duration_minutes": 30,
                                "price_cents": 1000}).json()
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)  # a slot
    booking = client.post("/api/v1/bookings", headers=mentee,
                          json={"listing_id": listing["id"], "start_time": start.isoformat()}).json()
    accepted = client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=mentor)
    assert accepted.status_code == 200, accepted.text

    session_id = _wait_for(lambda: client.get(f"/api/v1/bookings/{booking['id']}", headers=mentee)
                           .json()["session_id"], "the worker did not create the session", logs)
    session = client.get(f"/api/v1/sessions/{session_id}", headers=mentor)
    assert (session.status_code, session.json()["status"]) == (200, "scheduled")
    # Beat is alive and sending its periodic tasks, which the worker runs.
    _wait_for(lambda: "maintenance.relay_outbox" in logs["beat"].read_text(errors="replace"),
              "beat sent no relay", logs)
    _wait_for(lambda: "maintenance.relay_outbox" in logs["worker"].read_text(errors="replace"),
              "the worker ran no relay", logs)
