"""Who owns a server: small JSON records under ``$VAR_DIR``.

A devstack process stops only the servers it owns.  It owns a server it
started, and one whose recorded owner has died without stopping it (killed
with SIGKILL, say); such a server is *adopted* rather than left running
forever.  A server whose owner is alive is *reused* and left alone.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from devstack.host import pid_alive


class Status(Enum):
    STARTED = "started"
    ADOPTED = "adopted"
    REUSED = "reused"

    @property
    def owned(self) -> bool:
        """Whether this process must stop the server when it exits."""
        return self is not Status.REUSED


@dataclass(frozen=True)
class Record:
    """``server_pid`` and its ``port`` (0 for a unix socket), started/adopted by ``owner_pid``."""

    server_pid: int
    owner_pid: int
    port: int = 0

    @classmethod
    def read(cls, path: Path) -> Record | None:
        """The record at ``path``; None if missing or unreadable (e.g. half-written by a crash)."""
        try:
            data = json.loads(path.read_text())
            return cls(server_pid=int(data["pid"]), owner_pid=int(data["owner"]), port=int(data.get("port", 0)))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Path) -> None:
        data = {"pid": self.server_pid, "owner": self.owner_pid, "port": self.port}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data) + "\n")
        tmp.replace(path)  # atomic: readers never see a half-written file

    def status_for_running_server(self) -> Status:
        """REUSED while the owner lives, else ADOPTED (this process becomes the owner)."""
        return Status.REUSED if pid_alive(self.owner_pid) else Status.ADOPTED

    @staticmethod
    def claim(path: Path, server_pid: int, port: int = 0) -> Record:
        """Record this process as the owner of ``server_pid``."""
        record = Record(server_pid=server_pid, owner_pid=os.getpid(), port=port)
        record.write(path)
        return record

    def release(self, path: Path) -> None:
        """Remove the record if it is still this one (nobody else took over)."""
        if Record.read(path) == self:
            path.unlink(missing_ok=True)
