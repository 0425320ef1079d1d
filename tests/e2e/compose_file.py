"""``docker-compose.yml`` read as the Compose specification reads it (YAML anchors and merge keys,
``${VAR}`` interpolation), and what the tests expect of it: shared by ``test_compose.py`` (the file)
and ``test_compose_commands.py`` (its commands, started).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
COMPOSE_FILE = ROOT / "docker-compose.yml"

INFRA_SERVICES = {"postgres", "redis", "mailpit"}
WORKER_SERVICES = {"worker-core", "worker-side-effects", "worker-webhooks", "worker-calendars", "worker-matching"}
APP_SERVICES = {"migrate", "api", "beat", "flower", *WORKER_SERVICES}
# The queue group each worker service consumes.
WORKER_QUEUES = {
    "worker-core": {"sessions", "events", "maintenance"},
    "worker-side-effects": {"reviews", "notifications", "analytics"},
    "worker-webhooks": {"webhooks"},
    "worker-calendars": {"calendars"},
    "worker-matching": {"matching"},
}
# Each component's own command (docs/components.md): a service may add options only.
COMPONENT_COMMANDS = {
    "migrate": ("alembic", "upgrade", "head"),
    "api": ("gunicorn", "api:create_app()"),
    "worker-core": ("celery", "-A", "workers", "worker"),
    "worker-side-effects": ("celery", "-A", "workers", "worker"),
    "worker-webhooks": ("celery", "-A", "workers", "worker"),
    "worker-calendars": ("celery", "-A", "workers", "worker"),
    "worker-matching": ("celery", "-A", "workers", "worker"),
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
    "worker-calendars": {"migrate": COMPLETED, "redis": HEALTHY},
    "worker-matching": {"migrate": COMPLETED, "redis": HEALTHY},
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
    "worker-calendars": "celery -A workers inspect ping -d calendars@$HOSTNAME",
    "worker-matching": "celery -A workers inspect ping -d matching@$HOSTNAME",
    "flower": "/healthcheck",
}
# Variables `docker compose` refuses to start without (the secrets).
REQUIRED_VARIABLES = {"POSTGRES_PASSWORD", "JWT_SECRET_KEY", "METRICS_TOKEN", "FLOWER_BASIC_AUTH", "CREDENTIALS_KEYS"}
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|BASIC_AUTH|KEYS")
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
        "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
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
