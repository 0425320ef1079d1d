"""The web app's pure modules unit-tested in Chromium: the test functions of ``tests/web/unit/*.test.js`` run against
the real modules (time and money in words, the slot picker's calendar, the policy, the router, the API's refusals,
the live stream's frames) as the real app serves them, in one page load for them all.

The test page and its modules are served from ``tests/web/unit/`` at that same path of the app's own address (routed
by Playwright, never served by the app), under the Content-Security-Policy of the app's page: their imports
(``../../../web/js/ui.js``) name the files both on disk, for the linter, and at the app's ``/web/js/``. Each pytest
test below is one test module; a failure names each JS test that failed and what it found.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from tests.web.conftest import new_page, serving_web

UNIT = Path(__file__).parent / "unit"
MODULES = sorted(path.name for path in UNIT.glob("*.test.js"))
# A zone whose clocks change (the slot picker's days of 23 and 25 hours), and the locale its expectations are in.
ZONE = "Europe/Berlin"

# The page loads once, on one process, for every module here.
pytestmark = pytest.mark.xdist_group("web-unit")


@pytest.fixture(scope="module")
def unit_page(browser: Any, engine: Engine) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """The unit tests' page, its tests run: the page, and each test's result ({file, name, passed, error})."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # The unit tests write nothing: the app reads no data for them, and no table needs emptying afterwards.
    with serving_web(sessionmaker(bind=engine, expire_on_commit=False)) as served:
        csp = served.http.get("/").headers["Content-Security-Policy"]

        def from_disk(route: Any) -> None:
            name = route.request.url.split("/tests/web/unit/", 1)[1].split("?", 1)[0]
            path = (UNIT / name).resolve()
            if path.parent != UNIT.resolve() or not path.is_file():
                route.fulfill(status=404, body="not a unit test file")
                return
            kind = "text/javascript" if path.suffix == ".js" else mimetypes.guess_type(path.name)[0] or "text/plain"
            route.fulfill(status=200, body=path.read_bytes(), headers={
                "Content-Type": f"{kind}; charset=utf-8", "Content-Security-Policy": csp, "Cache-Control": "no-store"})

        page = new_page(browser, served, ZONE)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.route(f"{served.url}/tests/web/unit/**", from_disk)
        page.goto(f"/tests/web/unit/index.html?modules={','.join(MODULES)}")
        try:
            page.wait_for_function("() => window.unitResults !== undefined")
        except PlaywrightTimeout:
            pytest.fail(f"the unit tests' page did not finish: {errors or 'no error in the page'}")
        results = page.evaluate("() => window.unitResults")
        assert not page.csp_errors, page.csp_errors
        yield page, results
        page.context.close()


def failures(results: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {r['file']}: {r['name']}\n      {r['error']}" for r in results if not r["passed"])


@pytest.mark.parametrize("module", MODULES)
def test_the_modules_unit_tests_pass(unit_page: tuple[Any, list[dict[str, Any]]], module: str) -> None:
    _, results = unit_page
    mine = [r for r in results if r["file"] == module]
    assert mine, f"{module} ran no test"
    failed = failures(mine)
    assert not failed, f"{sum(not r['passed'] for r in mine)} of {len(mine)} failed in {module}:\n{failed}"


def test_a_unit_test_that_throws_is_reported_by_its_name(unit_page: tuple[Any, list[dict[str, Any]]]) -> None:
    """The runner on tests made to fail, in the same page: a thrown check, a rejected promise, a module that could
    not be loaded and one without tests are each a failure, named; a test that returns passes."""
    page, _ = unit_page
    results = page.evaluate("""async () => {
        const { runTests } = await import('/tests/web/unit/runner.js');
        const { equal } = await import('/tests/web/unit/assert.js');
        return runTests({
            'made.test.js': { tests: {
                'two is three': () => equal(2, 3, 'sum'),
                'a promise rejects': async () => { throw new TypeError('no such thing'); },
                'one is one': () => equal(1, 1),
            } },
            'broken.test.js': new SyntaxError('Unexpected token'),
            'empty.test.js': {},
        });
    }""")
    assert [(r["file"], r["name"], r["passed"], r["error"]) for r in results] == [
        ("made.test.js", "two is three", False, "Error: sum: expected 3, got 2"),
        ("made.test.js", "a promise rejects", False, "TypeError: no such thing"),
        ("made.test.js", "one is one", True, None),
        ("broken.test.js", "(loading the module)", False, "SyntaxError: Unexpected token"),
        ("empty.test.js", "(its tests)", False, "The module exports no `tests`."),
    ]
