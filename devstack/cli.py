"""Command line: ``python -m devstack exec -- CMD ...``, ``python -m devstack run`` and ``... supervise -- CMD``."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from devstack.process import SignalRelay, become_subreaper, stop_leftovers
from devstack.processes import signal_group
from devstack.stack import DevStack, DevStackError, child_environment
from devstack.supervise import supervise

DEFAULT_VAR_DIR = "var"
#: honcho SIGKILLs its processes 5 s after a stop signal; allow for that first.
HONCHO_GRACE = 8.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description=(
            "Run commands with embedded PostgreSQL and Redis servers (data under $VAR_DIR, "
            "default ./var), started only when DATABASE_URL / REDIS_URL are unset."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    exec_parser = commands.add_parser(
        "exec",
        help="run CMD with DATABASE_URL and REDIS_URL exported, then stop the servers",
    )
    exec_parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    run_parser = commands.add_parser("run", help="alembic upgrade head, then honcho start -f Procfile")
    run_parser.add_argument(
        "-f",
        "--procfile",
        type=Path,
        default=Path("Procfile"),
        help="default: ./Procfile",
    )
    run_parser.add_argument("--skip-migrations", action="store_true", help="do not run alembic upgrade head")
    supervise_parser = commands.add_parser(
        "supervise",
        help="run CMD, and run it again after a short pause whenever it exits, until stopped by a signal",
    )
    supervise_parser.add_argument("--name", help="how the log lines name CMD (default: its program)")
    supervise_parser.add_argument("--first-delay", type=float, default=1.0, metavar="SECONDS",
                                  help="the first pause before a restart; it doubles up to 10 s (default: 1)")
    supervise_parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: list[str] = []
    if args.command in {"exec", "supervise"}:
        command = list(args.argv)
        if command[:1] == ["--"]:
            command = command[1:]
        if not command:
            parser.error(f"{args.command} needs a command: python -m devstack {args.command} -- CMD [ARGS...]")
        if args.command == "supervise":
            return supervise(command, name=args.name, first_delay=args.first_delay)
    elif not args.procfile.is_file():
        parser.error(f"no Procfile at {args.procfile}")

    relay = SignalRelay()
    relay.install()
    var_dir = Path(os.environ.get("VAR_DIR") or DEFAULT_VAR_DIR).absolute()
    try:
        with DevStack(var_dir, os.environ) as stack:
            if relay.received is not None:  # signalled while the servers were starting
                return 128 + relay.received
            env = child_environment(stack, os.environ)
            if args.command == "exec":
                return relay.run(command, env)
            return _run_app(
                relay,
                stack,
                env,
                procfile=args.procfile,
                migrate=not args.skip_migrations,
            )
    except DevStackError as exc:
        if relay.received is not None:  # e.g. Ctrl-C also hit initdb or pg_ctl
            print(f"devstack: interrupted while starting servers ({exc})", file=sys.stderr)
            return 128 + relay.received
        print(f"devstack: error: {exc}", file=sys.stderr)
        return 1


def _run_app(
    relay: SignalRelay,
    stack: DevStack,
    env: dict[str, str],
    *,
    procfile: Path,
    migrate: bool,
) -> int:
    """``alembic upgrade head``, then ``honcho start`` until it exits or is signalled."""
    bin_dir = Path(sys.executable).parent
    Path(env["VAR_DIR"]).mkdir(parents=True, exist_ok=True)  # not made by DevStack when both URLs are given
    env = {**env, **local_defaults(Path(env["VAR_DIR"]), env)}
    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        # One directory for every process's metric samples, fresh for each run (see api/metrics.py).
        metrics_dir = Path(env["VAR_DIR"]) / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    if migrate:
        status = relay.run([str(bin_dir / "alembic"), "upgrade", "head"], env)
        if status != 0:
            print(
                f"devstack: alembic upgrade head failed (exit {status})",
                file=sys.stderr,
            )
            return status
    if relay.received is not None:
        return 128 + relay.received

    become_subreaper()
    try:
        honcho = relay.start(
            [str(bin_dir / "honcho"), "start", "-f", str(procfile)],
            env,
            # Its own group so it and its helpers can be killed as a whole;
            # Ctrl-C reaches it through the relay.
            own_process_group=True,
            # honcho has no SIGHUP handler and would die leaving its processes behind.
            translate={signal.SIGHUP: signal.SIGTERM},
        )
    except OSError as exc:
        print(f"devstack: cannot run honcho: {exc.strerror or exc}", file=sys.stderr)
        return 127
    try:
        return _wait_for_honcho(relay, honcho, spare=stack.server_pids())
    finally:
        if honcho.poll() is None:  # only if waiting itself failed
            honcho.kill()
            honcho.wait()
        # Anything still in honcho's group, or orphaned and re-parented to us.
        leftovers = stop_leftovers(honcho.pid, spare=stack.server_pids())
        if leftovers:
            print(f"devstack: stopped leftover processes {leftovers}", file=sys.stderr)


def local_defaults(var_dir: Path, env: dict[str, str]) -> dict[str, str]:
    """What a laptop run needs and an operator would otherwise set: Flower's login, a metrics token, loopback targets.

    Flower's password and the ``/metrics`` bearer token are generated once into
    ``$VAR_DIR/flower_password`` and ``$VAR_DIR/metrics_token``, and where they are is printed.
    """
    extra: dict[str, str] = {}
    if not env.get("FLOWER_BASIC_AUTH"):
        path = generated_once(var_dir / "flower_password")
        extra["FLOWER_BASIC_AUTH"] = f"admin:{path.read_text().strip()}"
        print(f"devstack: Flower at http://127.0.0.1:{env.get('FLOWER_PORT', '5555')} "
              f"(user admin, password in {path})", file=sys.stderr)
    if not env.get("METRICS_TOKEN"):
        path = generated_once(var_dir / "metrics_token")
        extra["METRICS_TOKEN"] = path.read_text().strip()
        print(f"devstack: /metrics takes Authorization: Bearer <the token in {path}>", file=sys.stderr)
    # Development receivers (the demo's, yours) listen on this machine: loopback targets only, never
    # link-local (cloud metadata at 169.254.169.254) or other private ranges.
    extra.setdefault("WEBHOOK_ALLOW_LOOPBACK_TARGETS", env.get("WEBHOOK_ALLOW_LOOPBACK_TARGETS") or "true")
    return extra


def generated_once(path: Path) -> Path:
    """A random secret written to ``path`` (owner-only) unless it is there already."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(24))
    return path


def _wait_for_honcho(relay: SignalRelay, honcho: subprocess.Popen[bytes], *, spare: set[int]) -> int:
    """Wait for honcho; unstick it if it outlives its own shutdown.

    honcho only considers a process stopped once its output pipe is closed.
    A process that escaped its process group (double fork, setsid, or the
    orphaned children of a crashed parent) keeps the pipe open and honcho
    then waits for it forever, even after SIGKILLing the group.  Such
    processes are re-parented to devstack (the subreaper), so once honcho
    has had HONCHO_GRACE seconds to stop after a signal, devstack stops them;
    if that does not help either, honcho's own group is killed.
    """
    escalation = 0
    while True:
        try:
            return relay.wait(honcho, timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        if relay.received_at is None:
            continue
        waited = time.monotonic() - relay.received_at
        if escalation == 0 and waited > HONCHO_GRACE:
            escalation = 1
            print("devstack: honcho is stuck; stopping orphaned processes", file=sys.stderr)
            stop_leftovers(None, spare=spare | {honcho.pid}, grace=3.0)
        elif escalation == 1 and waited > HONCHO_GRACE + 10:
            escalation = 2
            print("devstack: killing honcho", file=sys.stderr)
            signal_group(honcho.pid, signal.SIGKILL)
