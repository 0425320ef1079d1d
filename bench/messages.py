"""``message_live_ratio``: one message at a time, from its sender's POST to the live message on the other person's
channel (what their stream relays), p50, ÷ the same for the floor route (``bench/app.py``'s
``/bench/floor-message``: one transaction that writes the message with its outbox event, then its kicks and one live
message to each of its people), the two taken in turn on the same API. Each sample is a conversation of its own
(``MESSAGE_RATE_LIMIT`` bounds what one person writes), inserted by SQL; the times are the Redis message's arrival
here, so the stream's last hop (the same for both) is out of both.
"""

from __future__ import annotations

import json
import queue
import statistics
import threading
import time
import uuid

import httpx
import redis
from sqlalchemy import text

from api.security import issue_token
from bench import seed
from bench.figures import Config, Rep
from bench.stack import Stack


def _pairs(stack: Stack, count: int) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
    """``count`` conversations of two new people each: (conversation, sender, receiver)."""
    people = seed.users(stack.engine, 2 * count)
    made = []
    with stack.engine.begin() as conn:
        for one, other in zip(people[::2], people[1::2], strict=True):
            first, second = sorted((one, other))
            conversation = conn.execute(text(
                "INSERT INTO conversations (id, kind, first_user_id, second_user_id) "
                "VALUES (gen_random_uuid(), 'pair', :first, :second) RETURNING id"),
                {"first": first, "second": second}).scalar_one()
            made.append((conversation, first, second))  # the floor route writes as the first
    return made


def _listen(client: redis.Redis, pattern: str, arrivals: queue.Queue[tuple[str, float]],
            stop: threading.Event) -> threading.Thread:
    pubsub = client.pubsub()
    pubsub.psubscribe(pattern)

    def run() -> None:
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.1)
            if message and message["type"] == "pmessage":
                now = time.perf_counter()
                if any(one.get("type") == "message.created" for one in json.loads(message["data"])):
                    arrivals.put((message["channel"].decode(), now))
        pubsub.close()
        client.close()  # held to here: a client collected early closes its pool, the subscription's connection too

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _until(arrivals: queue.Queue[tuple[str, float]], channel: str, began: float) -> float:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            got, at = arrivals.get(timeout=1)
        except queue.Empty:
            continue
        if got == channel:
            return (at - began) * 1000
    raise TimeoutError(f"no live message on {channel} within 30 s")


def message_live(stack: Stack, cfg: Config) -> list[Rep]:
    _, base = stack.shared_api()
    samples = cfg.message_samples
    reps = []
    for rep in range(cfg.reps):
        real, floor = _pairs(stack, samples), _pairs(stack, samples)
        arrivals: queue.Queue[tuple[str, float]] = queue.Queue()
        stop = threading.Event()
        listener = _listen(stack.redis(), f"{stack.prefix}live:user:*", arrivals, stop)
        time.sleep(0.5)
        real_ms, floor_ms = [], []
        with httpx.Client(base_url=base, timeout=30) as client:
            for (conversation, sender, receiver), (floor_conversation, _, floor_receiver) in zip(real, floor,
                                                                                                strict=True):
                headers = {"Authorization": f"Bearer {issue_token(sender, 0)[0]}"}
                began = time.perf_counter()
                client.post(f"/api/v1/conversations/{conversation}/messages", headers=headers,
                            json={"body": "Could we look at *my outline* first?"}).raise_for_status()
                real_ms.append(_until(arrivals, f"{stack.prefix}live:user:{receiver}", began))
                began = time.perf_counter()
                client.post(f"/bench/floor-message/{floor_conversation}").raise_for_status()
                floor_ms.append(_until(arrivals, f"{stack.prefix}live:user:{floor_receiver}", began))
        stop.set()
        listener.join(timeout=5)
        real_p50, floor_p50 = statistics.median(real_ms), statistics.median(floor_ms)
        reps.append({"ratio": round(real_p50 / floor_p50, 3), "message_p50_ms": round(real_p50, 2),
                     "floor_p50_ms": round(floor_p50, 2), "samples": samples})
        cfg.progress(f"message live rep {rep + 1}: send → the other's live message p50 {real_p50:.1f} ms, floor "
                     f"{floor_p50:.1f} ms")
    return reps
