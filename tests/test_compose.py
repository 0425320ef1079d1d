"""``docker-compose.yml`` and the ``Dockerfile``, checked without a Docker engine.

The file is read as the Compose specification reads it (YAML anchors and merge keys,
``${VAR}`` interpolation); the commands its app services run are then started from
``.venv/bin`` with each service's own environment, only re-pointed at this run's
database, Redis key prefix and free local ports, and must come up: the API answers
``/health/ready``, each worker answers its compose healthcheck, beat starts, Flower asks
for its basic auth, and ``alembic upgrade head`` exits 0.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from workers.celery_app import QUEUES

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
COMPOSE_FILE = ROOT / "docker-compose.yml"

INFRA_SERVICES = {"postgres", "redis", "mailpit"}
WORKER_SERVICES = {"worker-core", "worker-side-effects", "worker-webhooks"}
APP_SERVICES = {"migrate", "api", "beat", "flower", *WORKER_SERVICES}
# The queue group each worker service consumes.
WORKER_QUEUES = {
    "worker-core": {"sessions", "events", "maintenance"},
    "worker-side-effects": {"reviews", "notifications", "analytics"},
    "worker-webhooks": {"webhooks"},
}
# Each component's own command (SPEC §2, README "Components"): a service may add options only.
COMPONENT_COMMANDS = {
    "migrate": ("alembic", "upgrade", "head"),
    "api": ("gunicorn", "api:create_app()"),
    "worker-core": ("celery", "-A", "workers", "worker"),
    "worker-side-effects": ("celery", "-A", "workers", "worker"),
    "worker-webhooks": ("celery", "-A", "workers", "worker"),
    "beat": ("celery", "-A", "workers", "beat"),
    "flower": ("celery", "-A", "workers", "flower"),
}
HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"
STARTED = "service_started"
EXPECTED_DEPENDS_ON = {
    "postgres": {},
    "redis": {},
    "mailpit": {},
    "migrate": {"postgres": HEALTHY},
    "api": {"migrate": COMPLETED, "redis": HEALTHY},
    "worker-core": {"migrate": COMPLETED, "redis": HEALTHY},
    "worker-side-effects": {"migrate": COMPLETED, "redis": HEALTHY, "mailpit": STARTED},
    "worker-webhooks": {"migrate": COMPLETED, "redis": HEALTHY},
    "beat": {"migrate": COMPLETED, "redis": HEALTHY},
    "flower": {"redis": HEALTHY},
}
# What each healthcheck must run.
EXPECTED_HEALTHCHECKS = {
    "postgres": "pg_isready",
    "redis": "redis-cli ping",
    "api": "/health/ready",
    "worker-core": "celery -A workers inspect ping -d core@$HOSTNAME",
    "worker-side-effects": "celery -A workers inspect ping -d side-effects@$HOSTNAME",
    "worker-webhooks": "celery -A workers inspect ping -d webhooks@$HOSTNAME",
    "flower": "/healthcheck",
}
# Variables `docker compose` refuses to start without (the secrets).
REQUIRED_VARIABLES = {"POSTGRES_PASSWORD", "JWT_SECRET_KEY", "METRICS_TOKEN", "FLOWER_BASIC_AUTH"}
# Read outside workflows/config.py (each must really be read somewhere in the project).
OTHER_READ_VARIABLES = {
    "PROMETHEUS_MULTIPROC_DIR", "METRICS_TOKEN", "API_HOST", "API_PORT", "WEB_CONCURRENCY", "API_THREADS",
    "LOG_LEVEL", "LOG_FORMAT", "MIGRATION_LOCK_TIMEOUT", "MIGRATION_STATEMENT_TIMEOUT",
}
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|BASIC_AUTH")
REQUIRED_INTERPOLATION = re.compile(r"^\$\{(?P<name>[A-Z][A-Z0-9_]*):\?[^}]+\}$")


# --- reading the file as Compose does ------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariableError(LookupError):
    pass


def interpolate_text(text: str, env: dict[str, str]) -> str:
    """Compose's ``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}``, ``${VAR:+other}``."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        value, op, arg = env.get(name), match["op"], match["arg"]
        unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in {":?", "?"} and unset:
            raise MissingVariableError(f"{name}: {arg}")
        if op in {":-", "-"} and unset:
            return arg
        if op in {":+", "+"}:
            return "" if unset else arg
        return value or ""

    return _VARIABLE.sub(substitute, text)


def interpolate(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate_text(node, env)
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, env) for value in node]
    return node


def raw_compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


def secret_values() -> dict[str, str]:
    """What an operator supplies for the required variables (fresh for each run)."""
    return {
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "METRICS_TOKEN": secrets.token_urlsafe(24),
        "FLOWER_BASIC_AUTH": f"ops:{secrets.token_urlsafe(12)}",
    }


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("depends_on") or {}
    assert isinstance(value, dict), "depends_on in the long form, with conditions"
    return {name: spec["condition"] for name, spec in value.items()}


def healthcheck_text(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    if isinstance(test, str):
        return test
    assert test[0] in {"CMD", "CMD-SHELL"}, test
    return " ".join(test[1:])


def option_value(command: list[str], option: str) -> str:
    for index, token in enumerate(command):
        if token == option:
            return command[index + 1]
        if token.startswith(option + "="):
            return token.split("=", 1)[1]
    raise AssertionError(f"{option} not in {command}")


def replace_option(command: list[str], option: str, value: str) -> list[str]:
    out = list(command)
    for index, token in enumerate(out):
        if token == option:
            out[index + 1] = value
            return out
        if token.startswith(option + "="):
            out[index] = f"{option}={value}"
            return out
    raise AssertionError(f"{option} not in {command}")


# --- the file itself ------------------------------------------------------------------------------


def test_compose_declares_every_service_with_its_dependencies_and_healthchecks() -> None:
    document = raw_compose()
    assert "version" not in document, "the Compose specification has no version key"
    services = document["services"]
    assert set(services) == INFRA_SERVICES | APP_SERVICES
    assert {name: depends_on(spec) for name, spec in services.items()} == EXPECTED_DEPENDS_ON
    interpolated = interpolate(document, secret_values())["services"]
    for name, needle in EXPECTED_HEALTHCHECKS.items():
        assert needle in healthcheck_text(interpolated[name]), (name, services[name]["healthcheck"])
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert services["migrate"]["restart"] == "no"
    # One image for every app service, built from this directory.
    assert {(services[name]["build"], services[name]["image"]) for name in APP_SERVICES} == {
        (".", "mentorship-booking:latest")
    }


def test_app_services_share_settings_and_the_metrics_volume() -> None:
    services = interpolate(raw_compose(), secret_values())["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["APP_ENV"] == "production"
        assert urlsplit(env["DATABASE_URL"]).hostname == "postgres"
        assert urlsplit(env["DATABASE_URL"]).port == 5432
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["WEBHOOK_ALLOW_PRIVATE_TARGETS"] == "false"
        assert env["SMTP_URL"] == "smtp://mailpit:1025"
    # The API and every worker write their samples into one shared volume, which /metrics reads.
    for name in {"api", *WORKER_SERVICES}:
        multiproc_dir = services[name]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        assert f"metrics:{multiproc_dir}" in services[name]["volumes"], name
    assert "metrics" in raw_compose()["volumes"]
    assert option_value(services["flower"]["command"], "--port") == "5555"


def published_ports(env: dict[str, str]) -> dict[str, list[str]]:
    services = interpolate(raw_compose(), env)["services"]
    return {name: service["ports"] for name, service in services.items() if "ports" in service}


def test_ports_are_published_on_loopback_unless_the_operator_names_an_address() -> None:
    assert published_ports(secret_values()) == {
        "api": ["127.0.0.1:8000:8000"], "flower": ["127.0.0.1:5555:5555"], "mailpit": ["127.0.0.1:8025:8025"]}
    everywhere = published_ports({**secret_values(), "BIND_ADDRESS": "0.0.0.0"})  # noqa: S104 - what is tested
    assert everywhere == {
        "api": ["0.0.0.0:8000:8000"], "flower": ["0.0.0.0:5555:5555"], "mailpit": ["0.0.0.0:8025:8025"]}


def test_worker_groups_consume_every_queue_exactly_once() -> None:
    services = raw_compose()["services"]
    groups = {name: set(option_value(services[name]["command"], "-Q").split(",")) for name in WORKER_SERVICES}
    assert groups == WORKER_QUEUES
    assert sorted(q for group in groups.values() for q in group) == sorted(QUEUES)
    for name in WORKER_SERVICES:
        # A node name per container (%h is its hostname), which the healthcheck pings.
        node = option_value(services[name]["command"], "-n")
        assert node.endswith("@%h")
        assert f"-d {node.removesuffix('%h')}$$HOSTNAME" in healthcheck_text(services[name])


def test_commands_are_the_components_run_from_the_venv() -> None:
    services = raw_compose()["services"]
    for name, component in COMPONENT_COMMANDS.items():
        command = services[name]["command"]
        assert isinstance(command, list), f"{name}: exec form, no shell"
        executable = BIN / command[0]
        assert executable.is_file() and os.access(executable, os.X_OK), executable
        assert tuple(command[: len(component)]) == component, (name, command)
        # Only options follow: each extra word is an option or the value right after one.
        takes_value = False
        for token in command[len(component):]:
            assert token.startswith("-") or takes_value, (name, command)
            takes_value = token.startswith("-") and "=" not in token


def test_dockerfile_installs_the_locked_runtime_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [line.strip() for line in dockerfile.splitlines() if line.strip() and not line.startswith("#")]
    froms = [line.split()[1] for line in instructions if line.startswith("FROM ")]
    assert froms and all(image == "python:3.11-slim" for image in froms)
    uv_version = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert uv_version and f"pip install uv=={uv_version[1]}" in dockerfile
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["package"] is False
    assert "uv sync --locked --no-dev --no-install-project" in dockerfile
    assert dockerfile.index("COPY pyproject.toml uv.lock ./") < dockerfile.index("COPY . .")
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    for setting in ("PATH=/app/.venv/bin:$PATH", "PYTHONUNBUFFERED=1", "API_HOST=0.0.0.0"):
        assert setting in dockerfile
    cmd = next(line for line in reversed(instructions) if line.startswith("CMD "))
    assert json.loads(cmd.removeprefix("CMD ")) == raw_compose()["services"]["api"]["command"]
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".env", ".venv", "var"} <= ignored


# --- the environment ------------------------------------------------------------------------------


def _project_sources() -> Iterator[Path]:
    """The service's own Python files (not the tests, benchmarks, data or virtualenv)."""
    for entry in sorted(ROOT.iterdir()):
        if entry.name.startswith(".") or entry.name in {"var", "tests", "bench"}:
            continue
        if entry.is_dir():
            yield from entry.rglob("*.py")
        elif entry.suffix == ".py":
            yield entry


def known_variables() -> set[str]:
    """Every variable the configuration reads, plus those the other modules read."""
    config = (ROOT / "workflows" / "config.py").read_text()
    names = set(re.findall(r'(?:os\.environ\.get|_int|_str|_float|_bool)\(\s*"([A-Z][A-Z0-9_]*)"', config))
    assert {"DATABASE_URL", "REDIS_URL", "JWT_SECRET_KEY", "APP_ENV", "SMTP_URL"} <= names
    read_elsewhere: set[str] = set()
    for path in _project_sources():
        read_elsewhere |= set(re.findall(r"""environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]*)["']""", path.read_text()))
    assert read_elsewhere >= OTHER_READ_VARIABLES, OTHER_READ_VARIABLES - read_elsewhere
    return names | OTHER_READ_VARIABLES


def flower_reads(name: str) -> bool:
    """Flower takes every option from a ``FLOWER_<OPTION>`` variable."""
    spec = find_spec("flower")
    assert spec and spec.submodule_search_locations
    package = Path(next(iter(spec.submodule_search_locations)))
    option = name.removeprefix("FLOWER_").lower()
    return (
        name.startswith("FLOWER_")
        and "ENV_VAR_PREFIX = 'FLOWER_'" in (package / "command.py").read_text()
        and re.search(rf"""define\(\s*["']{option}["']""", (package / "options.py").read_text()) is not None
    )


def test_app_services_set_only_variables_the_service_reads() -> None:
    known = known_variables()
    services = raw_compose()["services"]
    for name in APP_SERVICES:
        unknown = {var for var in services[name]["environment"] if var not in known and not flower_reads(var)}
        assert not unknown, (name, unknown)
    assert flower_reads("FLOWER_BASIC_AUTH")


def test_no_secret_is_hard_coded() -> None:
    document = raw_compose()
    required = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", COMPOSE_FILE.read_text()))
    assert required == REQUIRED_VARIABLES
    for name, service in document["services"].items():
        for var, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(var):
                match = REQUIRED_INTERPOLATION.match(str(value))
                assert match and match["name"] == var, (name, var, value)
            password = urlsplit(str(value)).password if "://" in str(value) else None
            if password is not None:
                assert REQUIRED_INTERPOLATION.match(password), (name, var)


@pytest.mark.parametrize("missing", sorted(REQUIRED_VARIABLES))
def test_compose_refuses_to_start_without_each_secret(missing: str) -> None:
    env = secret_values()
    del env[missing]
    with pytest.raises(MissingVariableError, match=missing):
        interpolate(raw_compose(), env)


def test_readme_documents_the_stack() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "## Docker Compose" in readme
    section = readme.split("## Docker Compose", 1)[1].split("\n## ", 1)[0]
    assert "docker compose up --scale worker-webhooks=3" in section
    for word in (*REQUIRED_VARIABLES, *WORKER_SERVICES, "8000", "5555", "8025"):
        assert word in section, word


# --- the commands start against this machine's servers ----------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Component:
    service: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    terminated: bool = False

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

    def terminate(self) -> None:
        if not self.terminated and _group_alive(self.process.pid):
            os.killpg(self.process.pid, signal.SIGTERM)
        self.terminated = True

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL whatever is left; nothing of it may survive."""
        pgid = self.process.pid
        self.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)


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
        env["SMTP_URL"] = f"smtp://127.0.0.1:{_free_port()}"
    return env


@pytest.fixture(scope="module")
def stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("compose")
    (workdir / "metrics").mkdir()
    values = secret_values()
    services = interpolate(raw_compose(), values)["services"]
    api_port, flower_port = _free_port(), _free_port()
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
        for component in components.values():  # all at once, then wait for each
            component.terminate()
        for component in components.values():
            component.stop()
        survivors = [c.service for c in components.values() if _group_alive(c.process.pid)]
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
            if check.poll() is None:
                os.killpg(check.pid, signal.SIGKILL)
                check.wait()
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
