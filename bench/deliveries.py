"""``webhook_ratio``: webhook deliveries per second against plain POSTs of the same body to the same receiver."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from celery import Celery
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench import seed
from bench.figures import Config, Rep
from bench.stack import WORKER_CONCURRENCY, Process, Stack
from devstack.host import free_port
from outbox.recording import TaskCall, pending_dispatches
from workflows.webhooks import fanout, messages, sending
from workflows.webhooks.endpoints import new_secret

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


