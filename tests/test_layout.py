"""The test suite's own layout: a test module takes its helpers from fixtures, factories and plugin modules,
never from another test module (whose tests would then run, or break, with the importer's)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _is_test_module(name: str) -> bool:
    """Whether a dotted module name under ``tests`` is a test module (``test_*.py``), as pytest collects them."""
    return name.rsplit(".", maxsplit=1)[-1].startswith("test_")


def _imported_modules(source: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every module imported by ``source``, the text of the module at ``path``
    (which resolves its relative imports)."""
    package = ["tests", *path.relative_to(TESTS).parent.parts]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.append((node.lineno, module))
            # ``from tests.api import test_sessions`` imports a test module too.
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def test_no_test_module_imports_from_another_test_module() -> None:
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line} imports {module}"
        for path in sorted(TESTS.rglob("test_*.py"))
        for line, module in _imported_modules(path.read_text(), path)
        if module.startswith("tests.") and _is_test_module(module)
    ]
    assert not offenders, "move these helpers into a fixture, factory or plugin module:\n" + "\n".join(offenders)



# The helpers every kind of test needs, each defined once, where it lives.
SHARED_HELPERS = {
    "sign_in": "tests/api_calls.py", "signed_in": "tests/api_calls.py", "bearer": "tests/api_calls.py",
    "post_booking": "tests/api_calls.py", "post_accept": "tests/api_calls.py", "requesting": "tests/api_calls.py",
    "accepting": "tests/api_calls.py", "request": "tests/domain_calls.py", "accept": "tests/domain_calls.py",
    "events_of": "tests/database.py", "event_types_of": "tests/database.py", "payloads_of": "tests/database.py",
}
# Local versions that only bind the shared one to what their module fixes, or act through another medium.
LOCAL_VERSIONS = {
    ("tests/workflows/scheduling/test_rules.py", "request"): "on the module's clock, through tests.domain_calls",
    ("tests/workflows/scheduling/test_rules_time_zones.py", "request"): "the same, by a new mentee",
    ("tests/web/pages.py", "sign_in"): "through the web app's sign-in page in a browser",
}


def _top_level_functions(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    return [(node.lineno, node.name) for node in tree.body if isinstance(node, ast.FunctionDef)]


def test_the_shared_helpers_are_defined_once() -> None:
    offenders = [
        f"{where}:{line} defines {name} again (it is in {SHARED_HELPERS[name]})"
        for path in sorted(TESTS.rglob("*.py"))
        for line, name in _top_level_functions(path)
        if name in SHARED_HELPERS and (where := str(path.relative_to(TESTS.parent))) != SHARED_HELPERS[name]
        and (where, name) not in LOCAL_VERSIONS
    ]
    assert not offenders, "\n".join(offenders)

def test_the_rule_sees_absolute_relative_and_module_imports() -> None:
    source = "\n".join([
        "from tests.api.test_sessions import make_session",
        "from .test_bookings import future",
        "from tests.api import test_people",
        "import tests.e2e.test_fanout",
        "from tests.factories import UserFactory",
        "from tests.web.conftest import Served",
    ])
    imported = {name for _, name in _imported_modules(source, TESTS / "api" / "test_example.py")}
    assert {name for name in imported if _is_test_module(name)} == {
        "tests.api.test_sessions", "tests.api.test_bookings", "tests.api.test_people", "tests.e2e.test_fanout"}


# Domain modules whose tests live elsewhere than their mirror, and where.
UNMIRRORED = {
    "workflows/conversations/reports.py": "reported, told, read from the report and audited, through the API: "
                                          "tests/api/conversations/test_reports.py",
    "workflows/conversations/safety.py": "blocks and the download of one's conversations, through the API: "
                                         "tests/api/conversations/test_safety.py",
    "workflows/conversations/announcements.py": "posted, told once each to each audience, read and counted, through "
                                                "the API: tests/api/conversations/test_announcements.py",
    "workflows/conversations/conversations.py": "who talks with whom, listed, found and counted unread, through the "
                                                "API: tests/api/conversations/test_conversations.py",
    "workflows/conversations/messages.py": "written, numbered with two writers at once, edited, deleted to nothing "
                                           "and read, through the API: tests/api/conversations/test_conversations.py",
    "workflows/programmes/access.py": "who may, in a programme, route by route and person by person: "
                                      "tests/api/common/test_access_every_route.py; its audit trail: "
                                      "tests/api/programmes/test_programme_admin_audit.py",
    "workflows/sessions/access.py": "a mentor's own numbers, to the mentor and admins: "
                                    "tests/api/mentors/test_mentor_numbers.py",
    "workflows/matching/scores.py": "the scores, reasons and overlaps: tests/workflows/matching/test_solver.py and "
                                    "test_cohort.py (against pair-by-pair counts and brute force)",
    "workflows/matching/preferences.py": "through the API and real runs: tests/api/matching/test_matching.py (never, "
                                         "prefer, an ended pairing kept apart); the solver's side: "
                                         "tests/workflows/matching/test_solver.py",
    "workflows/matching/settings.py": "through the API: tests/api/matching/test_matching.py (criteria, refusals)",
    "workflows/matching/runs.py": "a run's request side, through the API: tests/api/matching/test_matching.py "
                                  "(asked for one at a time, read, cancelled); a cancel refused: "
                                  "tests/workflows/matching/test_lifecycle.py",
    "workflows/matching/execution.py": "a run's worker side, as the matching worker carries it out: "
                                       "tests/api/matching/test_matching.py, tests/workers/test_matching_worker.py; "
                                       "each move it makes: tests/workflows/matching/test_lifecycle.py",
    "workflows/matching/drafts.py": "through the API: tests/api/matching/test_matching.py (swap, pin, remove, publish)",
    "workflows/matching/choice.py": "through the API: tests/api/matching/test_matching.py (recommendations, "
                                    "concurrent asks)",
    "workflows/reports/dashboard.py": "with the summaries it reads: tests/workflows/reports/test_tallies.py (hand "
                                      "counts, pairs at risk) and tests/api/reports/test_programme_report.py (who "
                                      "reads it)",
    "workflows/matching/explain.py": "through the API: tests/api/matching/test_matching.py (why a pair was or was "
                                     "not made)",
    "workflows/programmes/invitation_mail.py": "the hourly cap and the mails a real SMTP server receives: "
                                               "tests/api/programmes/test_programme_enrolment.py",
    "workflows/programmes/join_links.py": "through the API, a crowd at once too: "
                                          "tests/api/programmes/test_programme_enrolment.py",
    "workflows/programmes/rows.py": "every refused row with its line: tests/api/programmes/test_programme_enrolment.py",
    "workflows/programmes/intake.py": "through the API: tests/api/programmes/test_programme_intake.py",
    "workflows/programmes/pairings.py": "through the API, two coordinators at once too: "
                                        "tests/api/programmes/test_pairings.py",
    "workflows/programmes/listings.py": "a programme's listing, seen by its people only: "
                                        "tests/api/programmes/test_pairings.py",
    "workflows/programmes/following.py": "a pairing follows its series' answers: "
                                         "tests/api/programmes/test_pairings.py and "
                                         "tests/api/programmes/test_programme_edges.py",
    "workflows/programmes/goals.py": "through the API, and who sees it: tests/api/programmes/test_pairing_goals.py",
    "workflows/actors.py": "who acts: a dataclass every workflow test acts through",
    "workflows/clock.py": "the one source of now; every test of time passes it",
    "workflows/errors.py": "the error table: each error's answer is tests/api/common/test_bad_input.py's and every "
                           "route's",
    "workflows/roles.py": "participation: the list tests of tests/api (as mentor, mentee, both) hold it",
    "workflows/payloads.py": "each payload's shape is held to the OpenAPI document by "
                             "tests/e2e/test_webhook_document.py",
    "workflows/programme_payloads.py": "as workflows/payloads.py: tests/e2e/test_webhook_document.py",
    "workflows/conversation_payloads.py": "as workflows/payloads.py: tests/e2e/test_webhook_document.py; that no "
                                          "words are in them: tests/api/conversations/test_conversations.py",
    "workflows/wording.py": "times in a reader's words: tests/workflows/scheduling/test_rules_time_zones.py and the "
                            "notifications' tests read them",
    "workflows/calendar_owed.py": "what a change owes a mentor's own calendar, written by the workers: "
                                  "tests/workflows/calendars/test_writes.py and tests/e2e/test_calendar_workers.py",
    "workflows/scheduling/viewer.py": "a slot's marks for its viewer are the slots route's: "
                                      "tests/api/scheduling/test_slot_marks.py",
    "workflows/bookings/limits.py": "a mentee's turn is a request's: tests/api/common/test_request_limits.py",
    "workflows/notifications/together.py": "one message per person for a move of many sessions, as the mail reaches "
                                           "them: tests/api/programmes/test_one_message_per_person.py",
    "workflows/programmes/surveys.py": "a pairing's closing survey, once it ended: "
                                       "tests/api/programmes/test_pairings.py",
    "workflows/matching/hand.py": "a coordinator's pairing by hand, its rules and its races: "
                                  "tests/api/programmes/test_hand_pairings.py",
    "workflows/sessions/pairing_items.py": "what a session's completion writes and its field shows: "
                                           "tests/api/sessions/test_session_action_items.py",
    "workflows/bookings/requests.py": "a request and its answer together: tests/workflows/bookings/test_lifecycle.py",
    "workflows/bookings/series_requests.py": "a series' request and answer together: "
                                            "tests/workflows/bookings/test_series.py",
    "workflows/calendars/connections.py": "connecting talks to a calendar server and commits between: "
                                          "tests/api/calendars/test_calendar_connections.py",
    "workflows/mentors/time_off.py": "time off as the rules read it: tests/workflows/scheduling/test_rules.py and "
                                     "tests/api/scheduling/test_scheduling_rules_api.py",
    **{f"workflows/webhooks/{stage}.py": "a stage of the sender: the delivery, fairness and endpoint tests of "
                                         "tests/workflows/webhooks/ hold them together"
       for stage in ("fanout", "leases", "messages", "outcomes", "retry", "sending")},
}


def _unmirrored(root: Path) -> list[str]:
    """Domain modules with no ``tests/<same folders>/test_<module>.py`` (or ``test_<module>_<aspect>.py``)."""
    missing = []
    for module in sorted((root / "workflows").rglob("*.py")):
        if module.name == "__init__.py":
            continue
        mirror = root / "tests" / module.parent.relative_to(root)
        if not (mirror / f"test_{module.name}").exists() and not any(mirror.glob(f"test_{module.stem}_*.py")):
            missing.append(str(module.relative_to(root)))
    return missing


def test_every_domain_module_has_its_mirror_or_says_where_it_is_tested() -> None:
    root = TESTS.parent
    missing = sorted(set(_unmirrored(root)) - set(UNMIRRORED))
    assert not missing, "add tests/<same path>/test_<module>.py for:\n" + "\n".join(missing)
    stale = sorted(set(UNMIRRORED) - set(_unmirrored(root)))
    assert not stale, f"these have a mirror now; take them out of UNMIRRORED: {stale}"


def test_the_mirror_rule_sees_an_unmirrored_module(tmp_path: Path) -> None:
    (tmp_path / "workflows" / "bookings").mkdir(parents=True)
    (tmp_path / "tests" / "workflows" / "bookings").mkdir(parents=True)
    for name in ("__init__.py", "lifecycle.py", "series.py", "bundles.py"):
        (tmp_path / "workflows" / "bookings" / name).touch()
    (tmp_path / "tests" / "workflows" / "bookings" / "test_lifecycle.py").touch()
    (tmp_path / "tests" / "workflows" / "bookings" / "test_series_guarantees.py").touch()
    assert _unmirrored(tmp_path) == [str(Path("workflows/bookings/bundles.py"))]


# ---- one domain map on every floor -------------------------------------------------------------------------------
# The places that serve every domain rather than one, on whichever floor they stand, and why.
KERNEL_PLACES = {
    "common": "what every resource's routes and tests share: schemas, documented errors, the OpenAPI document",
    "health": "liveness and readiness, which are no domain's",
    "public": "the read-only pages and API visitors read without an account, across mentors and listings",
    "webapp": "the browser app's files, served as they are",
    "waiting": "what waits for someone, read across bookings, sessions and waitlists (workflows/waiting.py)",
}
# The floors whose first-level names are domains, and the files each keeps at its root (its own kernel), with why.
FLOORS: dict[str, dict[str, str]] = {
    "api": dict.fromkeys(("__init__.py", "cli.py", "cors.py", "database.py", "errors.py", "idempotency.py",
                          "metrics.py", "ratelimit.py", "security.py", "ruff.toml"),
                         "the app's own kernel: one concern of every request"),
    "models": {"__init__.py": "every model, re-exported", "base.py": "the declarative base and its mixins",
               "enums.py": "the statuses every domain's columns and payloads share",
               "outbox.py": "the outbox's tables (the top-level outbox package's)",
               "questions.py": "the question model listings and programmes share (workflows/questions.py)"},
    "tests/api": {"__init__.py": "a package", "openapi_names.json": "the OpenAPI document's names, held by "
                  "tests/api/common/test_openapi.py"},
    "tests/workflows": {"__init__.py": "a package"},  # and the tests of the domain's kernel modules: see below
    "web/js/screens": {},
}


def _misplaced(root: Path) -> list[str]:
    """First-level names of the floors that are neither a domain of ``workflows/`` nor a kernel place, and root files
    that are neither named after a domain nor the floor's own kernel (``tests/workflows`` may also hold
    ``test_<kernel module>.py``)."""
    domains = {path.name for path in (root / "workflows").iterdir() if (path / "__init__.py").exists()}
    kernel_modules = {path.stem for path in (root / "workflows").glob("*.py")}
    found = []
    for floor, files in FLOORS.items():
        for path in sorted((root / floor).iterdir()):
            if path.name == "__pycache__" or path.name.startswith("."):
                continue
            if path.stem in domains and path.suffix in (".py", ".js"):
                continue  # a domain's one module on this floor, named after it
            if path.is_dir():
                if path.name not in domains | set(KERNEL_PLACES):
                    found.append(f"{floor}/{path.name}/")
            elif path.name not in files and not (
                    floor == "tests/workflows" and path.name.startswith("test_")
                    and any(path.stem == f"test_{m}" or path.stem.startswith(f"test_{m}_") for m in kernel_modules)):
                found.append(f"{floor}/{path.name}")
    return found


def test_every_floor_names_the_domains_of_the_workflows() -> None:
    misplaced = _misplaced(TESTS.parent)
    assert not misplaced, ("put these under a domain of workflows/ (or name a kernel place in KERNEL_PLACES, or a "
                           "floor's root file in FLOORS, with its reason):\n" + "\n".join(misplaced))


def test_the_domain_map_rule_sees_a_misplaced_package_and_file(tmp_path: Path) -> None:
    for folder in ("workflows/bookings", "api/bookings", "api/booking_series", "api/common", "models", "tests/api",
                   "tests/workflows/bookings", "web/js/screens/bookings"):
        (tmp_path / folder).mkdir(parents=True)
    for file in ("workflows/bookings/__init__.py", "workflows/clock.py", "api/errors.py", "api/helpers.py",
                 "models/bookings.py", "models/enums.py", "models/attendance.py", "tests/workflows/test_clock.py",
                 "tests/workflows/test_slots.py", "web/js/screens/booking-link.js"):
        (tmp_path / file).touch()
    assert _misplaced(tmp_path) == ["api/booking_series/", "api/helpers.py", "models/attendance.py",
                                    "tests/workflows/test_slots.py", "web/js/screens/booking-link.js"]
