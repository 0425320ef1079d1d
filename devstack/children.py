"""Child-process supervision: signal forwarding, exit codes and leftover cleanup."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Mapping, Sequence
from types import FrameType

from devstack.host import PPID, STATE, all_stat_fields, group_alive, pid_alive, signal_group

#: Signals that ask devstack (and therefore its child) to stop.
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

#: Signals that a terminal sends to its whole foreground process group.
_TERMINAL_SIGNALS = frozenset({signal.SIGINT, signal.SIGHUP})

_PR_SET_CHILD_SUBREAPER = 36


def signal_and_wait(pid: int, steps: Sequence[tuple[int, float]]) -> bool:
    """Send each (signal, timeout) in turn until ``pid`` is gone; return whether it is.

    For processes that are not our children (``Popen.wait`` is unavailable).
    """
    for signum, timeout in steps:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return True
            time.sleep(0.05)
    return not pid_alive(pid)


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
        self.received_at: float | None = None  # time.monotonic() of the first signal
        self._child: subprocess.Popen[bytes] | None = None
        self._child_shares_group = True
        self._translate: Mapping[int, int] = {}
        self._unforwarded: list[int] = []

    def install(self) -> None:
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
            self.received_at = time.monotonic()
        if self._child is None:
            self._unforwarded.append(signum)
        else:
            self._forward(self._child, signum)

    def _forward(self, child: subprocess.Popen[bytes], signum: int) -> None:
        if _sent_by_terminal_to_child(signum, child_shares_group=self._child_shares_group):
            return
        # send_signal() polls first, so an already reaped pid is never signalled.
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(self._translate.get(signum, signum))

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
        child = subprocess.Popen(  # noqa: S603  # the user's own command, run on purpose
            list(argv),
            env=dict(env),
            process_group=0 if own_process_group else None,
        )
        self._child = child
        # A signal that arrived while Popen() was running found no child to forward to.
        while self._unforwarded:
            self._forward(child, self._unforwarded.pop(0))
        return child

    def wait(self, child: subprocess.Popen[bytes], timeout: float | None = None) -> int:
        """Wait for ``child`` (signals keep being forwarded); return its exit status.

        Raises :class:`subprocess.TimeoutExpired` if ``timeout`` passes first;
        the child is then still relayed to.
        """
        status = exit_code(child.wait(timeout))
        self._child = None
        return status

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


def stop_leftovers(pgid: int | None, *, spare: Collection[int], grace: float = 5.0) -> list[int]:
    """Stop what is left in process group ``pgid`` and every orphan re-parented to us.

    Orphans are only found after :func:`become_subreaper` (Linux); ``spare``
    are pids of our own children that must survive (the servers, or a still
    running honcho).  Processes get SIGTERM, then SIGKILL after ``grace``
    seconds.  Returns the orphan pids that were found running.
    """
    if pgid is not None:
        signal_group(pgid, signal.SIGTERM)
    seen: set[int] = set()
    deadline = time.monotonic() + grace
    force = False
    while True:
        orphans = _live_children(os.getpid(), spare=spare)
        for pid in orphans:
            if pid not in seen:
                seen.add(pid)
                _kill(pid, signal.SIGTERM)
        group_running = pgid is not None and group_alive(pgid)
        if not orphans and not group_running:
            return sorted(seen)
        if time.monotonic() >= deadline:
            if force:
                print(f"devstack: could not stop processes {orphans}, group {pgid}", file=sys.stderr)
                return sorted(seen)
            force = True
            deadline = time.monotonic() + grace
            if pgid is not None:
                signal_group(pgid, signal.SIGKILL)
            for pid in orphans:
                _kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def _kill(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def _live_children(parent: int, *, spare: Collection[int]) -> list[int]:
    """Children of ``parent`` not in ``spare`` that are still running; zombies among them are reaped.

    ``spare`` children are not even reaped: their ``Popen`` objects must see their exit status.
    """
    alive = []
    for pid, fields in all_stat_fields():
        if int(fields[PPID]) != parent or pid in spare:
            continue
        if fields[STATE] == "Z":
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            continue
        alive.append(pid)
    return alive
