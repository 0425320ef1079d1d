"""Real Celery worker processes and committed data for the tests that need them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from models import Base

BIN = Path(sys.executable).parent


@dataclass
class WorkerProcess:
    """A ``celery -A workers worker`` subprocess and its log."""

    process: subprocess.Popen[bytes]
    log_path: Path
    name: str
    _closed: bool = field(default=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            time.sleep(0.1)
        raise TimeoutError(f"worker not ready after {timeout} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the whole worker: the main process and its pool children."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._closed = True

    def stop(self) -> None:
        if self._closed or self.process.poll() is not None:
            self._closed = True
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._closed = True


StartWorker = Callable[..., WorkerProcess]


@pytest.fixture
def start_worker(database_url: str, tmp_path: Path) -> Iterator[StartWorker]:
    """Start real worker processes on this run's database and Redis prefix; stopped after the test."""
    started: list[WorkerProcess] = []

    def start(
        *, queues: str | None = None, concurrency: int = 2, env: dict[str, str] | None = None
    ) -> WorkerProcess:
        name = f"test-{uuid.uuid4().hex[:8]}"
        log_path = tmp_path / f"{name}.log"
        command = [
            str(BIN / "celery"), "-A", "workers", "worker", "-n", f"{name}@%h", "-l", "INFO",
            "-c", str(concurrency), "--without-gossip", "--without-mingle",
        ]
        if queues:
            command += ["-Q", queues]
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**os.environ, "DATABASE_URL": database_url, **(env or {})},
                start_new_session=True,
            )
        worker = WorkerProcess(process, log_path, name)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def committed(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit, for tests where other processes must see the data.

    Every table is emptied afterwards, so the next test starts clean.
    """
    yield sessionmaker(bind=engine, expire_on_commit=False)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} CASCADE"))
