"""The stack ``make run`` keeps going under a ``$VAR_DIR``, as other commands find it.

``python -m devstack run`` writes ``$VAR_DIR/stack.json`` (its pid and the API's and
Flower's addresses) once it starts the processes, and removes it when it stops.
``devstack exec``, ``devstack url`` / ``status`` and ``make demo`` read it, so that
a second stack started with its own ``VAR_DIR`` and ports is found by the commands
given the same ``VAR_DIR``, and every command says which stack it is talking to.

Each running stack is also listed, by its pid, in a folder of this user's (``$DEVSTACK_STACKS_DIR``, else
``mentorship-stacks-<uid>`` in the temporary folder): a command given a ``VAR_DIR`` where none runs names the
stacks that do run, and where.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from devstack.host import pid_alive

DEFAULT_VAR_DIR = "var"
STACK_FILE = "stack.json"
#: What the API and Flower listen on when ``API_PORT`` / ``FLOWER_PORT`` are unset (infra/config.py, Procfile).
DEFAULT_API_PORT = "8000"
DEFAULT_FLOWER_PORT = "5555"
#: Addresses that mean "every interface": the stack is reached through loopback then.
_ANY_ADDRESS = {"0.0.0.0", "::", ""}  # noqa: S104 - recognised, not bound


def stacks_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Where each running stack of this user is listed."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(environ.get("DEVSTACK_STACKS_DIR") or Path(tempfile.gettempdir()) / f"mentorship-stacks-{uid}")


def var_dir_of(environ: Mapping[str, str]) -> Path:
    """``$VAR_DIR`` (default ``./var``) as an absolute path."""
    return Path(environ.get("VAR_DIR") or DEFAULT_VAR_DIR).absolute()


def addresses(environ: Mapping[str, str]) -> tuple[str, str, int, int]:
    """The API's and Flower's base URLs, and their ports, as ``make run`` starts them with ``environ``."""
    host = environ.get("API_HOST") or "127.0.0.1"
    if host in _ANY_ADDRESS:
        host = "127.0.0.1"
    api_port = int(environ.get("API_PORT") or DEFAULT_API_PORT)
    flower_port = int(environ.get("FLOWER_PORT") or DEFAULT_FLOWER_PORT)
    url_host = f"[{host}]" if ":" in host else host
    return f"http://{url_host}:{api_port}", f"http://127.0.0.1:{flower_port}", api_port, flower_port


@dataclass(frozen=True)
class RunningStack:
    """A ``make run`` that is up: its devstack process, data folder and addresses."""

    pid: int
    var_dir: str
    api_url: str
    flower_url: str
    database_url: str
    redis_url: str

    @classmethod
    def find(cls, var_dir: Path) -> RunningStack | None:
        """The stack running from ``var_dir``, or None (no file, a stale one, or one half-written)."""
        try:
            stack = cls(**json.loads((var_dir / STACK_FILE).read_text()))
        except (OSError, ValueError, TypeError):
            return None
        return stack if pid_alive(stack.pid) else None

    @classmethod
    def everywhere(cls, environ: Mapping[str, str] = os.environ) -> list[RunningStack]:
        """Every stack of this user's that runs now, wherever its ``VAR_DIR`` (the list's stale entries skipped)."""
        found = []
        for entry in sorted(stacks_dir(environ).glob("*.json")):
            try:
                listed = Path(json.loads(entry.read_text())["var_dir"])
            except (OSError, ValueError, TypeError, KeyError):
                continue
            if (stack := cls.find(listed)) is not None and stack not in found:
                found.append(stack)
        return found

    def write(self) -> None:
        path = Path(self.var_dir) / STACK_FILE
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)  # atomic: readers never see a half-written file
        listed = stacks_dir()
        try:
            listed.mkdir(parents=True, exist_ok=True)
            (listed / f"{self.pid}.json").write_text(json.dumps({"var_dir": self.var_dir}) + "\n")
        except OSError:
            pass  # the list only helps a mistyped VAR_DIR find this stack: the stack runs without it

    def remove(self) -> None:
        path = Path(self.var_dir) / STACK_FILE
        if RunningStack.find(Path(self.var_dir)) in (self, None):
            path.unlink(missing_ok=True)
        (stacks_dir() / f"{self.pid}.json").unlink(missing_ok=True)

    def describe(self) -> str:
        """One line naming the stack: which ``make run``, from which folder, at which address."""
        return f"the stack `make run` started from {self.var_dir} (pid {self.pid}): API at {self.api_url}"

    def status(self) -> str:
        """What a user needs to reach every part of the stack."""
        password, token = Path(self.var_dir, "flower_password"), Path(self.var_dir, "metrics_token")
        flower_login = f"user admin, password in {password}" if password.exists() else "your FLOWER_BASIC_AUTH"
        metrics_auth = f"the token in {token}" if token.exists() else "your METRICS_TOKEN"
        return "\n".join((
            f"make run: pid {self.pid}, data in {self.var_dir}",
            f"web app:  {self.api_url}/",
            f"API:      {self.api_url}/api/v1 (Swagger UI at {self.api_url}/api/docs)",
            f"Flower:   {self.flower_url} ({flower_login})",
            f"metrics:  {self.api_url}/metrics (Authorization: Bearer <{metrics_auth}>)",
            f"DATABASE_URL={self.database_url}",
            f"REDIS_URL={self.redis_url}",
        ))


def refusal_for_exec(var_dir: Path, environ: Mapping[str, str]) -> str | None:
    """Why ``devstack exec`` (without ``--fresh``) will not start servers in ``var_dir``: another ``make run`` runs
    from elsewhere (its ``VAR_DIR`` was meant), or no ``make run`` ever ran here (an empty database would answer).
    None when it may: the servers are given, a stack runs here, or a stopped one left its data here."""
    if environ.get("DATABASE_URL") and environ.get("REDIS_URL"):
        return None
    if RunningStack.find(var_dir) is not None or (var_dir / "postgres" / "PG_VERSION").exists():
        return None
    elsewhere = RunningStack.everywhere(environ)
    if elsewhere:
        listed = "\n".join(f"  VAR_DIR={stack.var_dir}  ({stack.describe()})" for stack in elsewhere)
        return (f"no `make run` is running from {var_dir}, and these are:\n{listed}\n"
                "set VAR_DIR to the one you mean; --fresh starts servers of its own here instead")
    return (f"{var_dir} holds no database: no `make run` has run from it, and none runs now. Start `make run` "
            "first (or set VAR_DIR to the folder of the one you started); --fresh starts new servers here for this "
            "command alone")


def not_running_message(var_dir: Path) -> str:
    return (
        f"no `make run` is running from {var_dir}: start one there, or set VAR_DIR to the folder "
        "of the one you started"
    )
