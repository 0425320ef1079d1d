"""``workflow_latency_ratio``: accepts one at a time, request to session, against a no-op task's round trip."""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass, field

import httpx
import psycopg
from celery import Celery
from sqlalchemy.engine import make_url

from bench import seed
from bench.figures import Config, Rep, TaskWatcher, send_noops, settle_leftovers
from bench.stack import Process, Stack
from bench.worker import CREATE_SESSIONS, FLOOR_CREATE_TASK


def _percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


class SessionWatch:
    """Tells when a booking's session row is committed, from a notification PostgreSQL sends at that commit.

    A trigger of the benchmark's own, on the benchmark's database, notifies each inserted session's
    booking (``pg_notify`` is delivered at commit); this waits on a connection of its own that listens.
    Nothing polls: the watch's only cost is the notification in the creating transaction, the same
    for the accept's workflow and the floor's, and it adds no polling interval to what it measures.
    The trigger is dropped on :meth:`close`.
    """

    _CHANNEL = "bench_session_created"

    def __init__(self, database_url: str) -> None:
        # libpq's URL: the same server and database, without SQLAlchemy's driver name.
        url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection = psycopg.connect(url, autocommit=True)
        self._connection.execute(f"""
            CREATE FUNCTION {self._CHANNEL}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_notify('{self._CHANNEL}', NEW.booking_id::text); RETURN NULL; END $$;
            CREATE TRIGGER {self._CHANNEL} AFTER INSERT ON sessions
            FOR EACH ROW EXECUTE FUNCTION {self._CHANNEL}();
            LISTEN {self._CHANNEL};
        """)

    def wait(self, booking_id: uuid.UUID, timeout: float = 30) -> float:
        """The time the session of ``booking_id`` was committed, as this heard it (``time.perf_counter()``)."""
        deadline = time.monotonic() + timeout
        wanted = str(booking_id)
        while (left := deadline - time.monotonic()) > 0:
            for notice in self._connection.notifies(timeout=left, stop_after=1):
                if notice.payload == wanted:
                    return time.perf_counter()
        raise TimeoutError(f"no session for booking {booking_id} after {timeout} s")

    def close(self) -> None:
        self._connection.execute(f"DROP TRIGGER {self._CHANNEL} ON sessions; DROP FUNCTION {self._CHANNEL}()")
        self._connection.close()


_SERVER_PARTS = ("api_workers", "worker_main", "worker_pool")


@dataclass
class Workflows:
    """Workflows run one at a time: per workflow, its answer and its session, in ms from sending it."""

    answer_ms: list[float] = field(default_factory=list)
    session_ms: list[float] = field(default_factory=list)
    sent_at: dict[uuid.UUID, float] = field(default_factory=dict)  # time.time(), to compare with task events
    cpu_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_SERVER_PARTS, 0.0))

    def cpu_ms(self) -> dict[str, float]:
        """CPU per workflow, by server process: the servers are idle between workflows, so this is what one costs."""
        return {part: seconds * 1000 / len(self.session_ms) for part, seconds in self.cpu_seconds.items()}

    def creation_trips(self, watcher: TaskWatcher, task: str) -> dict[str, float]:
        """Medians (ms) of the creation task's way: sent → received by the worker → started, and its run."""
        trips = [(self.sent_at[b], *t) for b in self.sent_at if (t := watcher.trip(task, str(b))) is not None]
        if not trips:
            return {}
        return {
            "send_to_received_ms": statistics.median(received - sent for sent, received, _, _ in trips) * 1000,
            "received_to_started_ms": statistics.median(started - received for _, received, started, _ in trips) * 1000,
            "task_runtime_ms": statistics.median(runtime for _, _, _, runtime in trips) * 1000,
        }


def _server_cpu(servers: tuple[Process, Process]) -> dict[str, float]:
    api, worker = servers
    (_, api_workers), (worker_main, worker_pool) = api.cpu_seconds(), worker.cpu_seconds()
    return {"api_workers": api_workers, "worker_main": worker_main, "worker_pool": worker_pool}


@dataclass
class WorkflowTimer:
    """Runs one workflow at a time through the API, timing its answer and its session."""

    client: httpx.Client
    watch: SessionWatch
    servers: tuple[Process, Process]

    def run(self, path: str, booking_id: uuid.UUID, runs: Workflows, headers: dict[str, str] | None = None) -> None:
        """POST ``path`` and wait for ``booking_id``'s session; then for the rest of its fan-out."""
        before = _server_cpu(self.servers)
        runs.sent_at[booking_id] = time.time()
        began = time.perf_counter()
        self.client.post(path, headers=headers).raise_for_status()
        runs.answer_ms.append((time.perf_counter() - began) * 1000)
        runs.session_ms.append((self.watch.wait(booking_id) - began) * 1000)
        time.sleep(0.05)  # let the rest of the fan-out finish: one workflow at a time
        after = _server_cpu(self.servers)
        for part in _SERVER_PARTS:
            runs.cpu_seconds[part] += after[part] - before[part]


def _noop_round_trip(watcher: TaskWatcher, app: Celery) -> float:
    """A no-op task's time (ms) from ``send_task`` to its ``task-succeeded`` event."""
    began = time.perf_counter()
    finished = watcher.wait(send_noops(app, 1), 30)
    time.sleep(0.01)
    return (finished - began) * 1000


def workflow_latency(stack: Stack, cfg: Config, app: Celery) -> list[Rep]:
    """One accept at a time through gunicorn, the whole worker (every queue) consuming, as under ``make run``.

    The floor workflow runs beside it, the same way: the floor route
    (``/bench/floor``) publishes one message per handler as an accept does; the
    floor task (``sessions.bench_floor_create``) creates the session, and the
    no-op task takes every other handler's message. Accepts, no-op tasks and
    floor workflows take turns, one of each in turn, so that all three are
    timed in the same states of a shared machine.
    """
    settle_leftovers(stack.engine)
    api, base = stack.shared_api()
    worker = stack.start_worker()
    watcher = TaskWatcher(app, follow_trips=True)
    watch = SessionWatch(stack.database_url)
    mentees = seed.users(stack.engine, 10)
    reps = []
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            timer = WorkflowTimer(client, watch, (api, worker))
            for rep in range(cfg.reps):
                mentor, floor_mentor = seed.mentors(stack.engine, 2)
                ids = seed.drafts(stack.engine, mentor, mentees, cfg.latency_samples)
                floor_ids = seed.drafts(stack.engine, floor_mentor, mentees, cfg.latency_samples)
                accepts, floors, noop_ms = Workflows(), Workflows(), []
                for index, (booking_id, floor_id) in enumerate(zip(ids, floor_ids, strict=True)):
                    # One of each in turn; the order flips each time, so neither always follows the other.
                    for turn in ("accept", "noop", "floor") if index % 2 == 0 else ("floor", "noop", "accept"):
                        if turn == "accept":
                            timer.run(f"/api/v1/bookings/{booking_id}/accept", booking_id, accepts, mentor.headers())
                        elif turn == "floor":
                            timer.run(f"/bench/floor/{floor_id}?handlers=floor", floor_id, floors)
                        else:
                            noop_ms.append(_noop_round_trip(watcher, app))
                # For comparison only: no-op tasks one after another, 10 ms apart, as this figure timed them before.
                in_a_row = [_noop_round_trip(watcher, app) for _ in range(cfg.latency_samples)]
                time.sleep(0.2)  # the last tasks' events
                noop_p50 = statistics.median(noop_ms)
                accept_ms, floor_ms = accepts.session_ms, floors.session_ms
                reps.append({"accept_to_session_p50_ms": statistics.median(accept_ms),
                             "accept_to_session_p99_ms": _percentile(accept_ms, 99), "noop_task_p50_ms": noop_p50,
                             "noop_task_in_a_row_p50_ms": statistics.median(in_a_row),
                             "accept_response_p50_ms": statistics.median(accepts.answer_ms),
                             "p50_ratio": statistics.median(accept_ms) / noop_p50,
                             "p99_ratio": _percentile(accept_ms, 99) / noop_p50,
                             "floor_response_p50_ms": statistics.median(floors.answer_ms),
                             "floor_to_session_p50_ms": statistics.median(floor_ms),
                             "floor_p50_ratio": statistics.median(floor_ms) / noop_p50,
                             **{f"create_{k}": v
                                for k, v in accepts.creation_trips(watcher, CREATE_SESSIONS).items()},
                             **{f"floor_create_{k}": v
                                for k, v in floors.creation_trips(watcher, FLOOR_CREATE_TASK).items()},
                             **{f"accept_cpu_ms_{k}": v for k, v in accepts.cpu_ms().items()},
                             **{f"floor_cpu_ms_{k}": v for k, v in floors.cpu_ms().items()}})
                cfg.progress(f"workflow_latency rep {rep + 1}: accept→session p50 "
                             f"{reps[-1]['accept_to_session_p50_ms']:.1f} ms, p99 "
                             f"{reps[-1]['accept_to_session_p99_ms']:.1f} ms; no-op task p50 {noop_p50:.1f} ms; "
                             f"floor→session p50 {reps[-1]['floor_to_session_p50_ms']:.1f} ms")
    finally:
        watch.close()
        watcher.close()
        worker.stop()
        stack.purge_queues()
    return reps


