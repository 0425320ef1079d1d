"""Live streams cannot be locked out: every way a stream ends gives its slots back, and no user takes them all."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import EnvironBuilder

from api.live.slots import USER_RETRY_AFTER_SECONDS
from infra.config import get_settings
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.servers import live_app, serving
from tests.workers_fixtures import RedisServer

STREAM = "/api/v1/events/stream"
Serve = Callable[..., str]


@pytest.fixture
def serve(committed: sessionmaker[Session]) -> Iterator[Serve]:
    """Start the real app on a threaded HTTP server with these settings; its base URL."""
    with ExitStack() as servers:
        yield lambda **changes: servers.enter_context(serving(committed, **changes))[0]


def callers(seed: Session, count: int) -> list[Caller]:
    users = [UserFactory() for _ in range(count)]
    seed.commit()
    return [as_caller(user) for user in users]


def first_line(response: httpx.Response) -> str:
    return next(response.iter_lines())


def test_forty_heads_then_a_get_still_streams(seed: Session, serve: Serve) -> None:
    (user,) = callers(seed, 1)
    # No share kept for first streams: a HEAD's slots come back when the server closes its response,
    # just after the client has it, so the user may still hold the last one as the next arrives.
    base = serve(sse_max_seconds=8.0, sse_max_streams_per_process=2, sse_max_streams_per_user=3,
                 sse_first_stream_share_percent=0)
    with httpx.Client(base_url=base, timeout=10) as http:
        heads = [http.head(STREAM, headers=user.headers).status_code for _ in range(40)]
        assert heads == [200] * 40
        with http.stream("GET", STREAM, headers=user.headers) as stream:
            assert stream.status_code == 200
            assert first_line(stream) == "retry: 3000"


def test_streams_closed_before_their_first_byte_give_their_slots_back(
    seed: Session, committed: sessionmaker[Session]
) -> None:
    """What a WSGI server does when the client left before the body: close the response, never iterate it."""
    (user,) = callers(seed, 1)
    settings = dataclasses.replace(get_settings(), sse_max_seconds=8.0, sse_max_streams_per_process=2,
                                   sse_max_streams_per_user=3)
    app = live_app(committed, settings)

    def call() -> tuple[list[str], Any]:
        statuses: list[str] = []
        environ = EnvironBuilder(path=STREAM, headers=user.headers).get_environ()
        body = app(environ, lambda status, _headers, _exc=None: statuses.append(status))
        return statuses, body

    for _ in range(10):
        statuses, body = call()
        assert statuses == ["200 OK"]
        body.close()
    statuses, body = call()
    assert statuses == ["200 OK"]
    assert next(iter(body)) == b"retry: 3000\n\n"
    body.close()


def test_a_users_fourth_stream_is_refused_while_another_user_streams(seed: Session, serve: Serve) -> None:
    greedy, other = callers(seed, 2)
    base = serve(sse_max_seconds=3.0, sse_max_streams_per_process=8, sse_max_streams_per_user=3)
    with httpx.Client(base_url=base, timeout=10) as http, ExitStack() as streams:
        held = [streams.enter_context(http.stream("GET", STREAM, headers=greedy.headers)) for _ in range(3)]
        assert [s.status_code for s in held] == [200, 200, 200]
        fourth = http.get(STREAM, headers=greedy.headers)
        assert fourth.status_code == 429
        assert fourth.headers["Retry-After"] == str(USER_RETRY_AFTER_SECONDS)  # its streams write every 2 s
        assert "live streams" in fourth.json()["message"]
        with http.stream("GET", STREAM, headers=other.headers) as theirs:
            assert theirs.status_code == 200
            assert first_line(theirs) == "retry: 3000"
        # The streams end (SSE_MAX_SECONDS) and their slots come back.
        for stream in held:
            assert stream.read().startswith(b"retry: 3000")
    with httpx.Client(base_url=base, timeout=10) as http, ExitStack() as streams:
        again = [streams.enter_context(http.stream("GET", STREAM, headers=greedy.headers)) for _ in range(3)]
        assert [s.status_code for s in again] == [200, 200, 200]


def test_a_few_accounts_cannot_take_every_stream_of_a_process(seed: Session, serve: Serve) -> None:
    """Half of the process's eight streams are kept for users holding none: three accounts trying three
    streams each get their first streams and two more, and three newcomers still get in."""
    greedy = callers(seed, 3)
    newcomers = callers(seed, 4)
    base = serve(sse_max_seconds=8.0, sse_max_streams_per_process=8, sse_max_streams_per_user=3,
                 sse_first_stream_share_percent=50)
    with httpx.Client(base_url=base, timeout=10) as http, ExitStack() as streams:
        answers = []
        for caller in greedy:
            for _ in range(3):
                response = streams.enter_context(http.stream("GET", STREAM, headers=caller.headers))
                answers.append(response.status_code)
                if response.status_code != 200:
                    response.read()
                    assert response.headers["Retry-After"] == "5"
                    assert "users with none open" in response.json()["message"]
        # The first account's three streams, then only each other account's first: four slots stay free.
        assert answers == [200, 200, 200, 200, 503, 503, 200, 503, 503]
        admitted = [streams.enter_context(http.stream("GET", STREAM, headers=c.headers)) for c in newcomers[:3]]
        assert [response.status_code for response in admitted] == [200, 200, 200]
        assert first_line(admitted[-1]) == "retry: 3000"
        # Now the process is full, for newcomers too: 503 with Retry-After, as ever.
        full = http.get(STREAM, headers=newcomers[3].headers)
        assert full.status_code == 503 and full.headers["Retry-After"] == "5"
        assert full.json()["message"] == "too many live streams on this server; retry shortly"


def test_a_stream_on_another_process_counts_as_one_held(seed: Session, serve: Serve) -> None:
    user, newcomer, another = callers(seed, 3)
    settings = {"sse_max_seconds": 8.0, "sse_max_streams_per_process": 2, "sse_max_streams_per_user": 3,
                "sse_first_stream_share_percent": 50}
    first, second = serve(**settings), serve(**settings)
    with httpx.Client(timeout=10) as http, ExitStack() as streams:
        assert streams.enter_context(http.stream("GET", second + STREAM, headers=user.headers)).status_code == 200
        assert streams.enter_context(http.stream("GET", first + STREAM, headers=newcomer.headers)).status_code == 200
        # One slot left on the first process, kept for users with none open: the user has one, elsewhere.
        refused = http.get(first + STREAM, headers=user.headers)
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
        assert streams.enter_context(http.stream("GET", first + STREAM, headers=another.headers)).status_code == 200


def test_a_users_cap_counts_the_streams_of_every_api_process(seed: Session, serve: Serve) -> None:
    (user,) = callers(seed, 1)
    first, second = (serve(sse_max_seconds=8.0, sse_max_streams_per_process=8, sse_max_streams_per_user=3)
                     for _ in range(2))
    with httpx.Client(timeout=10) as http, ExitStack() as streams:
        for base in (first, second, first):
            assert streams.enter_context(http.stream("GET", base + STREAM, headers=user.headers)).status_code == 200
        assert http.get(second + STREAM, headers=user.headers).status_code == 429


def test_a_slot_left_by_a_dead_process_expires(seed: Session, committed: sessionmaker[Session]) -> None:
    from api.live.slots import Refused, StreamSlots

    (user,) = callers(seed, 1)
    app: Flask = live_app(committed, dataclasses.replace(get_settings(), sse_max_streams_per_user=1))
    dead = StreamSlots.for_app(app, lease_seconds=1.0).acquire(user.user.id)  # never released: its process died
    slots = StreamSlots.for_app(app)
    with pytest.raises(Refused) as refused:
        slots.acquire(user.user.id)
    assert refused.value.status == 429
    threading.Event().wait(1.5)  # the dead process's lease runs out
    dead.renewed_at -= 60
    assert dead.renew_if_due() is False  # a stream that outlived its lease learns so, and ends
    lease = slots.acquire(user.user.id)
    lease.release()
    lease.release()  # releasing twice is harmless: the second gives nothing back
    slots.acquire(user.user.id).release()


def test_streams_answer_503_while_redis_is_down(
    seed: Session, serve: Serve, private_redis: RedisServer
) -> None:
    (user,) = callers(seed, 1)
    base = serve(redis_url=private_redis.url)
    private_redis.kill()
    with httpx.Client(base_url=base, timeout=10) as http:
        response = http.get(STREAM, headers=user.headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
