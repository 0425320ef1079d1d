"""How the web app is served: its page and modules, their headers, and their size."""

from __future__ import annotations

import fnmatch
import posixpath
import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.webapp.routes import WEB_ROOT

# The page's own JavaScript, CSS and HTML, before compression.
# 165 KiB until series and waitlists came to the booking screens; 185 KiB until the booking experience's fixes
# (confirmations, the unsaved-changes guard, participants, notifications), which took it to 190 KiB; the picker
# over the whole horizon, what waits for you, shared live streams, instant booking, booking questions, calendar links,
# the emailed cancel and move links' pages, and the public pages' styles and zone script took it to 228 KiB.
# Raised from 230 KB, then 256 KB, by the programme screens (people, intake, pairings), to 288 KiB (282 KiB used);
# then to 352 KiB by the admin console (30 KiB), the charts with the mentor's numbers (15 KiB) and the programme's
# dashboard; to 359 KiB by signing in through organisations (the sign-in offers, their screens, the admin console's
# providers); to 376 KiB (369 KiB used) by a first cohort's screens (a mentor's hours in the intake, who is left out
# of a match, the pair form's paired and rules, a pairing's outcomes, the instant cap, a provider's last refusal);
# to 416 KiB by the coordinator's and participants' screens of a programme of hundreds (a pairing answered where it
# is shown, the next step, the exports as downloads, the matching review as a table, paged and filtered lists);
# to 440 KiB by conversations (the list, a conversation, the menu's count: 421 KiB used with them) and what they
# still need (announcements and their read counts, how each person is told, report and block).
# to 480 KiB by the screens' words going through t() (448,314 bytes before, 486,505 after; 158,061 and 168,086
# gzipped): a language's table of words is fetched as JSON only by its readers (web/locales/<language>.po, served as
# /words/<tag>.json), never by an English reader, and is not counted here; nor is it in the first load (below).
# to 512 KiB by the identity IT departments ask for: two-step sign-in (the second step of a sign-in, the settings'
# authenticators and recovery codes, the console's rule: 491,520 bytes allowed before, 501,804 used after), with room
# for security keys and SAML providers' screens.
# to 576 KiB by what a programme gives its pairs (524,288 bytes allowed before; 524,375 used once the plan for the term
# came: its editor, a pair's step of the week on their pairing and session pages, the progress chart; 534,849 with the
# libraries of resources; the identity screens had taken 509,902), with room for the check-ins' builder and results
# and the report across programmes.
SIZE_BUDGET_BYTES = 576 * 1024
# What a reader's browser fetches before the first screen: the page, its styles, and the modules boot.js and main.js
# import (each screen's module comes when it is first shown). 446 KiB before screens were loaded on demand, when the
# first load was the whole page code; the words through t() may add at most 10 KiB to an English reader's first load.
FIRST_LOAD_BUDGET_BYTES = 96 * 1024
# Libraries vendored as published (web/vendor/: uPlot) are not the page's own code and are left out of the budget:
# they are fetched only by the screens that use them, never by the page's own modules (checked below).
VENDOR = WEB_ROOT / "vendor"
# A module's static imports (`import … from './x.js'`, `import './x.js'`) and dynamic ones (`import('./x.js')`).
STATIC_IMPORT = re.compile(r"""(?:\bfrom|^\s*import)\s*'(\.{1,2}/[\w./-]+)'""", re.MULTILINE)
DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*'(\.{1,2}/[\w./-]+)'\s*\)""")


def fetch(client: FlaskClient, path: str, **kwargs: object) -> TestResponse:
    """The response, read and closed (static files are streamed from an open file)."""
    response = client.get(path, **kwargs)  # type: ignore[arg-type]
    response.get_data()
    response.close()
    return response


def test_page_is_served_at_root_with_csp_and_revalidation(client: FlaskClient) -> None:
    page = fetch(client, "/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.headers["Cache-Control"] == "no-cache" and page.headers["ETag"]
    # The API's own security headers stay on.
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["X-Frame-Options"] == "DENY"
    assert fetch(client, "/", headers={"If-None-Match": page.headers["ETag"]}).status_code == 304


def imported(client: FlaskClient, pattern: re.Pattern[str], *,
             every: bool = True) -> tuple[set[str], dict[str, set[str]]]:
    """The modules the page starts with (boot.js, and main.js once the reader's words are in) import, and through them
    (each served as JavaScript): statically only, or ``every`` one, those loaded later too; and what each of them
    imports by ``pattern``."""
    modules = {"js/boot.js", "js/main.js"}
    seen: dict[str, set[str]] = {}
    while modules:
        name = modules.pop()
        response = fetch(client, f"/web/{name}")
        assert response.status_code == 200, name
        assert response.mimetype == "text/javascript", name
        source = response.get_data(as_text=True)
        resolve = lambda path, at=name: posixpath.normpath(posixpath.join(posixpath.dirname(at), path))  # noqa: E731
        seen[name] = {resolve(path) for path in pattern.findall(source)}
        modules |= {resolve(path) for path in STATIC_IMPORT.findall(source)} - set(seen)
        if every:  # and the screens' modules, loaded when first shown (the chart library stays the chart's)
            modules |= {resolve(path) for path in DYNAMIC_IMPORT.findall(source)
                        if not resolve(path).startswith("vendor/")} - set(seen)
    return set(seen), seen


def test_every_module_the_page_imports_is_served_as_javascript(client: FlaskClient) -> None:
    modules, _ = imported(client, STATIC_IMPORT)
    assert len(modules) >= 8
    assert fetch(client, "/web/app.css").mimetype == "text/css"


def test_the_chart_library_is_loaded_only_when_a_chart_is_drawn(client: FlaskClient) -> None:
    modules, dynamic = imported(client, DYNAMIC_IMPORT)
    assert "js/chart.js" in modules and not any(name.startswith("vendor/") for name in modules), sorted(modules)
    assert dynamic["js/chart.js"] == {"vendor/uplot/uPlot.esm.js"}
    assert {target for name, targets in dynamic.items() if name != "js/chart.js" for target in targets
            if target.startswith("vendor/")} == set()
    library = fetch(client, "/web/vendor/uplot/uPlot.esm.js")
    assert library.status_code == 200 and library.mimetype == "text/javascript"
    assert "Content-Security-Policy" in library.headers
    assert fetch(client, "/web/vendor/uplot/uPlot.min.css").mimetype == "text/css"
    licence = fetch(client, "/web/vendor/uplot/LICENSE")
    assert licence.status_code == 200 and "Permission is hereby granted" in licence.get_data(as_text=True)
    assert (VENDOR / "uplot" / "README.md").read_text().startswith("# uPlot 1.6.32")


def test_files_outside_web_are_not_served(client: FlaskClient) -> None:
    assert fetch(client, "/web/../pyproject.toml").status_code == 404
    assert fetch(client, "/web/%2e%2e/pyproject.toml").status_code == 404
    assert fetch(client, "/web/nothing-here.js").status_code == 404


def test_the_first_load_holds_the_router_not_every_screen(client: FlaskClient) -> None:
    first, _ = imported(client, STATIC_IMPORT, every=False)
    assert "js/router.js" in first and not any(name.startswith("js/screens/mentors/") for name in first), sorted(first)
    total = sum((WEB_ROOT / name).stat().st_size for name in first | {"index.html", "app.css"})
    assert total < FIRST_LOAD_BUDGET_BYTES, f"{total} bytes in {len(first)} modules"
    every, _ = imported(client, STATIC_IMPORT)
    assert {"js/screens/mentors/browse.js", "js/screens/operations/index.js"} <= every


def test_page_code_stays_under_its_size_budget() -> None:
    files = [p for p in WEB_ROOT.rglob("*") if p.suffix in {".js", ".css", ".html"} and VENDOR not in p.parents]
    total = sum(p.stat().st_size for p in files)
    assert files and total < SIZE_BUDGET_BYTES, f"{total} bytes in {len(files)} files"


def test_the_image_holds_the_web_app() -> None:
    """``COPY . .`` in the Dockerfile takes web/ unless .dockerignore leaves it out."""
    ignored = [line.strip() for line in (WEB_ROOT.parent / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for pattern in ignored:
        assert not fnmatch.fnmatch("web", pattern.rstrip("/")), pattern
        for name in ("web/index.html", "web/app.css", "web/js/main.js"):
            assert not fnmatch.fnmatch(name, pattern), pattern
