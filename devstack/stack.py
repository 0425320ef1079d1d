"""Starting, reusing and stopping the servers a command needs."""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

from devstack.postgres_server import PostgresError, PostgresHandle, ensure_postgres
from devstack.redis_server import RedisError, RedisHandle, ensure_redis
from devstack.state import Status

LOCK_FILE = ".devstack.lock"


class DevStackError(RuntimeError):
    """A server could not be started; the message is meant for the user."""


def _say(message: str) -> None:
    print(f"devstack: {message}", file=sys.stderr, flush=True)


@contextmanager
def _locked(var_dir: Path) -> Iterator[None]:
    """Serialise server start/stop between devstack processes sharing ``var_dir``.

    Without it, ``make run`` and ``make test`` started together could both
    decide that no Redis is running and start two, or one could reuse a
    server the other is just stopping.
    """
    with (var_dir / LOCK_FILE).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _say(f"waiting for another devstack using {var_dir}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class DevStack:
    """Context manager: ensures the servers on entry, stops those it started on exit.

    A server is only needed when its URL variable is unset (or empty) in
    ``environ``; a configured ``DATABASE_URL`` / ``REDIS_URL`` is left alone.
    """

    def __init__(self, var_dir: Path, environ: Mapping[str, str]) -> None:
        self.var_dir = var_dir
        self.need_postgres = not environ.get("DATABASE_URL")
        self.need_redis = not environ.get("REDIS_URL")
        self.postgres: PostgresHandle | None = None
        self.redis: RedisHandle | None = None

    def __enter__(self) -> Self:
        if not (self.need_postgres or self.need_redis):
            return self
        self.var_dir.mkdir(parents=True, exist_ok=True)
        with _locked(self.var_dir):
            try:
                self._start()
            except BaseException:
                self._stop_owned()
                raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.postgres is None and self.redis is None:
            return
        with _locked(self.var_dir):
            self._stop_owned()

    def _start(self) -> None:
        if self.need_postgres:
            try:
                self.postgres = ensure_postgres(self.var_dir)
            except PostgresError as exc:
                raise DevStackError(f"postgres: {exc}") from exc
            pg = self.postgres
            _say(f"postgres {_describe(pg.status, pg.previous_owner)}, pid {pg.postmaster.pid}: {pg.url}")
        if self.need_redis:
            try:
                self.redis = ensure_redis(self.var_dir)
            except (RedisError, OSError) as exc:
                raise DevStackError(f"redis: {exc}") from exc
            redis = self.redis
            _say(f"redis {_describe(redis.status, redis.previous_owner)}, pid {redis.pid}: {redis.url}")

    def _stop_owned(self) -> None:
        """Stop the servers this process owns (started or adopted), each regardless of the other."""
        redis, self.redis = self.redis, None
        postgres, self.postgres = self.postgres, None
        try:
            if redis is not None and redis.status.owned:
                redis.stop()
                _say(f"redis stopped (pid {redis.pid})")
        finally:
            if postgres is not None and postgres.status.owned:
                postgres.stop()
                _say(f"postgres stopped (pid {postgres.postmaster.pid})")

    def exports(self) -> dict[str, str]:
        """The URL variables to add to the child's environment."""
        env: dict[str, str] = {}
        if self.postgres is not None:
            env["DATABASE_URL"] = self.postgres.url
        if self.redis is not None:
            env["REDIS_URL"] = self.redis.url
        return env

    def server_pids(self) -> set[int]:
        """Pids of the servers in use (children of this process must not be reaped)."""
        pids = set()
        if self.postgres is not None:
            pids.add(self.postgres.postmaster.pid)
        if self.redis is not None:
            pids.add(self.redis.pid)
        return pids


def _describe(status: Status, previous_owner: int | None) -> str:
    if status is Status.ADOPTED:
        return f"adopted (its devstack, pid {previous_owner}, is gone; stopping it at exit)"
    if status is Status.REUSED:
        owner = f"devstack pid {previous_owner}" if previous_owner else "someone else"
        return f"reused (started by {owner}; left running)"
    return "started"


def child_environment(stack: DevStack, environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` plus the server URLs, an absolute ``VAR_DIR`` and the venv's bin dir on PATH."""
    env = dict(environ)
    env.update(stack.exports())
    env["VAR_DIR"] = str(stack.var_dir)
    bin_dir = str(Path(sys.executable).parent)
    path = env.get("PATH", os.defpath)
    if path.split(os.pathsep)[0] != bin_dir:
        env["PATH"] = bin_dir + os.pathsep + path if path else bin_dir
    return env
