"""The measurements of bench/README.md, each returning one dict per repetition: the API's and the task's
throughput and the list's scaling here, with what the other benchmarks share (the configuration, the
workers' task events); the latency in ``bench.latency``, webhooks in ``bench.deliveries``, the whole
pipeline and the drain in ``bench.pipeline``.

Every figure is a ratio of two rates or latencies measured side by side, in the
same repetition, against the same servers, so the machine's drift cancels out.
"""

from __future__ import annotations

import ast
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from celery import Celery
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench import seed
from bench.load import run_each_once, run_load
from bench.stack import Stack
from bench.worker import CREATE_SESSIONS, FLOOR_CREATE_TASK, NOOP_TASK
from outbox.publisher import task_arguments
from outbox.recording import Dispatch, pending_dispatches
from workflows import language
from workflows.actors import Actor
from workflows.bookings.lifecycle import accept_booking

CONNECTIONS = 16  # wrk's connections: half the API's request threads (2 workers, 16 each)
ACCEPTING_MENTORS = 100
WARM_ACCEPTS = 2 * ACCEPTING_MENTORS  # two per mentor, spread over both API processes

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
    slot_bookings: int = 3000  # accepted bookings of each team member, for the slot query
    slot_bookings_inside: int = 500  # of which inside the queried window
    calendar_events: int = 1000  # in the calendar synced (a tenth recurring)
    series_samples: int = 12  # series accepted (and single bookings), per repetition
    match_small: tuple[int, int] = (100, 30)  # mentees and mentors of the small match
    match_large: tuple[int, int] = (1000, 300)  # and of the large one
    report_pairs: tuple[int, int] = (50, 5000)  # pairs of the small and the large programme's dashboard
    announcement_recipients: int = 10_000  # told of one announcement
    message_samples: int = 100  # messages sent one at a time (and as many floor ones)
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
            found += [d for d in pending_dispatches(db) if isinstance(d, Dispatch) and d.handler == CREATE_SESSIONS]
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


# Readings of every language, each on a connection of its own, so that every API process serves some of each.
LANGUAGE_ROUNDS = 8


def read_in_every_language(base: str) -> None:
    """Each API process's catalogues in memory before its RSS is read: every language's screens' table, and a
    refusal written in each language (which loads its server catalogue), as readers of six languages would."""
    for _round in range(LANGUAGE_ROUNDS):
        for tag in (*language.LANGUAGES, language.PSEUDO):
            for path, status in ((f"/words/{tag}.json", 200), ("/api/v1/me", 401)):
                answer = httpx.get(f"{base}{path}", headers={"Accept-Language": tag}, timeout=30)
                if answer.status_code != status:
                    raise RuntimeError(f"{path} in {tag} answered {answer.status_code}")


def api_accept(stack: Stack, cfg: Config) -> list[Rep]:
    """Accepts by many mentors at once, as on a platform; one mentor's own accepts are serialised by design."""
    mentees = seed.users(stack.engine, 20)
    reps = []
    for rep in range(cfg.reps):
        api, base = stack.start_api()
        mentors = seed.mentors(stack.engine, ACCEPTING_MENTORS)
        per_mentor = int(1000 * cfg.seconds / ACCEPTING_MENTORS) + 10
        warm_drafts, drafts, floor_drafts, tx_drafts = seed.interleaved_drafts(stack.engine, mentors, mentees,
                                                                               per_mentor, 4)
        ids = drafts.ids

        noop_headers = mentors[0].headers()

        def noop(base: str = base, headers: dict[str, str] = noop_headers) -> Any:
            return run_load(base, ["/bench/noop"], seconds=cfg.seconds, connections=CONNECTIONS, method="POST",
                            headers=headers)

        def accept(base: str, accepts: seed.Accepts, template: str = "/api/v1/bookings/{}/accept") -> Any:
            return run_load(base, accepts.paths(template), seconds=cfg.seconds, connections=CONNECTIONS,
                            method="POST", tokens=accepts.tokens)

        # Each API process has served accepts before the one that counts: its first ones compile statements.
        # A fixed number, each answered: a warm-up of fixed length may end before a slow machine's first answer.
        warm_paths = warm_drafts.paths()[:WARM_ACCEPTS]
        warm = run_each_once(base, warm_paths, warm_drafts.tokens[:WARM_ACCEPTS], connections=CONNECTIONS,
                             timeout=300)
        if warm.statuses != {200: len(warm_paths)}:
            raise RuntimeError(f"the {len(warm_paths)} warm-up accepts answered {warm.statuses}")
        read_in_every_language(base)
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
        if not accept_result.ok() or not noop_result.ok():
            raise RuntimeError(f"nothing answered within the run: accept {accept_result.statuses}, "
                               f"no-op {noop_result.statuses}")
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
    disabled: their receiver is gone. The rows are vacuumed, so that claims
    do not step over their old versions in the index of pending rows.
    """
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox_handlers SET status = 'done', done_at = now() WHERE status = 'pending'"))
        conn.execute(text("UPDATE webhook_endpoints SET enabled = false WHERE enabled"))
        left = conn.execute(text("SELECT count(*) FROM webhook_messages WHERE status = 'pending'")).scalar_one()
    if left:
        raise RuntimeError(f"{left} webhook messages of an earlier benchmark are still pending")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM outbox_handlers"))


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
