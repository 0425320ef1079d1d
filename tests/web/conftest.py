"""A real browser (Debian's Chromium, driven by Playwright) on the real app over HTTP, with a real worker.

Without Chromium the browser tests are skipped: ``apt-get install -y chromium`` (Playwright's own
browser download is not used), then ``pytest tests/web``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import BaseWSGIServer, make_server

from infra.config import get_settings
from tests.servers import live_app

ROOT = Path(__file__).resolve().parents[2]
AXE_SOURCE = ROOT / "tests" / "web" / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "correct horse battery"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM:
        return
    skip = pytest.mark.skip(reason="no Chromium on this machine: `apt-get install -y chromium`, then run tests/web")
    for item in items:
        if "browser" in item.fixturenames:
            item.add_marker(skip)


def browser_timezone(now: datetime) -> str:
    """A fixed-offset zone where it is late morning or noon now, so today's slots soon after now fit one day.

    Never UTC itself: the browser then reports "UTC", and the pages that follow the reader's zone would not
    show that they do (at 11:00 UTC the zone is one hour east instead).
    """
    hour = now.astimezone(UTC).hour
    offset = (11 - hour + 12) % 24 - 12 or 1  # -12 … +11 hours from UTC, never 0
    # Etc/GMT-N is UTC+N (POSIX sign).
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@dataclasses.dataclass
class Served:
    url: str
    http: httpx.Client

    def register(self, name: str, email: str) -> dict[str, str]:
        """An account made over the API (for people whose sign-up the test does not watch)."""
        body = {"email": email, "password": PASSWORD, "display_name": name}
        response = self.http.post("/api/v1/auth/register", json=body)
        assert response.status_code == 201, response.text
        return self.token(email)

    def token(self, email: str) -> dict[str, str]:
        response = self.http.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def call(self, method: str, path: str, headers: dict[str, str], body: Any = None, status: int = 200) -> Any:
        response = self.http.request(method, f"/api/v1{path}", headers=headers, json=body)
        assert response.status_code == status, response.text
        return response.json() if response.content else None


@contextmanager
def serving_web(committed: sessionmaker[Session], port: int = 0, **settings: Any) -> Iterator[Served]:
    """The app over a real HTTP server on ``port`` (0: a free one), with ``settings`` replaced. A test whose
    service must know its own address (``PUBLIC_URL``) chooses the port first (``devstack.host.free_port``)."""
    # Streams live 30 s here (the default is 5 minutes); each of the test's users changes listing a few
    # times, and a closed stream holds its place until the server's next write to it.
    defaults = {"sse_max_seconds": 30.0, "sse_max_streams_per_user": 6, "sse_max_streams_per_process": 16}
    app = live_app(committed, dataclasses.replace(get_settings(), **{**defaults, **settings}))
    server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            yield Served(base, http)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def web_server(committed: sessionmaker[Session], a_worker: Any) -> Iterator[Served]:
    """The app over a real HTTP server, and a worker that turns accepted bookings into sessions."""
    with serving_web(committed) as served:
        yield served


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the test process; each person of a test has a context of their own (:func:`new_page`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield launched
        launched.close()


WCAG_A_AA = {"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"}


class Axe:
    """axe-core run in the page (through the DevTools protocol, so the page's CSP stays as it is)."""

    def __init__(self) -> None:
        self.source = AXE_SOURCE.read_text()
        self.results: dict[str, list[dict[str, Any]]] = {}

    def check(self, page: Any, screen: str) -> None:
        if not page.evaluate("() => Boolean(window.axe)"):
            page.evaluate(self.source)
        found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
        # Every WCAG A and AA rule, whatever axe's impact: serious or minor, a failure of the level is one.
        failing = [v for v in found if WCAG_A_AA & set(v.get("tags", []))]
        self.results[screen] = found
        assert not failing, f"{screen}: " + json.dumps(
            [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in failing],
            indent=1)


@pytest.fixture(scope="module")
def axe() -> Iterator[Axe]:
    checker = Axe()
    yield checker
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # One report for the run: each module adds its screens (a stale screen of an earlier run is replaced).
    path = SCREENSHOTS / "axe-report.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    report.update({screen: [{"id": v["id"], "impact": v["impact"]} for v in found]
                   for screen, found in checker.results.items()})
    path.write_text(json.dumps(report, indent=1, sort_keys=True))


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


EXPECT_MS = 10_000  # how long a page has to show what a step expects (a loaded 2-core machine can take 5 s)


def expect(target: Any) -> Any:
    """Playwright's ``expect``, imported only once a browser test runs, waiting :data:`EXPECT_MS` (its own default
    is 5 s, which a loaded machine's sign-in round trip has overrun)."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=EXPECT_MS)
    return playwright_expect(target)


DESKTOP = {"width": 1200, "height": 900}
PHONE = {"width": 390, "height": 844}


def new_page(browser: Any, served: Served, zone: str, viewport: dict[str, int] = DESKTOP, locale: str = "en-GB") -> Any:
    """A page in a browser context of its own (a person of the test) in ``zone``, its browser's language ``locale``,
    recording CSP errors."""
    phone = viewport == PHONE
    context = browser.new_context(base_url=served.url, timezone_id=zone, locale=locale, viewport=viewport,
                                  is_mobile=phone, has_touch=phone)
    context.set_default_timeout(EXPECT_MS)
    page = context.new_page()
    page.csp_errors = []
    page.on("console", lambda m: page.csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    return page


def sign_up(page: Any, name: str, email: str) -> None:
    """Sign up through the web app's form, and wait for the page's live stream."""
    page.goto("/#/signup")
    expect(page.get_by_role("heading", level=1, name="Create your account")).to_be_visible()
    expect(page.locator("#live")).to_be_hidden()  # a visitor has no live stream: no "Reconnecting…" either
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    # Attached, not visible: at phone size the account's buttons are in the folded menu.
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()
    live_status(page, "Live")


def live_status(page: Any, text: str) -> None:
    expect(page.locator("#live")).to_have_attribute("role", "status")
    expect(page.locator("#live")).to_have_text(text)
