"""The whole pipeline, measured from outside: HTTP answers, the database's outbox and webhook tables, worker processes.

``pipeline`` runs the stack as ``make run`` lays it out (gunicorn, the core
worker and the webhooks worker, a webhook endpoint subscribed to every event):
accepts as fast as the API takes them until every side effect is done, then an
open-loop burst at half the API's rate. ``drain`` takes a backlog of accepts
with the workers stopped, then times one worker through it. Nothing here knows
how the workers split their work into tasks: work is done when the database
says so (no outbox handler row and no webhook message pending).
"""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import httpx
import psycopg
from celery import Celery
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bench import seed
from bench.deliveries import start_receiver
from bench.figures import (
    ACCEPTING_MENTORS,
    CONNECTIONS,
    Config,
    Rep,
    TaskWatcher,
    noop_task_rate,
    settle_leftovers,
)
from bench.load import LoadResult, run_each_once, run_load, run_open_loop
from bench.stack import Process, Stack, server_cpu_seconds
from workflows.webhooks.endpoints import new_secret

_PENDING = """
    SELECT (SELECT count(*) FROM outbox_handlers WHERE status = 'pending'),
           (SELECT count(*) FROM outbox_handlers WHERE status = 'pending' AND last_error IS NOT NULL),
           (SELECT count(*) FROM webhook_messages WHERE status = 'pending')
"""


class SideEffects:
    """What the stack still owes, read on a connection of its own (autocommit, prepared statements).

    Every side effect of an accept is an outbox handler row marked done in the
    handler's own transaction, and a webhook message delivered; a row or
    message is written in the same transaction as the work that causes it, so
    nothing pending means nothing left to do.
    """

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection = psycopg.connect(url, autocommit=True)

    def clock(self) -> datetime:
        now: datetime = self._connection.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
        return now

    def pending(self) -> int:
        rows, failing, messages = self._connection.execute(_PENDING, prepare=True).fetchone()  # type: ignore[misc]
        if failing:
            raise RuntimeError(f"{failing} outbox handler rows failed; see the workers' logs")
        return int(rows + messages)

    def wait_done(self, *, every: float = 0.2, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while (left := self.pending()) > 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{left} side effects still pending after {timeout} s")
            time.sleep(every)

    def span(self, since: datetime) -> tuple[datetime, datetime]:
        """The first ``booking.accepted`` written since ``since``, and the last side effect done since then."""
        first, done, delivered = self._connection.execute("""
            SELECT (SELECT min(created_at) FROM outbox_events WHERE type = 'booking.accepted' AND created_at >= %(s)s),
                   (SELECT max(done_at) FROM outbox_handlers WHERE done_at >= %(s)s),
                   (SELECT max(delivered_at) FROM webhook_messages WHERE delivered_at >= %(s)s)
        """, {"s": since}).fetchone()  # type: ignore[misc]
        return first, max(d for d in (done, delivered) if d is not None)

    def close(self) -> None:
        self._connection.close()


def _check_all_ok(name: str, statuses: dict[int, int], socket_errors: int) -> None:
    if set(statuses) != {200} or socket_errors:
        raise RuntimeError(f"{name}: the accepts answered {statuses}, {socket_errors} socket errors")


def _accepted(engine: Engine, ids: list[uuid.UUID]) -> tuple[int, int]:
    """How many of these bookings are accepted, and how many have their session."""
    with engine.connect() as conn:
        return tuple(conn.execute(text("""
            SELECT count(*), count(s.id) FROM bookings b LEFT JOIN sessions s ON s.booking_id = b.id
            WHERE b.id = ANY(:ids) AND b.status = 'accepted'
        """), {"ids": ids}).one())  # type: ignore[return-value]


# -- e2e_throughput_ratio and burst_p99_ratio -------------------------------------------------------------------


@dataclass
class MachineCpu:
    """CPU of every part of the stack: its own processes (with their children), and the servers they share."""

    processes: dict[str, Process]

    def read(self) -> dict[str, float]:
        return {**{name: sum(process.cpu_seconds()) for name, process in self.processes.items()},
                **server_cpu_seconds()}

    def since(self, before: dict[str, float]) -> dict[str, float]:
        return {part: seconds - before[part] for part, seconds in self.read().items()}


def _end_to_end(stack: Stack, cfg: Config, base: str, effects: SideEffects, mentees: list[uuid.UUID], *,
                cpu: MachineCpu) -> Rep:
    """Accepts as fast as the API takes them for ``e2e_seconds``; then the wait for their last side effect.

    Also the CPU each part of the stack spent per accept, from the first accept to the last side effect.
    """
    seconds = cfg.e2e_seconds
    mentors = seed.mentors(stack.engine, ACCEPTING_MENTORS)
    (accepts,) = seed.interleaved_drafts(stack.engine, mentors, mentees,
                                         int(1000 * seconds / ACCEPTING_MENTORS) + 10)
    since = effects.clock()
    cpu_before = cpu.read()
    load: LoadResult = run_load(base, accepts.paths(), seconds=seconds, connections=CONNECTIONS, method="POST",
                                tokens=accepts.tokens)
    _check_all_ok("e2e", load.statuses, load.socket_errors)
    if load.ok() >= len(accepts.ids):
        raise RuntimeError("the accept load ran out of drafts: raise their number")
    effects.wait_done()
    cpu_used = cpu.since(cpu_before)
    first, last = effects.span(since)
    accepted, sessions = _accepted(stack.engine, accepts.ids)
    if sessions != accepted or not load.ok() <= accepted <= load.ok() + CONNECTIONS:
        raise RuntimeError(f"{load.ok()} accepts answered 200; {accepted} accepted, {sessions} sessions")
    with stack.engine.connect() as conn:
        events, delivered = conn.execute(text("""
            SELECT (SELECT count(*) FROM outbox_events WHERE created_at >= :s),
                   (SELECT count(*) FROM webhook_messages WHERE created_at >= :s AND status = 'delivered')
        """), {"s": since}).one()
    if delivered != events:
        raise RuntimeError(f"{events} events since the load began, but {delivered} webhooks delivered")
    took = (last - first).total_seconds()
    api_rate = load.ok_per_second()
    return {"api_accept_rps": api_rate, "e2e_workflows_per_s": accepted / took, "e2e_seconds": took,
            "e2e_ratio": accepted / took / api_rate,
            **{f"e2e_cpu_ms_per_accept_{part}": seconds * 1000 / accepted for part, seconds in cpu_used.items()}}


def _idle_answers(stack: Stack, cfg: Config, base: str, effects: SideEffects, mentees: list[uuid.UUID]) -> float:
    """The accept's answer p50 (ms) on an idle stack: each sent once every side effect of the one before is done."""
    mentor = seed.mentors(stack.engine, 1)[0]
    answers = []
    with httpx.Client(base_url=base, headers=mentor.headers(), timeout=10) as client:
        for booking_id in seed.drafts(stack.engine, mentor, mentees, max(5, cfg.latency_samples // 2)):
            effects.wait_done(every=0.002)
            began = time.perf_counter()
            client.post(f"/api/v1/bookings/{booking_id}/accept").raise_for_status()
            answers.append((time.perf_counter() - began) * 1000)
    effects.wait_done(every=0.002)
    return statistics.median(answers)


def _burst(stack: Stack, cfg: Config, base: str, effects: SideEffects, mentees: list[uuid.UUID], *,
           api_rate: float) -> Rep:
    """Accepts at half ``api_rate``, open loop, for ``seconds``; then the wait for their last side effect."""
    idle_p50 = _idle_answers(stack, cfg, base, effects, mentees)
    rate = api_rate / 2
    count = max(10, int(rate * cfg.seconds))
    mentors = seed.mentors(stack.engine, ACCEPTING_MENTORS)
    (accepts,) = seed.interleaved_drafts(stack.engine, mentors, mentees, count // ACCEPTING_MENTORS + 1)
    since = effects.clock()
    burst = run_open_loop(base, accepts.paths()[:count], accepts.tokens[:count], rate=rate)
    _check_all_ok("burst", burst.statuses, burst.socket_errors)
    effects.wait_done()
    _, last = effects.span(since)
    return {"idle_accept_p50_ms": idle_p50, "burst_rate": rate, "burst_p50_ms": burst.p50_ms,
            "burst_p99_ms": burst.p99_ms, "burst_p99_ratio": burst.p99_ms / idle_p50,
            "burst_max_send_lag_ms": burst.max_lag_ms,
            "burst_done_after_s": last.timestamp() - burst.last_send}


def pipeline(stack: Stack, cfg: Config) -> list[Rep]:
    """``e2e_throughput_ratio``, then ``burst_p99_ratio`` at half the API rate the first measured, each repetition."""
    settle_leftovers(stack.engine)
    receiver, port = start_receiver(stack)
    admin = seed.users(stack.engine, 1)[0]
    with stack.engine.begin() as conn:
        conn.execute(text("UPDATE users SET is_admin = true WHERE id = :id"), {"id": admin})
        # An admin's endpoint subscribed to every event: every event of every booking reaches it.
        conn.execute(text("INSERT INTO webhook_endpoints (id, owner_user_id, url, secret, event_types) "
                          "VALUES (:id, :owner, :url, :secret, '[\"*\"]')"),
                     {"id": uuid.uuid4(), "owner": admin, "url": f"http://127.0.0.1:{port}/hooks/all",
                      "secret": new_secret()})
    api, base = stack.shared_api()
    workers = stack.start_make_run_workers()
    effects = SideEffects(stack.database_url)
    mentees = seed.users(stack.engine, 20)
    cpu = MachineCpu({"api": api, "core_worker": workers[0], "webhooks_worker": workers[1],
                      "calendars_worker": workers[2], "receiver": receiver})
    reps = []
    try:
        # Accepts one at a time until the workers just started have done each one's side effects: the first
        # repetition's load then meets a stack that answers, as the others do.
        _idle_answers(stack, cfg, base, effects, mentees)
        for rep in range(cfg.reps):
            e2e = _end_to_end(stack, cfg, base, effects, mentees, cpu=cpu)
            burst = _burst(stack, cfg, base, effects, mentees, api_rate=e2e["api_accept_rps"])
            reps.append(e2e | burst)
            cfg.progress(f"pipeline rep {rep + 1}: API {e2e['api_accept_rps']:.0f} accepts/s, all done "
                         f"{e2e['e2e_workflows_per_s']:.0f}/s ({e2e['e2e_seconds']:.1f} s); burst at "
                         f"{burst['burst_rate']:.0f}/s: p99 {burst['burst_p99_ms']:.1f} ms, idle p50 "
                         f"{burst['idle_accept_p50_ms']:.1f} ms, done {burst['burst_done_after_s']:.1f} s after")
    finally:
        effects.close()
        for process in (*workers, receiver):
            process.stop()
        stack.purge_queues()
    return reps


# -- drain_ratio --------------------------------------------------------------------------------------------------


def drain(stack: Stack, cfg: Config, app: Celery) -> list[Rep]:
    """A backlog of accepts taken with no worker running, then one worker (every queue) until it is gone.

    Its rate is handler rows done per second, from the first done to the last (the
    database's ``done_at``), the ``session.scheduled`` rows the drain itself writes
    included; over the no-op task rate of the same worker, measured right after.
    """
    settle_leftovers(stack.engine)
    _, base = stack.shared_api()
    effects = SideEffects(stack.database_url)
    mentees = seed.users(stack.engine, 20)
    mentor_count = min(ACCEPTING_MENTORS, cfg.backlog)
    reps = []
    try:
        for rep in range(cfg.reps):
            mentors = seed.mentors(stack.engine, mentor_count)
            (accepts,) = seed.interleaved_drafts(stack.engine, mentors, mentees, -(-cfg.backlog // mentor_count))
            ids, tokens = accepts.ids[:cfg.backlog], accepts.tokens[:cfg.backlog]
            taken = run_each_once(base, [f"/api/v1/bookings/{b}/accept" for b in ids], tokens,
                                  connections=CONNECTIONS)
            _check_all_ok("drain", taken.statuses, taken.socket_errors)
            backlog = effects.pending()
            since = effects.clock()
            servers = MachineCpu({})  # PostgreSQL's and Redis's CPU: the worker's is counted by its process
            servers_before = servers.read()
            worker = stack.start_worker()
            beat = stack.start_beat()  # as under make run: the relay sends what no kick announced
            try:
                effects.wait_done()
                cpu = sum(worker.cpu_seconds())  # the worker's main process and its pool, for the whole drain
                servers_used = servers.since(servers_before)
                with stack.engine.connect() as conn:
                    rows, first, last = conn.execute(text(
                        "SELECT count(*), min(done_at), max(done_at) FROM outbox_handlers WHERE done_at >= :s"),
                        {"s": since}).one()
                accepted, sessions = _accepted(stack.engine, ids)
                if accepted != cfg.backlog or sessions != accepted:
                    raise RuntimeError(f"{cfg.backlog} accepts: {accepted} accepted, {sessions} sessions")
                watcher = TaskWatcher(app)
                try:
                    noop_rate = noop_task_rate(watcher, app, cfg.seconds)
                finally:
                    watcher.close()
            finally:
                beat.stop()
                worker.stop()
                stack.purge_queues()
            took = (last - first).total_seconds()
            reps.append({"backlog_rows": backlog, "rows_done": rows, "drain_seconds": took,
                         "drain_rows_per_s": rows / took, "noop_tasks_per_s": noop_rate,
                         "drain_ratio": rows / took / noop_rate, "backlog_accept_rps": taken.ok_per_second(),
                         "worker_cpu_ms_per_row": cpu * 1000 / rows,
                         **{f"{part}_cpu_ms_per_row": seconds * 1000 / rows for part, seconds in servers_used.items()}})
            cfg.progress(f"drain rep {rep + 1}: {rows} handler rows in {took:.1f} s "
                         f"({reps[-1]['drain_rows_per_s']:.0f}/s), no-op tasks {noop_rate:.0f}/s")
    finally:
        effects.close()
        stack.purge_queues()
    return reps
