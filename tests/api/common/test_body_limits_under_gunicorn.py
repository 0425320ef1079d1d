"""The body limit holds under the real server, ``gunicorn "api:create_app()"``: a declared length
over the limit and a chunked body over it are a 413 with a message; a chunked body of exactly the
limit is read."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.host import free_port, stop_groups

ROOT = Path(__file__).resolve().parents[3]
LIMIT = 1024 * 1024
REGISTER = "/api/v1/auth/register"


@pytest.fixture
def gunicorn_port(database_url: str, tmp_path: Path) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "API_HOST": "127.0.0.1", "API_PORT": str(port), "WEB_CONCURRENCY": "1",
           "API_THREADS": "2"}
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "api:create_app()"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _request(port, "GET", "/health/live", [])[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.2)
        yield port
    finally:
        stop_groups(process, grace=20)
        log.close()


def _request(port: int, method: str, path: str, chunks: list[bytes],
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if chunks:
            connection.request(method, path, body=iter(chunks), encode_chunked=True,
                               headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        else:
            connection.putrequest(method, path)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_gunicorn_answers_and_refuses_bodies_over_the_limit(gunicorn_port: int) -> None:
    status, headers, _body = _request(gunicorn_port, "GET", "/health/live", [])
    assert status == 200 and headers["X-Content-Type-Options"] == "nosniff"

    # A declared length over the limit is refused before a byte of the body is sent.
    status, _headers, body = _request(gunicorn_port, "POST", REGISTER, [], headers={
        "Content-Type": "application/json", "Content-Length": str(LIMIT + 1)})
    assert status == 413 and f"{LIMIT:,}" in json.loads(body)["message"]

    over = [b'{"display_name": "'] + [b"a" * 65536] * 16 + [b'"}']
    assert sum(map(len, over)) > LIMIT
    status, _headers, body = _request(gunicorn_port, "POST", REGISTER, over)
    assert status == 413 and f"{LIMIT:,}" in json.loads(body)["message"]

    exact = b"{}" + b" " * (LIMIT - 2)
    status, _headers, body = _request(gunicorn_port, "POST", REGISTER, [exact[:LIMIT // 2], exact[LIMIT // 2:]])
    assert status == 422 and "email" in json.loads(body)["errors"]["json"]
