"""The system under measurement: a database of its own, and gunicorn and Celery as separate processes.

The run creates ``mentorship_bench_<id>`` on the server ``DATABASE_URL`` names,
builds it with Alembic, puts its Redis keys under a prefix of its own, and drops
and deletes only those at the end. Servers are started exactly as ``make run``
starts them (``gunicorn.conf.py``; a Celery worker with ``--concurrency 2``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from devstack.host import (
    CSTIME,
    CUTIME,
    STIME,
    UTIME,
    all_stat_fields,
    children_of,
    free_port,
    process_name,
    stat_fields,
    stop_groups,
)
from infra.config import sqlalchemy_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKER_CONCURRENCY = 2  # as in the Procfile
# The Procfile's two workers, as ``make run`` starts them: the core worker, and the webhooks worker.
CORE_QUEUES = "sessions,events,maintenance,reviews,notifications,analytics"
WEBHOOKS_QUEUES, WEBHOOKS_CONCURRENCY = "webhooks", 4
CALENDARS_QUEUES, CALENDARS_CONCURRENCY = "calendars", 2


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far, in seconds."""
    fields = stat_fields(pid)
    if fields is None:
        raise RuntimeError(f"no /proc/{pid}/stat")
    return (int(fields[UTIME]) + int(fields[STIME])) / os.sysconf("SC_CLK_TCK")


#: The servers whose CPU the benchmarks count by process name: every process of each, on this machine.
SERVER_NAMES = {"postgres": "postgres", "redis": "redis-server"}


def server_cpu_seconds() -> dict[str, float]:
    """CPU used so far by all PostgreSQL and all Redis processes on this machine (seconds), by server.

    Only the benchmark should be using them while it measures. A backend that has exited counts in its
    postmaster's children's time (``cutime``, ``cstime``), so connections opened and closed between two
    readings are counted too.
    """
    totals = dict.fromkeys(SERVER_NAMES, 0.0)
    for pid, fields in all_stat_fields():
        name = process_name(pid)
        for server, command in SERVER_NAMES.items():
            if name == command:
                ticks = sum(int(fields[index]) for index in (UTIME, STIME, CUTIME, CSTIME))
                totals[server] += ticks / os.sysconf("SC_CLK_TCK")
    return totals


@dataclass
class Process:
    """A server process in its own process group, its output in a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log()[-4000:]}")

    def children_peak_rss_mb(self) -> float:
        """The largest peak RSS among the worker children (gunicorn workers, Celery pool processes)."""
        children = children_of(self.popen.pid)
        if not children:
            raise RuntimeError(f"{self.name} has no child processes")
        return max(peak_rss_mb(child) for child in children)

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time used so far by the main process, and by its children (workers, pool processes) together."""
        return cpu_seconds(self.popen.pid), sum(cpu_seconds(child) for child in children_of(self.popen.pid))

    def stop(self) -> None:
        stop_groups(self.popen, grace=30)


@dataclass
class Stack:
    """Environment, database and Redis prefix of one benchmark run; starts and stops its servers."""

    env: dict[str, str]
    database_url: str
    redis_url: str
    prefix: str
    work_dir: Path
    engine: Engine
    processes: list[Process] = field(default_factory=list)
    _shared_api: tuple[Process, str] | None = None

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> Process:
        log_path = self.work_dir / f"{name}-{len(self.processes)}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(  # noqa: S603 - our own executables
                argv, cwd=ROOT, env={**self.env, **(extra_env or {})}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log_path)
        self.processes.append(process)
        return process

    def start_api(self) -> tuple[Process, str]:
        """gunicorn with the project's gunicorn.conf.py, serving the app plus a no-op route."""
        port = free_port()
        process = self.start("api", [str(BIN / "gunicorn"), "bench.app:create_bench_app()"],
                             {"API_HOST": "127.0.0.1", "API_PORT": str(port)})
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            process.check_alive()
            try:
                up = httpx.get(f"{base}/health/live", timeout=2).status_code == 200  # noqa: PLR2004
                # Both workers must be up before the load starts.
                if up and len(children_of(process.popen.pid)) >= int(self.env.get("WEB_CONCURRENCY", "2")):
                    return process, base
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"gunicorn did not answer:\n{process.log()[-4000:]}")

    def shared_api(self) -> tuple[Process, str]:
        """One gunicorn for the benchmarks that measure neither its start nor its memory; stopped with the rest."""
        if self._shared_api is None or self._shared_api[0].popen.poll() is not None:
            self._shared_api = self.start_api()
        return self._shared_api

    def start_worker(self, queues: str | None = None, extra_env: dict[str, str] | None = None, *,
                     concurrency: int = WORKER_CONCURRENCY, wait: bool = True) -> Process:
        """A Celery worker as the Procfile starts it (every queue unless ``queues`` is given).

        ``wait=False`` returns at once: :meth:`wait_ready` waits, so that several workers start together.
        """
        argv = [str(BIN / "celery"), "-A", "bench.worker", "worker", "--loglevel", "INFO",
                "--concurrency", str(concurrency), "--hostname", f"bench-{uuid.uuid4().hex[:6]}@%h"]
        if queues:
            argv += ["--queues", queues]
        process = self.start("worker", argv, extra_env)
        if wait:
            self.wait_ready(process)
        return process

    def start_make_run_workers(self) -> tuple[Process, Process, Process, Process]:
        """The core worker, the webhooks worker, the calendars worker and beat of the Procfile, started together.

        Beat sends the periodic tasks (the outbox relay, due webhook deliveries) as under ``make run``:
        without it, work whose message was never sent would wait for ever.
        """
        core = self.start_worker(CORE_QUEUES, wait=False)
        webhooks = self.start_worker(WEBHOOKS_QUEUES, concurrency=WEBHOOKS_CONCURRENCY, wait=False)
        calendars = self.start_worker(CALENDARS_QUEUES, concurrency=CALENDARS_CONCURRENCY, wait=False)
        beat = self.start_beat()
        self.wait_ready(core)
        self.wait_ready(webhooks)
        self.wait_ready(calendars)
        return core, webhooks, calendars, beat

    def start_beat(self) -> Process:
        """``celery beat`` as the Procfile starts it: the outbox relay and due webhook deliveries."""
        return self.start("beat", [str(BIN / "celery"), "-A", "bench.worker", "beat", "--loglevel", "INFO",
                                   "--schedule", str(self.work_dir / f"beat-schedule-{uuid.uuid4().hex[:6]}")])

    @staticmethod
    def wait_ready(process: Process) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            process.check_alive()
            if " ready." in process.log():
                return
            time.sleep(0.05)
        raise TimeoutError(f"worker not ready:\n{process.log()[-4000:]}")

    def stop_all(self) -> None:
        while self.processes:
            self.processes.pop().stop()

    def vacuum(self) -> None:
        """``VACUUM (ANALYZE)`` this run's database, so that autovacuum does not clean up after one
        benchmark in the middle of the next one's timing (the rows each benchmark writes, it keeps)."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    def purge_queues(self) -> None:
        """Delete this run's Redis keys (queues, unacked messages), leaving everyone else's."""
        client = self.redis()
        try:
            keys = list(client.scan_iter(match=f"{self.prefix}*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()

    def queue_drained(self, client: redis.Redis, queues: tuple[str, ...]) -> bool:
        """No message waiting in ``queues`` and none delivered but unacknowledged (acks are late)."""
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            pipe.llen(f"{self.prefix}{queue}")
        pipe.hlen(f"{self.prefix}unacked")
        return not any(pipe.execute())


def _server_url() -> str:
    return os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def bench_stack(work_dir: Path) -> Iterator[Stack]:
    """A database built by Alembic and a Redis prefix for this run; both removed at the end."""
    run_id = uuid.uuid4().hex[:8]
    server_url = _server_url()
    db_name = f"mentorship_bench_{run_id}"
    database_url = make_url(server_url).set(database=db_name).render_as_string(hide_password=False)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"bench-{run_id}:"
    work_dir.mkdir(parents=True, exist_ok=True)
    metrics_dir = work_dir / f"metrics-{run_id}"
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "VAR_DIR": os.environ.get("VAR_DIR", str(ROOT / "var")),
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "PYTHONPATH": str(ROOT),
    }
    # This process reads the same settings as its servers (the JWT key, the Redis prefix).
    os.environ.update(env)

    admin = create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    stack = None
    try:
        subprocess.run([str(BIN / "alembic"), "upgrade", "head"], cwd=ROOT, env=env, check=True,  # noqa: S603
                       capture_output=True)
        engine = create_engine(sqlalchemy_url(database_url), pool_size=4)
        stack = Stack(env, database_url, redis_url, prefix, work_dir, engine)
        yield stack
    finally:
        if stack is not None:
            stack.stop_all()
            stack.purge_queues()
            stack.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
        for path in metrics_dir.glob("*"):
            path.unlink()
        metrics_dir.rmdir()
