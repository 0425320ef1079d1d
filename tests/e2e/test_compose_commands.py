"""The commands of ``docker-compose.yml``'s app services, started without a Docker engine.

They run from ``.venv/bin`` with each service's own environment, only re-pointed at this run's
database, Redis key prefix and free local ports, and must come up: the API answers
``/health/ready``, each worker answers its compose healthcheck, beat starts, Flower asks
for its basic auth, and ``alembic upgrade head`` exits 0.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack.host import free_port, group_alive, kill_group, signal_group, stop_groups
from tests.e2e.compose_file import (
    APP_SERVICES,
    BIN,
    ROOT,
    WORKER_SERVICES,
    interpolate,
    raw_compose,
    replace_option,
    secret_values,
)


def _http_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass
class Component:
    service: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{self.service}: no {text!r} (exit {self.process.poll()}):\n{self.log()[-4000:]}")


@dataclass
class Stack:
    services: dict[str, Any]
    components: dict[str, Component]
    api_port: int
    flower_port: int
    secrets: dict[str, str]


def _start(service: str, command: list[str], env: dict[str, str], workdir: Path) -> Component:
    log_path = workdir / f"{service}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Component(service, command, env, process, log_path)


def _local_environment(service_env: dict[str, str], database_url: str, workdir: Path) -> dict[str, str]:
    """A compose service's environment, re-pointed at this run's servers; nothing else inherited."""
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        **service_env,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ["REDIS_URL"],
        "REDIS_KEY_PREFIX": os.environ["REDIS_KEY_PREFIX"],
        # The shared "metrics" volume of the API and the workers.
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
    }
    if "SMTP_URL" in env:  # no mail catcher here: a closed local port
        env["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    return env


@pytest.fixture(scope="module")
def stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("compose")
    (workdir / "metrics").mkdir()
    values = secret_values()
    services = interpolate(raw_compose(), values)["services"]
    api_port, flower_port = free_port(), free_port()
    components: dict[str, Component] = {}
    try:
        for name in sorted(APP_SERVICES):
            command = list(services[name]["command"])
            env = _local_environment(services[name]["environment"], database_url, workdir)
            if name == "api":
                env |= {"API_HOST": "127.0.0.1", "API_PORT": str(api_port)}
            elif name == "flower":
                command = replace_option(command, "--port", str(flower_port))
                env["FLOWER_ADDRESS"] = "127.0.0.1"
            elif name == "beat":
                command = replace_option(command, "--schedule", str(workdir / "celerybeat-schedule"))
            components[name] = _start(name, [str(BIN / command[0]), *command[1:]], env, workdir)
        yield Stack(services, components, api_port, flower_port, values)
    finally:
        stop_groups(*(c.process for c in components.values()), grace=15)
        # The leaders are gone; what they started (a worker's pool) must follow.
        deadline = time.monotonic() + 10
        while any(group_alive(c.process.pid) for c in components.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = [c.service for c in components.values() if group_alive(c.process.pid)]
        for component in components.values():
            signal_group(component.process.pid, signal.SIGKILL)
        assert not survivors, f"still running: {survivors}"


def test_migrate_exits_zero(stack: Stack) -> None:
    migrate = stack.components["migrate"]
    assert migrate.process.wait(timeout=30) == 0, migrate.log()


def test_api_answers_ready_and_its_healthcheck_passes(stack: Stack) -> None:
    api = stack.components["api"]
    deadline = time.monotonic() + 30
    status, body = 0, b""
    while time.monotonic() < deadline and api.process.poll() is None:
        try:
            status, body = _http_get(stack.api_port, "/health/ready")
        except OSError:
            time.sleep(0.2)
            continue
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200, (status, body, api.log()[-4000:])
    assert json.loads(body)["checks"] == {"database": "ok", "redis": "ok"}
    test = stack.services["api"]["healthcheck"]["test"]
    command = [part.replace("127.0.0.1:8000", f"127.0.0.1:{stack.api_port}") for part in test[1:]]
    subprocess.run(command, env=api.env, cwd=ROOT, check=True, timeout=30)


def test_workers_start_and_answer_their_healthchecks(stack: Stack) -> None:
    deadline = time.monotonic() + 40
    for name in sorted(WORKER_SERVICES):
        stack.components[name].wait_for(" ready.", deadline)
    checks = {}
    for name in sorted(WORKER_SERVICES):
        test = stack.services[name]["healthcheck"]["test"]
        assert test[0] == "CMD-SHELL"
        env = {**stack.components[name].env, "HOSTNAME": socket.gethostname()}
        checks[name] = subprocess.Popen(
            ["/bin/sh", "-c", test[1]], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    for name, check in checks.items():
        try:
            output, _ = check.communicate(timeout=40)
        finally:
            kill_group(check)
        assert check.returncode == 0, (name, shlex.join(check.args), output.decode(errors="replace"))
        assert b"pong" in output, output


def test_beat_starts(stack: Stack) -> None:
    stack.components["beat"].wait_for("beat: Starting", time.monotonic() + 30)


def test_flower_asks_for_basic_auth(stack: Stack) -> None:
    flower = stack.components["flower"]
    deadline = time.monotonic() + 30
    status = 0
    while time.monotonic() < deadline and flower.process.poll() is None:
        try:
            status, _ = _http_get(stack.flower_port, "/")
            break
        except OSError:
            time.sleep(0.2)
    assert status == 401, (status, flower.log()[-4000:])
    credentials = base64.b64encode(stack.secrets["FLOWER_BASIC_AUTH"].encode()).decode()
    assert _http_get(stack.flower_port, "/", {"Authorization": f"Basic {credentials}"})[0] == 200
    wrong = base64.b64encode(b"ops:wrong").decode()
    assert _http_get(stack.flower_port, "/", {"Authorization": f"Basic {wrong}"})[0] == 401
    test = stack.services["flower"]["healthcheck"]["test"]
    command = [part.replace("127.0.0.1:5555", f"127.0.0.1:{stack.flower_port}") for part in test[1:]]
    subprocess.run(command, env=flower.env, cwd=ROOT, check=True, timeout=30)


def test_api_metrics_add_up_the_workers_samples(stack: Stack) -> None:
    """Beat sends the outbox relay every 5 s to worker-core; its samples reach the API's /metrics."""
    headers = {"Authorization": f"Bearer {stack.secrets['METRICS_TOKEN']}"}
    deadline = time.monotonic() + 20
    body = b""
    while time.monotonic() < deadline:
        status, body = _http_get(stack.api_port, "/metrics", headers)
        assert status == 200
        if b'task="maintenance.relay_outbox"' in body:
            return
        time.sleep(0.5)
    raise AssertionError(f"no worker samples in /metrics:\n{body.decode(errors='replace')[-2000:]}")
