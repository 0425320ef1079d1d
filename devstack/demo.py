"""``make demo``: sample data in the running system, then one booking's whole life, step by step.

Talks to the API only: ``API_URL`` or ``API_PORT`` when set, else the API of the
``make run`` using ``$VAR_DIR`` (devstack/running.py), and says which. Receives the
webhooks each step causes on a local receiver that verifies every signature with
the ``standardwebhooks`` package.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from standardwebhooks import Webhook

from devstack.running import DEFAULT_API_PORT, RunningStack, not_running_message, var_dir_of

PASSWORD = "demo password 123"  # noqa: S105 - the demo accounts' password, printed on purpose


class Receiver:
    """A webhook endpoint on 127.0.0.1 that verifies and queues what it receives."""

    def __init__(self) -> None:
        self.secret = ""
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                try:
                    Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                    verified = True
                except Exception:  # noqa: BLE001 - any verification failure is reported, not raised
                    verified = False
                receiver.received.put({"id": self.headers.get("webhook-id"), "verified": verified,
                                       **json.loads(body)})
                self.send_response(204 if verified else 400)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/webhooks"

    def drain(self, wait: float = 3.0) -> list[dict[str, Any]]:
        """What arrived within ``wait`` seconds of the last message."""
        messages = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                messages.append(self.received.get(timeout=0.2))
                deadline = time.monotonic() + 1.0
            except queue.Empty:
                continue
        return messages


class Demo:
    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=15)
        self.tag = uuid.uuid4().hex[:6]

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.request(method, f"/api/v1{path}", headers=headers, **kwargs)
        if response.status_code >= 400:  # noqa: PLR2004 - HTTP error range
            raise SystemExit(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def account(self, name: str) -> str:
        email = f"{name}-{self.tag}@demo.example"
        self.call("POST", "/auth/register", json={"email": email, "password": PASSWORD, "display_name": name})
        return str(self.call("POST", "/auth/token", json={"email": email, "password": PASSWORD})["access_token"])


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def show_webhooks(receiver: Receiver, wait: float = 3.0) -> None:
    for message in receiver.drain(wait):
        mark = "verified" if message["verified"] else "SIGNATURE FAILED"
        print(f"    webhook {message['type']:20} webhook-id={message['id']}  ({mark})", flush=True)


def wait_for(check: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {what}: are the workers running (make run)?")


def find_api(environ: Mapping[str, str]) -> tuple[str, Path | None, str]:
    """The API's base URL, the data folder of its stack (where its metrics token is; ``VAR_DIR``'s when the API
    was named), and a line saying where both came from."""
    var_dir = var_dir_of(environ)
    if url := environ.get("API_URL"):
        return url.rstrip("/"), var_dir, f"the API at {url} (API_URL)"
    if port := environ.get("API_PORT"):
        return f"http://127.0.0.1:{port}", var_dir, f"the API on port {port} (API_PORT)"
    running = RunningStack.find(var_dir)
    if running is None:
        default = f"http://127.0.0.1:{DEFAULT_API_PORT}"
        return default, None, f"{not_running_message(var_dir)}; trying {default}"
    return running.api_url, Path(running.var_dir), running.describe()


def main() -> int:
    base, var_dir, where = find_api(os.environ)
    print(f"make demo: {where}", flush=True)
    demo = Demo(base)
    try:
        demo.http.get("/health/ready").raise_for_status()
    except httpx.HTTPError as exc:
        print(f"the API at {base} is not ready ({exc}); start it with `make run`", file=sys.stderr)
        return 1
    receiver = Receiver()

    step("Seeding sample mentors, listings and bookings")
    for index, skill in enumerate(("python", "system design", "go")):
        token = demo.account(f"sample-mentor-{index}")
        demo.call("POST", "/mentor-profiles", token, json={"headline": f"{skill} mentor", "timezone": "UTC",
                                                          "skills": [skill]})
        listing = demo.call("POST", "/listings", token, json={"title": f"{skill} review", "skill": skill,
                                                             "duration_minutes": 60, "price_cents": 6000})
        sample_mentee = demo.account(f"sample-mentee-{index}")
        start = (datetime.now(UTC) + timedelta(days=3 + index)).replace(minute=0, second=0, microsecond=0)
        demo.call("POST", "/bookings", sample_mentee, json={"listing_id": listing["id"],
                                                            "start_time": start.isoformat()})
        print(f"    mentor {index}: {skill} listing {listing['id']}, one booking request", flush=True)

    step("A mentor and a mentee sign up; the mentor subscribes a webhook endpoint to every event")
    mentor, mentee = demo.account("mentor"), demo.account("mentee")
    profile = demo.call("POST", "/mentor-profiles", mentor, json={"headline": "Backend mentor", "timezone": "UTC",
                                                                  "skills": ["python"]})
    listing = demo.call("POST", "/listings", mentor, json={"title": "Code review", "skill": "python",
                                                           "duration_minutes": 30, "slot_step_minutes": 15,
                                                           "price_cents": 4000})
    endpoint = demo.call("POST", "/webhook-endpoints", mentor, json={"url": receiver.url, "event_types": ["*"],
                                                                     "description": "demo receiver"})
    receiver.secret = endpoint["secret"]
    print(f"    listing {listing['id']}; endpoint {endpoint['id']} -> {receiver.url}", flush=True)

    step("The mentee requests the listing's next slot, at the next quarter hour")
    soon = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0)
    start = soon + timedelta(minutes=-soon.minute % 15)
    booking = demo.call("POST", "/bookings", mentee, json={"listing_id": listing["id"],
                                                           "start_time": start.isoformat()})
    print(f"    booking {booking['id']}: {booking['status']}", flush=True)
    show_webhooks(receiver)

    step("The mentor accepts; a worker creates the session")
    demo.call("POST", f"/bookings/{booking['id']}/accept", mentor)
    session_id = wait_for(lambda: demo.call("GET", f"/bookings/{booking['id']}", mentee)["session_id"],
                          "the session")
    print(f"    session {session_id}: scheduled", flush=True)
    show_webhooks(receiver)

    step("The mentee starts the session (allowed from 15 minutes before)")
    print(f"    status: {demo.call('POST', f'/sessions/{session_id}/start', mentee)['status']}", flush=True)
    show_webhooks(receiver)

    step("The mentor completes it with notes; completion fans out to reviews, notifications, analytics, webhooks")
    done = demo.call("POST", f"/sessions/{session_id}/complete", mentor,
                     json={"notes": "Walked through the service layer.", "action_items": ["add tests"]})
    print(f"    status: {done['status']} by {done['completed_by']}", flush=True)
    show_webhooks(receiver)

    step("The mentee reviews the session once the reviews worker unlocks it")

    def review() -> Any:
        response = demo.http.post(f"/api/v1/sessions/{session_id}/review",
                                  headers={"Authorization": f"Bearer {mentee}"},
                                  json={"rating": 5, "comment": "Very helpful."})
        return response.json() if response.status_code == 201 else None  # noqa: PLR2004 - 201 Created

    print(f"    review {wait_for(review, 'review eligibility')['id']}: 5/5", flush=True)
    show_webhooks(receiver)

    show_outcome(demo, mentee=mentee, mentor=mentor, profile_id=profile["id"])
    show_metrics(demo, var_dir)
    print("\nDone. Flower shows the tasks too.", flush=True)
    return 0


def show_outcome(demo: Demo, *, mentee: str, mentor: str, profile_id: str) -> None:
    step("What each side sees now")
    notes = demo.call("GET", "/notifications", mentee)["items"]
    print(f"    mentee notifications: {', '.join(n['type'] for n in notes)}", flush=True)
    stats = wait_for(lambda: (s := demo.call("GET", f"/mentor-profiles/{profile_id}/stats", mentor))
                     ["sessions_completed"] and s, "the mentor's stats")
    print(f"    mentor stats: {stats}", flush=True)


def show_metrics(demo: Demo, var_dir: Path | None) -> None:
    """What ``/metrics`` counted: tasks by name, webhook attempts, accepts (with the stack's token)."""
    token = os.environ.get("METRICS_TOKEN") or (_read(var_dir / "metrics_token") if var_dir else "")
    step("What /metrics counted")
    if not token:
        print("    (set METRICS_TOKEN to the API's to read /metrics)", flush=True)
        return
    response = demo.http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:  # noqa: PLR2004 - 200 OK
        print(f"    /metrics answered {response.status_code}: is METRICS_TOKEN the API's?", flush=True)
        return
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            shown = sample.name in {"celery_tasks_total", "webhook_attempts_total"} or (
                sample.name == "http_requests_total" and "/bookings" in sample.labels.get("route", ""))
            if shown:
                labels = ", ".join(f"{key}={value}" for key, value in sorted(sample.labels.items()))
                print(f"    {sample.name} {{{labels}}} {sample.value:g}", flush=True)


def _read(path: Path) -> str:
    return path.read_text().strip() if path.exists() else ""


if __name__ == "__main__":
    raise SystemExit(main())
