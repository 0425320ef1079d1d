"""A local CalDAV server, Radicale, for trying calendar connections by hand and for the tests and the benchmark.

``python -m devstack radicale`` runs one in the foreground on 127.0.0.1 (port 5232 unless ``--port`` says
otherwise), with one user (``mentor``, its password printed), a calendar of events ("Work", made when the user has
none) and its data under ``$VAR_DIR/radicale``: connect it
from the mentor's setup page as a CalDAV account, and add events to it with any calendar app or the ``caldav``
package.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class Radicale:
    """A Radicale server: where its data is, its port, and its one user."""

    root: Path
    port: int
    user: str = "grace"
    password: str = "app-password-1"  # noqa: S105 - a local test server's
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def configure(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config"
        config.write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\ntype = htpasswd\n"
            f"htpasswd_filename = {self.root / 'users'}\nhtpasswd_encryption = plain\n"
            "[storage]\n"
            f"filesystem_folder = {self.root / 'collections'}\n"
            "[rights]\ntype = owner_only\n"
            "[logging]\nlevel = warning\n")
        (self.root / "users").write_text(f"{self.user}:{self.password}\n")
        return config

    def start(self) -> None:
        """Start it in the background, and wait until it answers."""
        self.process = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(self.configure())],  # noqa: S603
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("Radicale did not start")

    def ensure_calendar(self) -> None:
        """Give its user a calendar of events if they have none (a fresh Radicale has none to connect)."""
        import caldav  # noqa: PLC0415 - only this command and the tests talk CalDAV here

        with caldav.DAVClient(url=self.url, username=self.user, password=self.password) as client:
            principal = client.principal()
            if not principal.calendars():
                principal.make_calendar(name="Work")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def run(var_dir: Path, port: int) -> int:
    """Radicale in the foreground, until Ctrl-C; its address and login printed first."""
    password_file = var_dir / "radicale-password"
    if not password_file.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        password_file.write_text(secrets.token_urlsafe(12))
    server = Radicale(var_dir / "radicale", port, user="mentor", password=password_file.read_text().strip())
    server.start()
    try:
        server.ensure_calendar()
        print(f"Radicale on {server.url} · user {server.user} · password {server.password} · calendar \"Work\"",
              flush=True)
        assert server.process is not None
        return server.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()
