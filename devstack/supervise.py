"""``python -m devstack supervise -- CMD ...``: run CMD again whenever it exits, until told to stop.

honcho stops every process of the Procfile as soon as one exits, so under
``make run`` a worker or beat that crashed (a broker outage, a bug) took the
whole stack down. The Procfile runs them through this instead: it restarts the
command after a short pause, doubling up to :data:`MAX_DELAY` while it keeps
exiting quickly, and logs every exit and restart. A stop signal (honcho's
SIGTERM, Ctrl-C) is passed on to the command, whose exit status then ends
this process.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from devstack.children import FORWARDED_SIGNALS, exit_code
from devstack.host import signal_group

#: The longest pause between restarts.
MAX_DELAY = 10.0
#: A command that ran this long before exiting is restarted after the first, shortest pause again.
STABLE_SECONDS = 60.0


def _say(name: str, message: str) -> None:
    print(f"devstack supervise [{name}]: {message}", file=sys.stderr, flush=True)


class Supervisor:
    """Runs one command in a process group of its own, restarting it until a stop signal arrives."""

    def __init__(self, argv: Sequence[str], *, name: str, first_delay: float = 1.0) -> None:
        self.argv = list(argv)
        self.name = name
        self.first_delay = first_delay
        self.stopping = threading.Event()
        self._child: subprocess.Popen[bytes] | None = None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping.set()
        child = self._child
        if child is not None and child.poll() is None:
            signal_group(child.pid, signum)  # the command and its own children (e.g. a worker's pool)

    def run(self) -> int:
        """Return the exit status of the command's last run, once a stop signal ended it."""
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, self._handle)
        delay = self.first_delay
        restarts = 0
        while True:
            began = time.monotonic()
            try:
                self._child = subprocess.Popen(self.argv, process_group=0)  # noqa: S603 - the Procfile's command
            except OSError as exc:
                _say(self.name, f"cannot run {self.argv[0]}: {exc.strerror or exc}")
                return 127
            status = exit_code(self._child.wait())
            ran = time.monotonic() - began
            if self.stopping.is_set():
                return status
            if ran >= STABLE_SECONDS:
                delay = self.first_delay
            restarts += 1
            _say(self.name, f"exited with status {status} after {ran:.1f} s; "
                            f"restarting in {delay:g} s (restart {restarts})")
            if self.stopping.wait(delay):
                return status
            delay = min(delay * 2, MAX_DELAY)


def supervise(argv: Sequence[str], *, name: str | None = None, first_delay: float = 1.0) -> int:
    return Supervisor(argv, name=name or Path(argv[0]).name, first_delay=first_delay).run()
