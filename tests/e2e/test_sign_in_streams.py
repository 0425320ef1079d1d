"""Live streams end within seconds of the end of the credential that opened them, over a real HTTP server
and real Redis: signing out, changing the password, deleting the account, ending the sign-in, or a reused
refresh token. The streams of the user's other sign-ins go on when only one sign-in ends."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import jwt
import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.live.stream import CREDENTIAL_CHECK_SECONDS
from tests.api_calls import bearer
from tests.factories.accounts import PASSWORD, UserFactory
from tests.servers import serving

STREAM = "/api/v1/events/stream"
NEW_PASSWORD = "a longer passphrase nobody has seen"
# The check runs every CREDENTIAL_CHECK_SECONDS, in a loop that waits up to a second for a message.
ENDS_WITHIN = CREDENTIAL_CHECK_SECONDS + 2.0


@pytest.fixture
def base(committed: sessionmaker[Session]) -> Iterator[str]:
    # Streams that would live 60 s: one that ends sooner was ended.
    with serving(committed, sse_max_seconds=60.0, sse_max_streams_per_process=8,
                 sse_max_streams_per_user=8) as (url, _app):
        yield url


def signed_in_over_http(http: httpx.Client, email: str, password: str = PASSWORD) -> dict:
    """The tokens of a sign-in to the served API (:func:`tests.api_calls.signed_in` is the test client's)."""
    response = http.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def open_streams(http: httpx.Client, streams: ExitStack, tokens: dict) -> list[Iterator[str]]:
    """Two streams of one sign-in: one with its bearer token, one the browser's way, with a ticket."""
    ticket = http.post("/api/v1/events/tickets", headers=bearer(tokens))
    assert ticket.status_code == 201, ticket.text
    # A stream that sends nothing but keep-alives for ENDS_WITHIN is still open.
    timeout = httpx.Timeout(10.0, read=ENDS_WITHIN)
    opened = [streams.enter_context(http.stream("GET", STREAM, headers=bearer(tokens), timeout=timeout)),
              streams.enter_context(http.stream("GET", f"{STREAM}?ticket={ticket.json()['ticket']}",
                                                timeout=timeout))]
    lines = []
    for stream in opened:
        assert stream.status_code == 200
        lines.append(stream.iter_lines())
        assert next(lines[-1]) == "retry: 3000"
    return lines


def seconds_until_it_ends(stream: Iterator[str], since: float) -> float | None:
    """How long after ``since`` the server ended the stream; ``None`` if it sent nothing more for
    ``ENDS_WITHIN`` seconds and was still open."""
    try:
        for _line in stream:
            if time.monotonic() - since > ENDS_WITHIN:
                return None
    except httpx.ReadTimeout:
        return None
    return time.monotonic() - since


Act = Callable[[httpx.Client, dict, dict], None]


def logout(http: httpx.Client, mine: dict, _other: dict) -> None:
    assert http.post("/api/v1/auth/logout", headers=bearer(mine)).status_code == 204


def change_password(http: httpx.Client, mine: dict, _other: dict) -> None:
    response = http.post("/api/v1/me/password", headers=bearer(mine),
                         json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 200


def delete_account(http: httpx.Client, mine: dict, _other: dict) -> None:
    response = http.request("DELETE", "/api/v1/me", headers=bearer(mine), json={"current_password": PASSWORD})
    assert response.status_code == 204


def end_the_sign_in(http: httpx.Client, mine: dict, other: dict) -> None:
    sign_in_id = jwt.decode(mine["access_token"], options={"verify_signature": False})["sid"]
    assert http.delete(f"/api/v1/me/sign-ins/{sign_in_id}", headers=bearer(other)).status_code == 204


def reuse_its_refresh_token(http: httpx.Client, mine: dict, _other: dict) -> None:
    assert http.post("/api/v1/auth/refresh", json={"refresh_token": mine["refresh_token"]}).status_code == 200
    assert http.post("/api/v1/auth/refresh", json={"refresh_token": mine["refresh_token"]}).status_code == 401


@pytest.mark.parametrize(("act", "every_sign_in"), [
    (logout, True), (change_password, True), (delete_account, True),
    (end_the_sign_in, False), (reuse_its_refresh_token, False),
])
def test_streams_end_within_seconds_of_their_credential(seed: Session, base: str, act: Act,
                                                        every_sign_in: bool) -> None:
    user = UserFactory()
    seed.commit()
    with httpx.Client(base_url=base, timeout=10) as http, ExitStack() as streams:
        mine, other = signed_in_over_http(http, user.email), signed_in_over_http(http, user.email)
        ending = open_streams(http, streams, mine)
        (others,) = open_streams(http, streams, other)[:1]
        act(http, mine, other)
        acted = time.monotonic()  # the change is committed when the answer arrives
        took = [seconds_until_it_ends(stream, acted) for stream in ending]
        assert None not in took, f"still streaming {ENDS_WITHIN} s after {act.__name__}: {took}"
        if every_sign_in:
            assert seconds_until_it_ends(others, acted) is not None
        else:
            # The other sign-in's stream is still open more than a check later, and still authorised.
            assert seconds_until_it_ends(others, acted) is None
            assert http.get("/api/v1/me", headers=bearer(other)).status_code == 200
