"""Processes and ports on this machine: what devstack, bench/ and tests/ all need to run servers.

A free port, whether a port answers, a process's fields in ``/proc/<pid>/stat`` (Linux), and
stopping a process group (SIGTERM, then SIGKILL). devstack is not in the production image, so
neither is this; bench/ and tests/ import it from here rather than keep copies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"

# Indexes into stat_fields(): the fields after the command name (see proc(5), which counts from 1
# with the pid and the name as fields 1 and 2).
STATE, PPID, PGRP, UTIME, STIME, CUTIME, CSTIME = 0, 1, 2, 11, 12, 13, 14


def free_port(host: str = HOST) -> int:
    """A TCP port nothing listens on now (another program may still take it before the caller does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def port_open(port: int, host: str = HOST, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on ``port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name; None if there is no such process or no /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    return fields if len(fields) > PGRP else None


def all_stat_fields() -> list[tuple[int, list[str]]]:
    """(pid, :func:`stat_fields`) for every process; empty where there is no ``/proc``."""
    try:
        names = [entry.name for entry in Path("/proc").iterdir()]
    except OSError:
        return []
    found = []
    for name in names:
        if name.isdigit():
            fields = stat_fields(int(name))
            if fields is not None:
                found.append((int(name), fields))
    return found


def children_of(pid: int) -> list[int]:
    """The direct children of ``pid`` (Linux ``/proc``)."""
    return [child for child, fields in all_stat_fields() if int(fields[PPID]) == pid]


def process_name(pid: int) -> str | None:
    """The kernel's short name for ``pid`` (Linux ``/proc``), or None if unknown."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` names a live process: not gone, and not a zombie waiting to be reaped."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, but belongs to another user (e.g. the postgres system user)
    fields = stat_fields(pid)
    return fields is None or fields[STATE] != "Z"


def signal_group(pgid: int, signum: int) -> None:
    """Send ``signum`` to process group ``pgid``; nothing if the group is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def group_alive(pgid: int) -> bool:
    """Whether process group ``pgid`` still has a member that is not a zombie."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not sys.platform.startswith("linux"):
        return True
    # killpg() also succeeds while only zombies are left; those are not worth waiting for.
    return any(int(fields[PGRP]) == pgid and fields[STATE] != "Z" for _pid, fields in all_stat_fields())


def stop_groups(*processes: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """Stop the process groups these processes lead (started with ``start_new_session=True``).

    SIGTERM to every group at once, so they shut down side by side; then each leader
    gets ``grace`` seconds (in all) before its group is killed. Leaders are reaped.
    """
    running = [process for process in processes if process.poll() is None]
    for process in running:
        signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            kill_group(process)


def kill_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGKILL the process group ``process`` leads, and reap ``process``."""
    if process.poll() is None:  # once reaped, its pid (the group's id) may be another process's
        signal_group(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
