"""Command line: ``python -m devstack exec -- CMD ...``, ``run``, ``url``, ``status``, ``supervise -- CMD`` and
``radicale``."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from devstack.children import SignalRelay, become_subreaper, stop_leftovers
from devstack.host import port_open, signal_group
from devstack.running import RunningStack, addresses, not_running_message, refusal_for_exec, var_dir_of
from devstack.stack import DevStack, DevStackError, child_environment
from devstack.supervise import supervise

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
    exec_parser.add_argument(
        "--fresh", action="store_true",
        help="start servers in $VAR_DIR even when no `make run` has run from it (make test, make bench); without "
             "it, a VAR_DIR where none runs and none ran is refused, naming the stacks that run",
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
    url_parser = commands.add_parser(
        "url", help="print the base URL of the API (or Flower) of the `make run` using $VAR_DIR; exit 1 if none",
    )
    url_parser.add_argument("--flower", action="store_true", help="Flower's URL instead of the API's")
    commands.add_parser("status", help="where every part of the `make run` using $VAR_DIR is, and its logins")
    radicale_parser = commands.add_parser(
        "radicale", help="a local CalDAV server (Radicale) to connect as a mentor's calendar, until Ctrl-C")
    radicale_parser.add_argument("--port", type=int, default=5232, help="default: 5232")
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
    if args.command in {"url", "status"}:
        return _show_running(var_dir_of(os.environ), flower=args.command == "url" and args.flower,
                             status=args.command == "status")
    if args.command == "radicale":
        from devstack.radicale import run  # noqa: PLC0415 - Radicale is a development dependency

        return run(var_dir_of(os.environ), args.port)
    if args.command == "supervise":
        return supervise(_command(parser, args), name=args.name, first_delay=args.first_delay)
    if args.command == "run":
        if not args.procfile.is_file():
            parser.error(f"no Procfile at {args.procfile}")
        if taken := _running_here(os.environ) or _taken_ports(os.environ):
            print(f"devstack: {taken}", file=sys.stderr)
            return 1
    if args.command == "exec" and not args.fresh and (
            refused := refusal_for_exec(var_dir_of(os.environ), os.environ)):
        print(f"devstack: {refused}", file=sys.stderr)
        return 2
    return _with_servers(args, _command(parser, args) if args.command == "exec" else [])


def _command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    command = list(args.argv)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        parser.error(f"{args.command} needs a command: python -m devstack {args.command} -- CMD [ARGS...]")
    return command


def _with_servers(args: argparse.Namespace, command: list[str]) -> int:
    """``exec`` or ``run`` with the servers started, reused or configured."""
    relay = SignalRelay()
    relay.install()
    var_dir = var_dir_of(os.environ)
    try:
        with DevStack(var_dir, os.environ) as stack:
            if relay.received is not None:  # signalled while the servers were starting
                return 128 + relay.received
            env = child_environment(stack, os.environ)
            if args.command == "exec":
                if (running := RunningStack.find(var_dir)) is not None:
                    print(f"devstack: found {running.describe()}", file=sys.stderr, flush=True)
                    env.setdefault("API_URL", running.api_url)
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


def _show_running(var_dir: Path, *, flower: bool, status: bool) -> int:
    """``devstack url`` / ``status``: the running stack of ``var_dir``, or why there is none (exit 1)."""
    running = RunningStack.find(var_dir)
    if running is None:
        print(f"devstack: {not_running_message(var_dir)}", file=sys.stderr)
        return 1
    print(running.status() if status else running.flower_url if flower else running.api_url)
    return 0


def _running_here(environ: Mapping[str, str]) -> str | None:
    """Why ``make run`` cannot start here: a stack already runs from this ``VAR_DIR`` (its servers, beat, metrics
    folder and state are this folder's; a second would share them and remove them when it stops)."""
    running = RunningStack.find(var_dir_of(environ))
    if running is None:
        return None
    return f"{running.describe()}; stop it first, or set VAR_DIR to a folder of its own for a second stack"


def _taken_ports(environ: Mapping[str, str]) -> str | None:
    """Why ``make run`` cannot start here: its API or Flower port already answers (another stack?)."""
    api_url, flower_url, api_port, flower_port = addresses(environ)
    for name, url, port, variable in (("API", api_url, api_port, "API_PORT"),
                                      ("Flower", flower_url, flower_port, "FLOWER_PORT")):
        if port_open(port):
            return (f"{url} is already in use, so the {name} cannot listen there (another `make run`?): "
                    f"set {variable} to a free port (and VAR_DIR to a folder of its own for a second stack)")
    return None


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
    api_url, flower_url, _, _ = addresses(env)
    running = RunningStack(pid=os.getpid(), var_dir=env["VAR_DIR"], api_url=api_url, flower_url=flower_url,
                           database_url=env.get("DATABASE_URL", ""), redis_url=env.get("REDIS_URL", ""))
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
    running.write()
    print(f"devstack: {running.describe()} (`python -m devstack status` shows it all)", file=sys.stderr, flush=True)
    try:
        return _wait_for_honcho(relay, honcho, spare=stack.server_pids())
    finally:
        running.remove()
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
    if shutil.which("xmlsec1") is None:  # pysaml2's signature checks: SAML providers cannot be added without it
        print("devstack: SAML sign-in is off: xmlsec1 is not installed (Debian: apt-get install xmlsec1); "
              "OpenID Connect sign-on and passwords work as usual", file=sys.stderr)
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
