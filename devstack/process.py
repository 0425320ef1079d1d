"""Child-process supervision: signal forwarding, exit codes and leftover cleanup."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import FrameType

#: Signals that ask devstack (and therefore its child) to stop.
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

#: Signals that a terminal sends to its whole foreground process group.
_TERMINAL_SIGNALS = frozenset({signal.SIGINT, signal.SIGHUP})

_PR_SET_CHILD_SUBREAPER = 36


def pid_alive(pid: int) -> bool:
    """Return whether ``pid`` names a live (non-zombie) process."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, but belongs to another user (e.g. the postgres system user)
    stat = _proc_stat(pid)
    return stat is None or stat[0] != "Z"


def process_name(pid: int) -> str | None:
    """Return the kernel's short name for ``pid`` (Linux ``/proc``), or None if unknown."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def exit_code(returncode: int) -> int:
    """Map a :class:`subprocess.Popen` return code to a shell-style exit status.

    A child killed by signal N reports ``-N``; shells report ``128 + N``, which
    is what ``make`` and CI expect to see.
    """
    return 128 - returncode if returncode < 0 else returncode


class SignalRelay:
    """Handles SIGINT/SIGTERM/SIGHUP for the whole life of the devstack process.

    The handlers never raise: while servers are being started or stopped a
    signal is only recorded (so cleanup cannot be cut short half-way), and
    while a child runs it is forwarded to that child, whose exit then ends
    devstack in an orderly way.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._child_shares_group = True
        self._translate: Mapping[int, int] = {}
        self._unforwarded: list[int] = []

    def install(self) -> None:
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, self._handle)

    @property
    def interrupted(self) -> bool:
        return self.received is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        if self._child is None:
            self._unforwarded.append(signum)
        else:
            self._forward(self._child, signum)

    def _forward(self, child: subprocess.Popen[bytes], signum: int) -> None:
        if _sent_by_terminal_to_child(
            signum, child_shares_group=self._child_shares_group
        ):
            return
        try:
            # send_signal() polls first, so an already reaped pid is never signalled.
            child.send_signal(self._translate.get(signum, signum))
        except ProcessLookupError:
            pass

    def start(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        own_process_group: bool = False,
        translate: Mapping[int, int] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` and relay stop signals to it until :meth:`wait` returns.

        With ``own_process_group`` the child leads a new process group, so that
        the group can be killed as a whole afterwards; Ctrl-C then reaches it
        only through devstack.  ``translate`` maps a received signal to the one
        sent (honcho dies on SIGHUP without stopping its processes, for example).

        Raises OSError when the program cannot be executed.
        """
        self._child_shares_group = not own_process_group
        self._translate = translate or {}
        self._unforwarded.clear()
        child = subprocess.Popen(
            list(argv),
            env=dict(env),
            process_group=0 if own_process_group else None,
        )
        self._child = child
        # A signal that arrived while Popen() was running found no child to forward to.
        while self._unforwarded:
            self._forward(child, self._unforwarded.pop(0))
        return child

    def wait(self, child: subprocess.Popen[bytes]) -> int:
        """Wait for ``child`` (signals keep being forwarded) and return its exit status."""
        try:
            return exit_code(child.wait())
        finally:
            self._child = None

    def run(self, argv: Sequence[str], env: Mapping[str, str]) -> int:
        """Run ``argv`` in the foreground; return its exit status (127 if it cannot run)."""
        if self.received is not None:
            return 128 + self.received
        try:
            child = self.start(argv, env)
        except OSError as exc:
            print(
                f"devstack: cannot run {argv[0]}: {exc.strerror or exc}",
                file=sys.stderr,
            )
            return 127
        return self.wait(child)


def _sent_by_terminal_to_child(signum: int, *, child_shares_group: bool) -> bool:
    """Guess whether the terminal already delivered ``signum`` to the child.

    Ctrl-C (and a hangup) is sent by the kernel to the terminal's whole
    foreground process group.  If devstack is in that group and the child
    shares devstack's group, the child got the signal too; forwarding it again
    would interrupt e.g. pytest a second time while it prints its summary.
    """
    if signum not in _TERMINAL_SIGNALS or not child_shares_group:
        return False
    group = os.getpgrp()
    for fd in (0, 1, 2):
        try:
            return os.tcgetpgrp(fd) == group
        except OSError:
            continue
    return False


def become_subreaper() -> bool:
    """Make orphaned descendants re-parent to this process instead of init (Linux only).

    honcho starts every Procfile process in a session of its own, so killing
    honcho's process group does not reach them.  As a subreaper, devstack
    inherits whatever outlives honcho and can find and stop it.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def stop_leftovers(
    pgid: int, *, spare: Collection[int], grace: float = 5.0
) -> list[int]:
    """Stop everything left in process group ``pgid`` and (if subreaper) all our children.

    ``spare`` are pids of our own children that must survive (the servers).
    Processes get SIGTERM, then SIGKILL after ``grace`` seconds.  Returns the
    pids that were still running.
    """
    _killpg(pgid, signal.SIGTERM)
    seen: set[int] = set()
    signalled: set[int] = set()
    deadline = time.monotonic() + grace
    force = False
    while True:
        orphans = [pid for pid in _live_children(os.getpid()) if pid not in spare]
        seen.update(orphans)
        group_alive = _group_alive(pgid)
        if not orphans and not group_alive:
            return sorted(seen)
        if not force and time.monotonic() >= deadline:
            force = True
            deadline = time.monotonic() + grace
            _killpg(pgid, signal.SIGKILL)
            for pid in orphans:
                _kill(pid, signal.SIGKILL)
        elif force and time.monotonic() >= deadline:
            print(
                f"devstack: could not stop processes {orphans or [pgid]}",
                file=sys.stderr,
            )
            return sorted(seen)
        for pid in orphans:
            if pid not in signalled:
                signalled.add(pid)
                _kill(pid, signal.SIGTERM)
        time.sleep(0.05)


def _killpg(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not sys.platform.startswith("linux"):
        return True
    # killpg() also succeeds while only zombies are left; those are not worth waiting for.
    return any(
        pgrp == pgid and state != "Z"
        for _pid, (state, _ppid, pgrp) in _all_proc_stats()
    )


def _live_children(parent: int) -> list[int]:
    """Children of ``parent`` that are still running; zombies among them are reaped."""
    alive = []
    for pid, (state, ppid, _pgrp) in _all_proc_stats():
        if ppid != parent:
            continue
        if state == "Z":
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            continue
        alive.append(pid)
    return alive


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """Return (state, ppid, pgrp) from ``/proc/PID/stat``, or None if unavailable."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    if len(fields) < 3:
        return None
    return fields[0], int(fields[1]), int(fields[2])


def _all_proc_stats() -> list[tuple[int, tuple[str, int, int]]]:
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    stats = []
    for entry in entries:
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat is not None:
                stats.append((int(entry), stat))
    return stats
