"""The tour and the recipes (docs/tour.md, whose first steps are the README's, docs/recipes.md, docs/integrating.md),
run as a newcomer pastes them.

In a fresh copy of the repository (a git repository of its own), against a ``make run`` started
there with a ``VAR_DIR`` and ports of its own, beside whatever stack already runs on the machine.
The shell blocks are read out of those pages and run unchanged in ``bash``; what they print and
write is checked, and the copy must stay clean (``git status``) and lint-clean (``make lint``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from gunicorn.ctl.client import ControlClient

from devstack.host import free_port, port_open, stop_groups

ROOT = Path(__file__).resolve().parents[2]
#: The servers a newcomer's machine may lack, and what a stack of this machine would export.
NOT_INHERITED = {"DATABASE_URL", "REDIS_URL", "VAR_DIR", "API_PORT", "API_URL", "FLOWER_PORT", "METRICS_TOKEN",
                 "FLOWER_BASIC_AUTH", "RECEIVER_PORT", "PROMETHEUS_MULTIPROC_DIR", "REDIS_KEY_PREFIX", "APP_ENV",
                 "WEBHOOK_ALLOW_PRIVATE_TARGETS", "PASSWORD_HASH_PROFILE"}

pytestmark = pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")),
                                reason="the docs' blocks need curl and jq")


def sh_blocks(text: str) -> list[str]:
    """The ``sh`` blocks of a Markdown text, in order."""
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def readme_blocks(section: str) -> list[str]:
    """The ``sh`` blocks of the README's ``## <section>``, in order."""
    text = (ROOT / "README.md").read_text()
    (body,) = [part for part in re.split(r"^## ", text, flags=re.MULTILINE) if part.startswith(section)]
    return sh_blocks(body)


def page_blocks(page: str) -> list[str]:
    """The ``sh`` blocks of ``docs/<page>``, in order."""
    return sh_blocks((ROOT / "docs" / page).read_text())


def page_block(page: str, containing: str) -> str:
    (block,) = [block for block in page_blocks(page) if containing in block]
    return block


@dataclass(frozen=True)
class Stack:
    clone: Path
    var_dir: Path
    api_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def bash(self, script: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
        """``script`` pasted into a shell at the copy's root that has this stack's ``VAR_DIR`` exported."""
        return subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=self.clone, env={**self.env, **extra},
                              capture_output=True, text=True, timeout=timeout, check=False)


def _newcomer_environment(var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    return {**env, "VAR_DIR": str(var_dir)}


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's files as a clone has them (no ``var/``, nothing ignored), with this run's ``.venv``."""
    clone = tmp_path_factory.mktemp("clone")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    (clone / ".venv").symlink_to(ROOT / ".venv")
    git = ["git", "-c", "user.name=Newcomer", "-c", "user.email=newcomer@example.com"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "clone"]):
        subprocess.run([*git, *command], cwd=clone, check=True, capture_output=True)
    return clone


def _start(clone: Path, var_dir: Path, *args: str, **extra: str
           ) -> tuple[subprocess.Popen[bytes], dict[str, str], Path]:
    env = {**_newcomer_environment(var_dir), "API_PORT": str(free_port()), "FLOWER_PORT": str(free_port()), **extra}
    log = var_dir.parent / f"{var_dir.name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(clone / ".venv/bin/python"), "-m", "devstack", "run", *args], cwd=clone,
                                   env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return process, env, log


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")[-5000:]
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} not ready in {timeout} s\n{log.read_text(errors='replace')[-5000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """As Ctrl-C would: devstack stops honcho's processes, then its servers."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stop_groups(process, grace=5)


@pytest.fixture(scope="module")
def stack(clone: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """``make run`` in the copy: embedded servers under a ``VAR_DIR`` of its own, free ports for the API and Flower,
    and the recipes' mail catcher (on a free port) as its ``SMTP_URL``.

    The shells that paste the blocks get ``VAR_DIR`` only, not the ports: the blocks must find the stack.
    """
    var_dir = tmp_path_factory.mktemp("rs") / "var"
    var_dir.mkdir()
    smtp_port = str(free_port())
    (catcher_line,) = [line.split("#")[0] for line in page_block("recipes.md", "aiosmtpd").splitlines()
                       if "aiosmtpd" in line]
    catcher = subprocess.Popen(["bash", "-c", catcher_line.replace("1025", smtp_port)], cwd=clone,
                               env=_newcomer_environment(var_dir), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    process, env, log = _start(clone, var_dir, SMTP_URL=f"smtp://127.0.0.1:{smtp_port}")
    api_url = f"http://127.0.0.1:{env['API_PORT']}"
    try:
        _wait_ready(api_url, process, log)
        yield Stack(clone, var_dir, api_url, _newcomer_environment(var_dir), process, log)
    finally:
        _stop(process)
        stop_groups(catcher, grace=2)
    assert not (var_dir / "stack.json").exists()  # a stopped stack is not found any more


def test_the_tour_takes_a_session_from_request_to_review(stack: Stack) -> None:
    tour = page_blocks("tour.md")
    assert len(tour) >= 4
    done = stack.bash("\n".join(tour))
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"status": "completed"' in done.stdout and '"rating_count": 1' in done.stdout, done.stdout
    # Step 3's public booking link opens without an account.
    assert "<title>Code review with Ada Mentor \u00b7 Mentorship</title>" in done.stdout, done.stdout
    history = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('["')]
    assert history[-1] == ["session.completed", "mentor"], done.stdout
    # Step 8: the links read out of the mail catcher's log confirm the address and set a new password.
    assert '"email_verified": false' in done.stdout and '"email_verified": true' in done.stdout, done.stdout
    assert "\n204\n" in done.stdout and '"token_type": "Bearer"' in done.stdout, done.stdout
    # Step 9: three invited from the file, two joined with a click, the mentor's hours confirmed, paired, and the
    # mentor's accept started it.
    assert '"invited":["mentor@example.com","mentee@example.com","lin@example.com"],"errors":[]' in done.stdout, \
        done.stdout
    # The mentor confirmed the hours suggested (weekdays 09:00-17:00 in her zone) before anyone paired her.
    assert '{"timezone":"Europe/Paris","hours":5,"finished":true}' in done.stdout, done.stdout
    assert '{"status":"accepted","accepted_count":6}' in done.stdout and "pairing: active" in done.stdout, done.stdout
    # Step 10: the match run on the matching worker, its draft with reasons, published as a pairing.
    assert '{"finished":true}' in done.stdout, done.stdout  # her hours, confirmed in this programme too
    assert '{"summary":"Everyone taking part has finished their intake."}' in done.stdout, done.stdout
    assert "match run: done" in done.stdout and "published pairing: proposed" in done.stdout, done.stdout
    assert '"reasons":["' in done.stdout and " h a week in common" in done.stdout, done.stdout


def test_the_readmes_five_steps_are_where_the_tour_begins() -> None:
    """So the tour's run above runs the README's commands too, word for word."""
    five_steps = readme_blocks("A five-minute tour")
    assert len(five_steps) == 3
    assert page_blocks("tour.md")[:3] == five_steps


def test_the_recipes_that_write_files_leave_the_clone_clean(stack: Stack) -> None:
    writers = [page_block("recipes.md", "> scratch/receiver.py"),
               page_block("integrating.md", "openapi-python-client generate")]
    for block in writers:
        done = stack.bash(block)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert (stack.clone / "scratch/receiver.py").is_file()
    assert (stack.clone / "scratch/mentorship_client/client.py").is_file()

    status = subprocess.run(["git", "status", "--porcelain"], cwd=stack.clone, capture_output=True, text=True,
                            check=True)
    assert status.stdout == ""
    lint = subprocess.run(["make", "-o", ".venv/.installed", "lint"], cwd=stack.clone, capture_output=True,
                          text=True, timeout=120, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_receiver_recipe_gets_the_test_delivery(stack: Stack, tmp_path: Path) -> None:
    if not (stack.clone / "scratch/receiver.py").exists():
        assert stack.bash(page_block("recipes.md", "> scratch/receiver.py")).returncode == 0
    port = str(free_port())
    with (tmp_path / "receiver.log").open("wb") as out:
        receiver = subprocess.Popen([str(stack.clone / ".venv/bin/python"), "scratch/receiver.py"],
                                    cwd=stack.clone, env={**stack.env, "RECEIVER_PORT": port}, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while not port_open(int(port)):
            assert time.monotonic() < deadline and receiver.poll() is None, "the receiver did not listen"
            time.sleep(0.1)
        accounts = "\n".join(page_blocks("tour.md")[:1])  # $API, $MENTOR (a 409 if registered)
        done = stack.bash(accounts + "\n" + page_block("recipes.md", "webhook-endpoints"),
                          RECEIVER_PORT=port)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "\n202\n" in done.stdout, done.stdout
    finally:
        stop_groups(receiver, grace=2)
    printed = (tmp_path / "receiver.log").read_text()
    assert re.search(r'^msg_\w+ \{"type":"webhook.test"', printed, flags=re.MULTILINE), printed


def test_the_metrics_recipe_reads_the_stacks_metrics(stack: Stack) -> None:
    block = page_block("recipes.md", "/metrics")
    deadline = time.monotonic() + 30
    while "celery_tasks_total{" not in (done := stack.bash(block)).stdout:  # beat's first tasks, within seconds
        assert time.monotonic() < deadline, done.stdout + done.stderr
        time.sleep(1)
    assert (stack.var_dir / "flower_password").read_text() in done.stdout


def test_devstack_exec_names_the_stack_it_found_and_creates_an_admin_without_a_prompt(stack: Stack) -> None:
    current = stack.bash(page_block("recipes.md", "alembic current"), timeout=180)
    assert current.returncode == 0, current.stdout + current.stderr
    assert f"found the stack `make run` started from {stack.var_dir}" in current.stderr, current.stderr
    assert f"API at {stack.api_url}" in current.stderr
    assert "(head)" in current.stdout and "No new upgrade operations detected." in current.stdout + current.stderr

    admin = page_block("recipes.md", "create-admin").splitlines()
    scripted = "\n".join(line for line in admin if "--password" in line or line.endswith("\\"))
    done = stack.bash(scripted + "\n", timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("admin: admin@example.com ("), done.stdout


def test_make_demo_finds_the_stack_of_its_var_dir(stack: Stack) -> None:
    demo = subprocess.run(["make", "-o", ".venv/.installed", "demo"], cwd=stack.clone, env=stack.env,
                          capture_output=True, text=True, timeout=180, check=False)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert f"make demo: the stack `make run` started from {stack.var_dir}" in demo.stdout, demo.stdout
    assert f"API at {stack.api_url}" in demo.stdout
    assert "webhook_attempts_total {outcome=delivered}" in demo.stdout, demo.stdout  # the metrics step too


def test_a_second_stack_beside_it_is_its_own(stack: Stack, tmp_path: Path) -> None:
    """Its servers, ports and gunicorn control socket; the first goes on when the second stops."""
    (api_line,) = [line for line in (stack.clone / "Procfile").read_text().splitlines() if line.startswith("api:")]
    procfile = tmp_path / "Procfile"
    procfile.write_text(api_line + "\n")
    var_dir = tmp_path / "var"
    var_dir.mkdir()

    taken = subprocess.run([str(stack.clone / ".venv/bin/python"), "-m", "devstack", "run", "-f", str(procfile)],
                           cwd=stack.clone, env={**stack.env, "VAR_DIR": str(var_dir),
                                                 "API_PORT": stack.api_url.rsplit(":", 1)[1]},
                           capture_output=True, text=True, timeout=60, check=False)
    assert taken.returncode == 1 and f"{stack.api_url} is already in use" in taken.stderr, taken.stderr

    second, env, log = _start(stack.clone, var_dir, "-f", str(procfile))
    second_url = f"http://127.0.0.1:{env['API_PORT']}"
    try:
        _wait_ready(second_url, second, log)
        for var, url in ((stack.var_dir, stack.api_url), (var_dir, second_url)):
            with ControlClient(str(var / "gunicorn.ctl"), timeout=10) as control:
                listeners = control.send_command("show listeners")["listeners"]
            assert [listener["address"] for listener in listeners] == [url]
        status = subprocess.run([str(stack.clone / ".venv/bin/python"), "-m", "devstack", "status"],
                                cwd=stack.clone, env={**stack.env, "VAR_DIR": str(var_dir)},
                                capture_output=True, text=True, timeout=30, check=True).stdout
        assert f"API:      {second_url}/api/v1" in status and str(var_dir / "postgres") in status
    finally:
        _stop(second)
    assert second.returncode == 128 + signal.SIGINT, log.read_text(errors="replace")[-3000:]  # as after Ctrl-C
    assert not (var_dir / "stack.json").exists()
    gone = subprocess.run([str(stack.clone / ".venv/bin/python"), "-m", "devstack", "url"], cwd=stack.clone,
                          env={**stack.env, "VAR_DIR": str(var_dir)}, capture_output=True, text=True, timeout=30,
                          check=False)
    assert gone.returncode == 1 and f"no `make run` is running from {var_dir}" in gone.stderr, gone.stderr
    with ControlClient(str(stack.var_dir / "gunicorn.ctl"), timeout=10) as control:
        assert control.send_command("show listeners")["listeners"][0]["address"] == stack.api_url
    assert httpx.get(f"{stack.api_url}/health/ready", timeout=5).status_code == 200
