"""``announcement_fanout_s``: a programme's coordinator announces to its 10,000 participants; the seconds from the
POST to every inbox row committed (its ``delivered_at``), every live frame published (counted on the participants'
channels) and every email queued (the delivery queues each one before the task that publishes the frames, which
waits on a queue of its own). One worker on the ``notifications`` and ``events`` queues, as the Procfile's core worker
takes them, with a mail server (``aiosmtpd``, discarding) so that each recipient's email is owed and queued.

The participants are inserted by SQL (their accounts confirmed), the programme made and opened over HTTP.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import text

from api.security import issue_token
from bench import seed
from bench.figures import Config, Rep
from bench.stack import Stack
from devstack.host import free_port

RECIPIENTS = 10_000


class _Discard:
    async def handle_DATA(self, _server: Any, _session: Any, _envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        return "250 OK"


def _programme(stack: Stack, base: str, recipients: int) -> tuple[str, dict[str, str]]:
    (admin,) = seed.users(stack.engine, 1)
    people = seed.users(stack.engine, recipients)
    with stack.engine.begin() as conn:
        conn.execute(text("UPDATE users SET is_admin = true, email_verified_at = now() WHERE id = :id"), {"id": admin})
        conn.execute(text("UPDATE users SET email_verified_at = now() WHERE id = ANY(:ids)"), {"ids": people})
    headers = {"Authorization": f"Bearer {issue_token(admin, 0)[0]}"}
    with httpx.Client(base_url=base, timeout=60) as client:
        made = client.post("/api/v1/programmes", headers=headers, json={
            "name": f"Bench announcements {time.time_ns()}", "coordinator_user_ids": [str(admin)]})
        made.raise_for_status()
        programme = made.json()["id"]
        client.post(f"/api/v1/programmes/{programme}/open-enrolment", headers=headers).raise_for_status()
    with stack.engine.begin() as conn:
        conn.execute(text("INSERT INTO programme_participants (id, programme_id, user_id, role, status) "
                          "SELECT gen_random_uuid(), :programme, id, 'mentee', 'active' FROM unnest(:ids) AS id"),
                     {"programme": programme, "ids": people})
    return programme, headers


def _count_frames(client: redis.Redis, pattern: str, counted: list[int], stop: threading.Event) -> threading.Thread:
    pubsub = client.pubsub()
    pubsub.psubscribe(pattern)

    def listen() -> None:
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.2)
            if message and message["type"] == "pmessage" and b'"announcement.posted"' in message["data"]:
                counted[0] += 1
        pubsub.close()
        client.close()  # held to here: a client collected early closes its pool, the subscription's connection too

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    return thread


def announcement_fanout(stack: Stack, cfg: Config) -> list[Rep]:
    _, base = stack.shared_api()
    recipients = cfg.announcement_recipients
    sink = Controller(_Discard(), hostname="127.0.0.1", port=free_port())
    sink.start()
    worker = stack.start_worker(queues="notifications,events", extra_env={"SMTP_URL": f"smtp://127.0.0.1:{sink.port}"})
    reps = []
    try:
        for rep in range(cfg.reps):
            programme, headers = _programme(stack, base, recipients)
            counted, stop = [0], threading.Event()
            listener = _count_frames(stack.redis(), f"{stack.prefix}live:user:*", counted, stop)
            time.sleep(0.5)  # subscribed before the clock starts
            began = time.perf_counter()
            posted = httpx.post(f"{base}/api/v1/programmes/{programme}/announcements", headers=headers, timeout=60,
                                json={"title": "The kick-off moved", "body": "We meet on **Thursday** instead."})
            posted.raise_for_status()
            announcement = posted.json()["id"]
            delivered_s = None
            deadline = began + 600
            while time.perf_counter() < deadline:
                if delivered_s is None:
                    with stack.engine.connect() as conn:
                        if conn.execute(text("SELECT delivered_at IS NOT NULL FROM announcements WHERE id = :id"),
                                        {"id": announcement}).scalar():
                            delivered_s = time.perf_counter() - began
                if delivered_s is not None and counted[0] >= recipients:
                    break
                time.sleep(0.05)
            total = time.perf_counter() - began
            stop.set()
            listener.join(timeout=5)
            if counted[0] < recipients:
                raise RuntimeError(f"{counted[0]} of {recipients} live frames after {total:.0f} s")
            reps.append({"fanout_s": round(total, 3), "inbox_s": round(delivered_s or total, 3),
                         "recipients": recipients, "rss_celery_mb": worker.children_peak_rss_mb()})
            cfg.progress(f"announcement rep {rep + 1}: {recipients} told in {total:.2f} s (inbox rows committed "
                         f"at {delivered_s:.2f} s)")
            stack.purge_queues()  # the emails queued are not this figure's: dropped before the next repetition
    finally:
        worker.stop()
        sink.stop()
        stack.purge_queues()
    return reps
