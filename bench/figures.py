"""The measurements of SPEC §8, each returning one dict per repetition.

Every figure is a ratio of two rates or latencies measured side by side, in the
same repetition, against the same servers, so the machine's drift cancels out.
"""

from __future__ import annotations

import ast
import json
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from celery import Celery
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench import seed
from bench.load import run_load
from bench.stack import WORKER_CONCURRENCY, Process, Stack
from bench.worker import FLOOR_CREATE_TASK, NOOP_TASK
from devstack.processes import free_port
from infra.publish import task_arguments
from workflows.actors import Actor
from workflows.bookings import accept_booking
from workflows.outbox import CREATE_SESSION_TASK, Dispatch, TaskCall, pending_dispatches
from workflows.webhooks import fanout, messages, sending
from workflows.webhooks.endpoints import new_secret

CONNECTIONS = 16  # wrk's connections: half the API's request threads (2 workers, 16 each)
ACCEPTING_MENTORS = 100

Rep = dict[str, Any]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Config:
    seconds: float = 10.0
    reps: int = 3
    list_rows_small: int = 10_000
    list_rows_large: int = 1_000_000
    latency_samples: int = 100
    e2e_seconds: float = 20.0  # accepts sent for the end-to-end throughput
    backlog: int = 5000  # accepts taken with the workers stopped, for the drain
    progress: Progress = print


# -- Celery: send tasks, and learn from the workers' own events when each is done ---------------------------


@dataclass
class Trip:
    """One task's way through the worker, by the worker's clock (``time.time()``) from its events."""

    received: float
    started: float | None = None
    runtime: float | None = None


class TaskWatcher:
    """Follows the workers' task events (the ones Flower shows) on a background thread."""

    def __init__(self, app: Celery, *, follow_trips: bool = False) -> None:
        """``follow_trips``: also time each task's way (:meth:`trip`), which parses every task's arguments."""
        self.app = app
        self.done: dict[str, float] = {}
        self.failed: dict[str, str] = {}
        self.trips: dict[str, Trip] = {}
        self._by_first_argument: dict[tuple[str, str], str] = {}
        self._changed = threading.Condition()
        self._connection = app.connection()
        handlers = {"task-succeeded": self._succeeded, "task-failed": self._failed}
        if follow_trips:
            handlers |= {"task-received": self._received, "task-started": self._started}
        self._receiver = app.events.Receiver(self._connection, handlers=handlers)
        self._thread = threading.Thread(target=self._receiver.capture, kwargs={"limit": None}, daemon=True)
        self._thread.start()
        time.sleep(0.5)  # the event queue is bound before the first task is sent

    def _received(self, event: dict[str, Any]) -> None:
        try:  # Celery's repr of the arguments, cut short when long
            arguments = ast.literal_eval(event.get("args") or "()")
        except (ValueError, SyntaxError):
            arguments = ()
        with self._changed:
            self.trips[event["uuid"]] = Trip(received=event["timestamp"])
            if arguments:
                self._by_first_argument[(event["name"], str(arguments[0]))] = event["uuid"]

    def _started(self, event: dict[str, Any]) -> None:
        with self._changed:
            if event["uuid"] in self.trips:
                self.trips[event["uuid"]].started = event["timestamp"]

    def _succeeded(self, event: dict[str, Any]) -> None:
        with self._changed:
            self.done[event["uuid"]] = time.perf_counter()
            if event["uuid"] in self.trips:
                self.trips[event["uuid"]].runtime = event.get("runtime")
            self._changed.notify_all()

    def trip(self, task: str, first_argument: str) -> tuple[float, float, float] | None:
        """When the ``task`` with this first argument was received and started, and how long it ran (s)."""
        with self._changed:
            task_id = self._by_first_argument.get((task, first_argument))
            trip = self.trips.get(task_id) if task_id else None
            if trip is None or trip.started is None or trip.runtime is None:
                return None
            return trip.received, trip.started, trip.runtime

    def _failed(self, event: dict[str, Any]) -> None:
        with self._changed:
            self.failed[event["uuid"]] = str(event.get("exception"))
            self._changed.notify_all()

    def wait(self, task_ids: list[str], timeout: float) -> float:
        """Wait until every task in ``task_ids`` succeeded; the time the last one did."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                failures = [self.failed[i] for i in task_ids if i in self.failed]
                if failures:
                    raise RuntimeError(f"{len(failures)} tasks failed, e.g. {failures[0]}")
                missing = [i for i in task_ids if i not in self.done]
                if not missing:
                    return max(self.done[i] for i in task_ids)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(missing)} of {len(task_ids)} tasks not done after {timeout} s")
                self._changed.wait(min(left, 1.0))

    def close(self) -> None:
        self._receiver.should_stop = True
        self._thread.join(timeout=5)
        self._connection.release()


def send_noops(app: Celery, count: int, queue: str = "sessions") -> list[str]:
    return [app.send_task(NOOP_TASK, queue=queue, routing_key=queue).id for _ in range(count)]


def send_floor_creates(app: Celery, dispatches: list[Dispatch]) -> list[str]:
    """The floor task for each creation dispatch, on the creation tasks' queue."""
    return [app.send_task(FLOOR_CREATE_TASK, args=[str(d.aggregate_id), str(d.event_id)], queue="sessions",
                          routing_key="sessions").id for d in dispatches]


def send_dispatches(app: Celery, dispatches: list[Dispatch]) -> list[str]:
    """Exactly what the API's after-commit publisher sends for these dispatches."""
    ids = []
    for dispatch in dispatches:
        task, args, kwargs = task_arguments(dispatch)
        ids.append(app.send_task(task, args=args, kwargs=kwargs).id)
    return ids


def accepted_bookings(stack: Stack, count: int) -> list[Dispatch]:
    """``count`` bookings accepted by the real workflow (nothing published): their session-creation dispatches."""
    mentor = seed.mentors(stack.engine, 1)[0]
    mentees = seed.users(stack.engine, 10)
    ids = seed.drafts(stack.engine, mentor, mentees, count)
    actor = Actor(user_id=mentor.user_id, mentor_profile_id=mentor.profile_id)
    found: list[Dispatch] = []
    for start in range(0, count, 200):
        with Session(stack.engine) as db:
            for booking_id in ids[start:start + 200]:
                accept_booking(db, actor, booking_id)
            found += [d for d in pending_dispatches(db) if isinstance(d, Dispatch) and d.handler == CREATE_SESSION_TASK]
            db.commit()
    return found


def timed_tasks(watcher: TaskWatcher, send: Callable[[], list[str]], timeout: float) -> tuple[int, float]:
    """How many tasks ``send`` sent, and the time from sending the first to the last one's success."""
    began = time.perf_counter()
    ids = send()
    finished = watcher.wait(ids, timeout)
    return len(ids), finished - began


def noop_task_rate(watcher: TaskWatcher, app: Celery, seconds: float) -> float:
    """No-op tasks per second on the ``sessions`` queue: a short run sizes one of about ``seconds``."""
    count, took = timed_tasks(watcher, lambda: send_noops(app, 200), 120)
    count, took = timed_tasks(watcher, lambda: send_noops(app, max(50, int(count / took * seconds))), 600)
    return count / took


# -- api_accept_ratio and the API worker's memory ---------------------------------------------------------------


def api_accept(stack: Stack, cfg: Config) -> list[Rep]:
    """Accepts by many mentors at once, as on a platform; one mentor's own accepts are serialised by design."""
    mentees = seed.users(stack.engine, 20)
    reps = []
    for rep in range(cfg.reps):
        api, base = stack.start_api()
        mentors = seed.mentors(stack.engine, ACCEPTING_MENTORS)
        per_mentor = int(1000 * cfg.seconds / ACCEPTING_MENTORS) + 10
        drafts, floor_drafts, tx_drafts = seed.interleaved_drafts(stack.engine, mentors, mentees, per_mentor, 3)
        ids = drafts.ids

        noop_headers = mentors[0].headers()

        def noop(base: str = base, headers: dict[str, str] = noop_headers) -> Any:
            return run_load(base, ["/bench/noop"], seconds=cfg.seconds, connections=CONNECTIONS, method="POST",
                            headers=headers)

        def accept(base: str, accepts: seed.Accepts, template: str = "/api/v1/bookings/{}/accept") -> Any:
            return run_load(base, accepts.paths(template), seconds=cfg.seconds, connections=CONNECTIONS,
                            method="POST", tokens=accepts.tokens)

        # Alternate the order, so neither side always runs on a warmer machine.
        if rep % 2 == 0:
            noop_result, accept_result = noop(), accept(base, drafts)
        else:
            accept_result, noop_result = accept(base, drafts), noop()
        rss = api.children_peak_rss_mb()
        floor_result = accept(base, floor_drafts, "/bench/floor/{}")
        tx_result = accept(base, tx_drafts, "/bench/tx-only/{}")
        for name, result in (("floor", floor_result), ("tx-only", tx_result)):
            if set(result.statuses) != {200}:
                raise RuntimeError(f"the {name} route answered {result.statuses}")
        api.stop()
        stack.purge_queues()
        if accept_result.ok() >= len(ids):
            raise RuntimeError("the accept load ran out of drafts: raise their number")
        unexpected = {s: n for s, n in accept_result.statuses.items() if s != 200}  # noqa: PLR2004
        if unexpected or accept_result.socket_errors:
            raise RuntimeError(f"accept answered {unexpected}, {accept_result.socket_errors} socket errors")
        with stack.engine.connect() as conn:
            accepted = conn.execute(text("SELECT count(*) FROM bookings WHERE id = ANY(:ids) "
                                         "AND status = 'accepted'"), {"ids": ids}).scalar_one()
        # wrk stops with up to one request in flight per connection: those may commit unseen.
        if not accept_result.ok() <= accepted <= accept_result.ok() + CONNECTIONS:
            raise RuntimeError(f"{accept_result.ok()} accepts answered 200 but {accepted} bookings are accepted")
        reps.append({
            "noop_rps": noop_result.ok_per_second(), "accept_rps": accept_result.ok_per_second(),
            "ratio": accept_result.ok_per_second() / noop_result.ok_per_second(),
            "accept_p50_ms": accept_result.p50_ms, "noop_p50_ms": noop_result.p50_ms, "rss_api_mb": rss,
            "floor_rps": floor_result.ok_per_second(),
            "floor_ratio": floor_result.ok_per_second() / noop_result.ok_per_second(),
            "tx_only_rps": tx_result.ok_per_second(),
            "tx_only_ratio": accept_result.ok_per_second() / tx_result.ok_per_second(),
        })
        cfg.progress(f"api_accept rep {rep + 1}: accept {reps[-1]['accept_rps']:.0f}/s, "
                     f"no-op {reps[-1]['noop_rps']:.0f}/s, floor {reps[-1]['floor_rps']:.0f}/s, "
                     f"tx-only {reps[-1]['tx_only_rps']:.0f}/s")
    return reps


# -- task_ratio and the Celery worker's memory ------------------------------------------------------------------


def settle_leftovers(engine: Engine) -> None:
    """Leave the backlog to this benchmark alone.

    Earlier benchmarks purge their queues and leave outbox rows pending that
    nothing will take up (no relay runs here); they are marked done, as work
    sent by hand is. Otherwise the first kick of a handler would drain them all
    in the middle of this benchmark's timing. Their webhook endpoints are
    disabled: their receiver is gone.
    """
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox_handlers SET status = 'done', done_at = now() WHERE status = 'pending'"))
        conn.execute(text("UPDATE webhook_endpoints SET enabled = false WHERE enabled"))
        left = conn.execute(text("SELECT count(*) FROM webhook_messages WHERE status = 'pending'")).scalar_one()
    if left:
        raise RuntimeError(f"{left} webhook messages of an earlier benchmark are still pending")


def task_throughput(stack: Stack, cfg: Config, app: Celery) -> list[Rep]:
    settle_leftovers(stack.engine)
    reps = []
    worker = stack.start_worker(queues="sessions")
    watcher = TaskWatcher(app)
    try:
        # A short run of each sizes the measured ones to about ``seconds`` each.
        count, took = timed_tasks(watcher, lambda: send_noops(app, 200), 120)
        noop_count = max(50, int(count / took * cfg.seconds))
        calibration = accepted_bookings(stack, 100)
        count, took = timed_tasks(watcher, lambda: send_dispatches(app, calibration), 120)
        create_count = max(20, int(count / took * cfg.seconds))
        for rep in range(cfg.reps):
            dispatches = accepted_bookings(stack, create_count)
            floor_dispatches = accepted_bookings(stack, create_count)
            noop_n, noop_s = timed_tasks(watcher, lambda: send_noops(app, noop_count), 600)
            create_n, create_s = timed_tasks(watcher, lambda d=dispatches: send_dispatches(app, d), 600)
            rss = worker.children_peak_rss_mb()
            floor_n, floor_s = timed_tasks(watcher, lambda d=floor_dispatches: send_floor_creates(app, d), 600)
            with stack.engine.connect() as conn:
                made = conn.execute(text("SELECT count(*) FROM sessions WHERE booking_id = ANY(:ids)"),
                                    {"ids": [d.aggregate_id for d in dispatches + floor_dispatches]}).scalar_one()
            if made != create_n + floor_n:
                raise RuntimeError(f"{create_n + floor_n} creation tasks succeeded but {made} sessions exist")
            noop_rate = noop_n / noop_s
            reps.append({"noop_tasks_per_s": noop_rate, "create_tasks_per_s": create_n / create_s,
                         "ratio": (create_n / create_s) / noop_rate, "rss_celery_mb": rss,
                         "floor_tasks_per_s": floor_n / floor_s, "floor_ratio": (floor_n / floor_s) / noop_rate})
            cfg.progress(f"task_ratio rep {rep + 1}: create {reps[-1]['create_tasks_per_s']:.0f}/s, "
                         f"no-op {noop_rate:.0f}/s, floor {reps[-1]['floor_tasks_per_s']:.0f}/s")
    finally:
        watcher.close()
        worker.stop()
        stack.purge_queues()
    return reps


# -- workflow_latency_ratio -------------------------------------------------------------------------------------


def _percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


class SessionWatch:
    """Waits for a booking's session row, polling every millisecond on a connection of its own.

    Plain psycopg, autocommit, one prepared statement: each poll costs the
    machine as little as it can, so the watch takes little CPU from the API and
    the worker it is timing.
    """

    def __init__(self, database_url: str) -> None:
        # libpq's URL: the same server and database, without SQLAlchemy's driver name.
        url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection = psycopg.connect(url, autocommit=True)

    def wait(self, booking_id: uuid.UUID, timeout: float = 30) -> float:
        """The time the session of ``booking_id`` was first seen (``time.perf_counter()``)."""
        deadline = time.monotonic() + timeout
        while self._connection.execute("SELECT 1 FROM sessions WHERE booking_id = %s", (booking_id,),
                                       prepare=True).fetchone() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no session for booking {booking_id} after {timeout} s")
            time.sleep(0.001)
        return time.perf_counter()

    def close(self) -> None:
        self._connection.close()


@dataclass
class Workflows:
    """Accepts sent one at a time: per accept, its answer and its session, in ms from sending it."""

    answer_ms: list[float] = field(default_factory=list)
    session_ms: list[float] = field(default_factory=list)
    sent_at: dict[uuid.UUID, float] = field(default_factory=dict)  # time.time(), to compare with task events
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per workflow, by server process

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


def _accepts_to_sessions(client: httpx.Client, watch: SessionWatch, paths: list[tuple[str, uuid.UUID]],
                         servers: tuple[Process, Process], headers: dict[str, str] | None = None) -> Workflows:
    """POST each path one at a time and wait for its booking's session."""
    runs = Workflows()
    api, worker = servers
    (_, api_before), (main_before, pool_before) = api.cpu_seconds(), worker.cpu_seconds()
    for path, booking_id in paths:
        runs.sent_at[booking_id] = time.time()
        began = time.perf_counter()
        client.post(path, headers=headers).raise_for_status()
        runs.answer_ms.append((time.perf_counter() - began) * 1000)
        runs.session_ms.append((watch.wait(booking_id) - began) * 1000)
        time.sleep(0.05)  # let the rest of the fan-out finish: one workflow at a time
    time.sleep(0.2)  # the last task's events
    (_, api_after), (main_after, pool_after) = api.cpu_seconds(), worker.cpu_seconds()
    # CPU per workflow: the servers are idle between workflows, so this is what one costs them.
    runs.cpu_ms = {"api_workers": (api_after - api_before) * 1000 / len(paths),
                   "worker_main": (main_after - main_before) * 1000 / len(paths),
                   "worker_pool": (pool_after - pool_before) * 1000 / len(paths)}
    return runs


def workflow_latency(stack: Stack, cfg: Config, app: Celery) -> list[Rep]:
    """One accept at a time through gunicorn, the whole worker (every queue) consuming, as under ``make run``.

    The floor workflow runs beside it, the same way: the floor route
    (``/bench/floor``) publishes one message per handler as an accept does; the
    floor task (``sessions.bench_floor_create``) creates the session, and the
    no-op task takes every other handler's message.
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
            for rep in range(cfg.reps):
                mentor = seed.mentors(stack.engine, 1)[0]
                ids = seed.drafts(stack.engine, mentor, mentees, cfg.latency_samples)
                accepts = _accepts_to_sessions(client, watch, [(f"/api/v1/bookings/{b}/accept", b) for b in ids],
                                               (api, worker), mentor.headers())
                noop_ms = []
                for _ in range(cfg.latency_samples):
                    began = time.perf_counter()
                    finished = watcher.wait(send_noops(app, 1), 30)
                    noop_ms.append((finished - began) * 1000)
                    time.sleep(0.01)
                noop_p50 = statistics.median(noop_ms)
                floor_mentor = seed.mentors(stack.engine, 1)[0]
                floor_ids = seed.drafts(stack.engine, floor_mentor, mentees, cfg.latency_samples)
                floor_paths = [(f"/bench/floor/{b}?handlers=floor", b) for b in floor_ids]
                floors = _accepts_to_sessions(client, watch, floor_paths, (api, worker))
                accept_ms, floor_ms = accepts.session_ms, floors.session_ms
                reps.append({"accept_to_session_p50_ms": statistics.median(accept_ms),
                             "accept_to_session_p99_ms": _percentile(accept_ms, 99), "noop_task_p50_ms": noop_p50,
                             "accept_response_p50_ms": statistics.median(accepts.answer_ms),
                             "p50_ratio": statistics.median(accept_ms) / noop_p50,
                             "p99_ratio": _percentile(accept_ms, 99) / noop_p50,
                             "floor_response_p50_ms": statistics.median(floors.answer_ms),
                             "floor_to_session_p50_ms": statistics.median(floor_ms),
                             "floor_p50_ratio": statistics.median(floor_ms) / noop_p50,
                             **{f"create_{k}": v
                                for k, v in accepts.creation_trips(watcher, CREATE_SESSION_TASK).items()},
                             **{f"floor_create_{k}": v
                                for k, v in floors.creation_trips(watcher, FLOOR_CREATE_TASK).items()},
                             **{f"accept_cpu_ms_{k}": v for k, v in accepts.cpu_ms.items()},
                             **{f"floor_cpu_ms_{k}": v for k, v in floors.cpu_ms.items()}})
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


# -- webhook_ratio ------------------------------------------------------------------------------------------------

ENDPOINTS = 8  # distinct endpoints: each has at most one batch in flight, by design


def _sample_payload() -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {"session_id": str(uuid.uuid4()), "booking_id": str(uuid.uuid4()), "listing_id": str(uuid.uuid4()),
            "mentor_profile_id": str(uuid.uuid4()), "mentee_user_id": str(uuid.uuid4()), "kind": "individual",
            "status": "completed", "start_time": now, "end_time": now, "completed_by": "mentor",
            "participants": [str(uuid.uuid4())]}


def _webhook_messages(stack: Stack, endpoint_ids: list[uuid.UUID], count: int
                      ) -> tuple[list[str], list[TaskCall]]:
    """``count`` due messages, each of its own outbox event, spread over the endpoints, as fan-out writes them.

    Their ``deliver`` tasks are the ones fan-out sends for new messages (one per endpoint with nothing
    in flight or due), decided by the same function, and sent only once this returns.
    """
    ids = [messages.new_message_id() for _ in range(count)]
    payload = json.dumps(_sample_payload())
    with Session(stack.engine) as db:
        db.execute(text("""
            CREATE TEMPORARY TABLE new_messages ON COMMIT DROP AS
            SELECT m.id, gen_random_uuid() AS event_id, (CAST(:endpoints AS uuid[]))[1 + m.n % :e] AS endpoint_id
            FROM unnest(CAST(:ids AS text[])) WITH ORDINALITY AS m(id, n)
        """), {"ids": ids, "endpoints": endpoint_ids, "e": len(endpoint_ids)})
        db.execute(text("""
            INSERT INTO outbox_events (id, type, aggregate_type, aggregate_id, payload)
            SELECT event_id, 'session.completed', 'session', gen_random_uuid(), CAST(:payload AS jsonb)
            FROM new_messages
        """), {"payload": payload})
        created = db.execute(text("""
            INSERT INTO webhook_messages (id, endpoint_id, event_id, event_type, payload, next_attempt_at)
            SELECT id, endpoint_id, event_id, 'session.completed', CAST(:payload AS jsonb), now() FROM new_messages
            RETURNING id, endpoint_id
        """), {"payload": payload}).all()
        fanout.send_deliveries(db, [(row.id, row.endpoint_id) for row in created])
        sends = [call for call in pending_dispatches(db) if isinstance(call, TaskCall)]
        db.commit()
    return ids, sends


def _deliveries(stack: Stack, app: Celery, endpoint_ids: list[uuid.UUID], count: int) -> tuple[int, float]:
    """Deliver ``count`` new messages: the time from the first send to the last delivery, by the database clock.

    The wait polls rarely, with a query on the pending messages' index, so it takes next to nothing
    from the machine while the workers deliver.
    """
    ids, sends = _webhook_messages(stack, endpoint_ids, count)
    with stack.engine.connect() as conn:
        began = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
        conn.commit()
        for call in sends:
            app.send_task(call.task, args=list(call.args))
        deadline = time.monotonic() + 600
        while True:
            time.sleep(0.2)
            pending = conn.execute(text("SELECT count(*) FROM webhook_messages WHERE endpoint_id = ANY(:endpoints) "
                                        "AND status = 'pending'"), {"endpoints": endpoint_ids}).scalar_one()
            conn.commit()
            if pending == 0:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pending} of {count} webhook messages not delivered")
        delivered, finished = conn.execute(text("SELECT count(*), max(delivered_at) FROM webhook_messages "
                                                "WHERE id = ANY(:ids) AND status = 'delivered'"), {"ids": ids}).one()
    if delivered != count:
        raise RuntimeError(f"{delivered} of {count} webhook messages delivered, the others failed")
    return count, (finished - began).total_seconds()


def _raw_posts(url: str, seconds: float, work_dir: Path) -> float:
    body_file = work_dir / "webhook-body.json"
    body_file.write_text(sending.envelope("session.completed", datetime.now(UTC), _sample_payload()))
    posters = [subprocess.Popen([sys.executable, "-m", "bench.rawpost", url, str(seconds), str(body_file)],  # noqa: S603
                                stdout=subprocess.PIPE, text=True) for _ in range(WORKER_CONCURRENCY)]
    total = sum(int(poster.communicate(timeout=seconds + 60)[0].strip()) for poster in posters)
    return total / seconds


def start_receiver(stack: Stack) -> tuple[Process, int]:
    """``bench.receiver`` on a free port, once it listens."""
    port = free_port()
    receiver: Process = stack.start("receiver", [sys.executable, "-m", "bench.receiver", str(port)])
    deadline = time.monotonic() + 30
    while "listening" not in receiver.log():
        receiver.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError("the receiver did not start")
        time.sleep(0.05)
    return receiver, port


def webhooks(stack: Stack, cfg: Config, app: Celery) -> list[Rep]:
    receiver, port = start_receiver(stack)
    owner = seed.users(stack.engine, 1)[0]
    endpoint_ids = [uuid.uuid4() for _ in range(ENDPOINTS)]
    with stack.engine.begin() as conn:
        for index, endpoint_id in enumerate(endpoint_ids):
            conn.execute(text("INSERT INTO webhook_endpoints (id, owner_user_id, url, secret) "
                              "VALUES (:id, :owner, :url, :secret)"),
                         {"id": endpoint_id, "owner": owner, "url": f"http://127.0.0.1:{port}/hooks/{index}",
                          "secret": new_secret()})
    worker = stack.start_worker(queues="webhooks")
    reps = []
    try:
        # Two warm-up runs, the second at about the steady rate, size the measured runs to about ``seconds`` each.
        count, took = _deliveries(stack, app, endpoint_ids, max(100, int(100 * cfg.seconds)))
        count, took = _deliveries(stack, app, endpoint_ids, max(100, int(count / took * cfg.seconds / 2)))
        size = max(20, int(count / took * cfg.seconds))
        for rep in range(cfg.reps):
            raw = _raw_posts(f"http://127.0.0.1:{port}/hooks/raw", cfg.seconds, stack.work_dir)
            delivered, took = _deliveries(stack, app, endpoint_ids, size)
            reps.append({"raw_posts_per_s": raw, "deliveries_per_s": delivered / took, "delivery_seconds": took,
                         "ratio": delivered / took / raw, "rss_celery_mb": worker.children_peak_rss_mb()})
            cfg.progress(f"webhook_ratio rep {rep + 1}: deliveries {reps[-1]['deliveries_per_s']:.0f}/s "
                         f"({delivered} in {took:.1f} s), raw POSTs {raw:.0f}/s")
    finally:
        worker.stop()
        receiver.stop()
        stack.purge_queues()
    return reps


# -- list_scaling_ratio -------------------------------------------------------------------------------------------


def list_scaling(stack: Stack, cfg: Config) -> list[Rep]:
    """``GET /sessions?role=mentor`` p50 as the table grows from the small size to the large one.

    The rows belong to 100 mentors, the measured one among them, so the mentor's own
    history grows with the table (100 → 10,000 sessions at the default sizes).
    """
    mentors = seed.mentors(stack.engine, 100)
    mentees = seed.users(stack.engine, 200)
    measured = mentors[0]
    path = "/api/v1/sessions?role=mentor"

    def measure(base: str) -> list[float]:
        results = []
        for _ in range(cfg.reps):
            # One connection: with two, both can land on the same gunicorn worker and queue behind each
            # other's GIL in some runs and not in others, doubling p50 at random whatever the table size.
            result = run_load(base, [path], seconds=cfg.seconds, connections=1, threads=1,
                              headers=measured.headers())
            if result.ok() == 0 or set(result.statuses) != {200}:
                raise RuntimeError(f"GET {path} answered {result.statuses}")
            results.append(result.p50_ms)
        return results

    seed.past_sessions(stack.engine, mentors, mentees, cfg.list_rows_small)
    _, base = stack.shared_api()
    with httpx.Client(base_url=base) as client:
        page = client.get(path, headers=measured.headers()).raise_for_status().json()
    if not page.get("items"):
        raise RuntimeError(f"the measured mentor sees no sessions: {page}")
    small = measure(base)
    cfg.progress(f"list_scaling: p50 {statistics.median(small):.2f} ms with {cfg.list_rows_small} sessions; "
                 f"adding {cfg.list_rows_large - cfg.list_rows_small}")
    added, batch = cfg.list_rows_small, 100_000
    while added < cfg.list_rows_large:
        step = min(batch, cfg.list_rows_large - added)
        seed.past_sessions(stack.engine, mentors, mentees, step, analyze=added + step >= cfg.list_rows_large)
        added += step
        cfg.progress(f"list_scaling: {added} sessions")
    large = measure(base)
    cfg.progress(f"list_scaling: p50 {statistics.median(large):.2f} ms with {cfg.list_rows_large} sessions")
    return [{"p50_small_ms": s, "p50_large_ms": big, "ratio": big / s} for s, big in zip(small, large, strict=True)]
