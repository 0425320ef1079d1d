"""A provider whose discovery document takes 30 s to come, against the API as gunicorn serves it (one worker of eight
threads): a burst of anonymous sign-in starts each ends within ``SIGN_ON_START_WAIT_SECONDS`` and a margin, on the
page saying the organisation could not be reached, and a signed-in person's ``/me`` meanwhile answers as fast as
ever: the starts never hold the API's threads."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from infra import sealing
from infra.config import get_settings
from models import AuthEvent, IdentityProvider
from tests.factories.accounts import UserFactory, as_caller
from tests.servers import gunicorn

DELAY_SECONDS = 30.0
WAIT_SECONDS = 1.0
BURST = 24
ME_SECONDS = 1.0  # /me at its slowest while the burst lasts (it takes milliseconds when nothing else runs)


@contextmanager
def slow_provider() -> Iterator[str]:
    """An issuer on 127.0.0.1 whose every answer comes after ``DELAY_SECONDS`` (or when the test ends)."""
    done = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            done.wait(DELAY_SECONDS)
            self.send_error(503)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's name
            """Quiet."""

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    http.daemon_threads = True
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        done.set()
        http.shutdown()
        http.server_close()


def test_a_burst_of_starts_at_a_slow_provider_waits_a_short_bound_and_leaves_others_served(
        seed: Session, committed: sessionmaker[Session], tmp_path: Path) -> None:
    someone = as_caller(UserFactory())
    with slow_provider() as issuer:
        provider = IdentityProvider(id=uuid.uuid4(), display_name="Slow Corp", issuer=issuer, client_id="mentorship",
                                    client_secret=sealing.seal(get_settings(), "a secret"), private_network=True)
        seed.add(provider)
        seed.commit()
        with gunicorn(tmp_path, API_THREADS="8", SIGN_ON_START_WAIT_SECONDS=str(WAIT_SECONDS)) as api, \
                httpx.Client(timeout=DELAY_SECONDS * 2) as http:
            assert http.get(f"{api.url}/me", headers=someone.headers).status_code == 200

            def start(n: int) -> tuple[float, httpx.Response]:
                began = time.monotonic()
                answer = http.get(f"{api.url}/auth/sign-on/{provider.id}/start",
                                  headers={"X-Forwarded-For": f"10.0.{n}.1"})
                return time.monotonic() - began, answer

            me_times: list[float] = []
            with ThreadPoolExecutor(BURST) as pool:
                starts = [pool.submit(start, n) for n in range(BURST)]
                time.sleep(0.3)  # the burst holds what it can hold by now
                while not all(f.done() for f in starts):
                    began = time.monotonic()
                    assert http.get(f"{api.url}/me", headers=someone.headers).status_code == 200
                    me_times.append(time.monotonic() - began)
                    time.sleep(0.1)
                answers = [f.result() for f in starts]
    slowest = max(took for took, _ in answers)
    print(f"{BURST} starts: slowest {slowest:.2f} s; /me {len(me_times)} times, slowest {max(me_times):.3f} s")
    for _took, answer in answers:
        assert answer.status_code == 302, answer.text
        assert answer.headers["Location"] == "/#/sign-on/failed?reason=provider"
    assert slowest < WAIT_SECONDS + 2, f"a start waited {slowest:.1f} s for the provider"
    assert me_times and max(me_times) < ME_SECONDS, f"/me took {max(me_times):.2f} s during the burst"
    with committed() as db:  # the admins read why: the provider could not be reached
        reasons = db.scalars(select(AuthEvent.reason).where(AuthEvent.provider_id == provider.id)).all()
    assert len(reasons) == BURST and set(reasons) == {"provider"}
