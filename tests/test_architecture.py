"""The shape the code keeps: packages import one way, event types are spelled once, the domain needs no Celery."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from workflows.events import EventType

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ("api", "devstack", "infra", "models", "outbox", "workers", "workflows")
RUFF = Path(sys.executable).with_name("ruff")


def _modules(package: str) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def _imported_packages(tree: ast.Module) -> set[str]:
    """The top-level packages a module imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.partition(".")[0])
    return found & set(PRODUCTION)


def test_no_two_packages_import_each_other_even_through_others() -> None:
    imports = {package: set().union(*(_imported_packages(tree) for _, tree in _modules(package))) - {package}
               for package in PRODUCTION}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in imports[start])

    cycles = sorted(package for package in PRODUCTION if reaches(package, package, {package}))
    assert not cycles, f"packages on an import cycle: {cycles}: {imports}"
    # The layers, bottom up: nothing below imports what stands on it.
    assert imports["models"] <= set()
    assert imports["infra"] <= {"models"}
    assert imports["outbox"] <= {"infra", "models"}
    assert "workers" not in imports["api"] and "api" not in imports["workers"]


def _ruff_on(path: str, source: str) -> subprocess.CompletedProcess[str]:
    """Ruff as the repository configures it, on ``source`` as though it were the file at ``path``."""
    return subprocess.run([str(RUFF), "check", "--no-cache", "--select", "TID251", "--stdin-filename", path, "-"],
                          input=source, capture_output=True, text=True, cwd=ROOT, check=False)


@pytest.mark.parametrize(("path", "source", "says"), [
    ("infra/planted.py", "from workflows import bookings\n", "infra/ is below the domain"),
    ("infra/planted.py", "from outbox import REGISTRY\n", "infra/ is below the outbox"),
    ("outbox/planted.py", "from workflows.events import EventType\n", "the outbox knows nothing of the domain"),
    ("workflows/planted.py", "import celery\n", "never import Celery"),
    ("workflows/planted.py", "from outbox.publisher import publish\n", "publishing is the API's and the workers'"),
    ("workflows/planted.py", "from outbox.draining import drain\n", "draining them is the workers'"),
])
def test_an_import_across_the_layers_is_refused_by_the_linter(path: str, source: str, says: str) -> None:
    planted = _ruff_on(path, source)
    assert planted.returncode == 1 and "TID251" in planted.stdout and says in planted.stdout, planted.stdout
    allowed = _ruff_on(path, "from models import Booking\n")
    assert allowed.returncode == 0, allowed.stdout


def _examples_and_the_enum(tree: ast.Module) -> Iterator[ast.AST]:
    """What may spell an event type: the ``EventType`` class, OpenAPI examples (an ``example=`` argument,
    an ``"example"`` entry, a constant named ``*EXAMPLE*``), and the key a text is declared with in the catalogues
    (the first argument of ``text``, ``notice`` or ``message``: a catalogue's key, not an event's type)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "EventType":
            yield node
        elif isinstance(node, ast.Call) and node.args and (
                getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in {"text", "notice", "message"}:
            yield node.args[0]
        elif isinstance(node, ast.keyword) and node.arg in {"example", "examples"}:
            yield node.value
        elif isinstance(node, ast.Dict):
            yield from (value for key, value in zip(node.keys, node.values, strict=True)
                        if isinstance(key, ast.Constant) and key.value in {"example", "examples"})
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and "EXAMPLE" in t.id for t in targets) and node.value is not None:
                yield node.value


def _event_type_literals(tree: ast.Module) -> Iterator[tuple[int, str]]:
    values = {event_type.value for event_type in EventType}
    allowed = {id(inner) for node in _examples_and_the_enum(tree) for inner in ast.walk(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in values and id(node) not in allowed:
            yield node.lineno, node.value


def test_no_event_type_is_spelled_in_the_production_packages_outside_its_enum() -> None:
    spelled = [f"{path.relative_to(ROOT)}:{line}: {value!r}"
               for package in PRODUCTION for path, tree in _modules(package)
               for line, value in _event_type_literals(tree)]
    assert not spelled, "use EventType:\n" + "\n".join(spelled)


def test_the_literal_scan_sees_a_planted_event_type() -> None:
    planted = ast.parse("\n".join([
        'class EventType:\n    A = "session.completed"',
        'EXAMPLE = {"type": "session.completed"}',
        'field = String(metadata={"example": "session.completed"})',
        'routed = blp.arguments(Schema, example={"types": ["session.completed"]})',
        'if kind == "session.completed":\n    pass',
        'COMPLETED = message("session.completed", "Session completed", "{listing} is complete.")',
        'said = record("session.completed", notice("x", "y", "z"))',
    ]))
    assert list(_event_type_literals(planted)) == [(6, "session.completed"), (9, "session.completed")]


def test_the_domain_records_events_without_loading_celery() -> None:
    probe = ("import sys\n"
             "import workflows.bookings.lifecycle, workflows.handlers, workflows.sessions.lifecycle, outbox.relay\n"
             "print(sorted(m for m in ('celery', 'kombu', 'flask') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert loaded.stdout.strip() == "[]"


# The modules at the top of workflows/ that any package may import, and that import no package.
FOUNDATIONS = ("errors", "actors", "roles", "clock", "pagination", "state_machine", "language", "wording", "events",
               "payloads",
               "programme_payloads", "conversation_payloads", "skills", "people", "inbox", "lookups", "access")
# Pairs of domain packages that may import each other, and why. A cycle through any other pair fails.
ALLOWED_CYCLES = {
    frozenset({"bookings", "sessions"}): "an accepted booking becomes a session, and a session's end settles its "
                                         "booking (credits, fees, seats): one lifecycle in two tables",
}


def _domain_units() -> dict[str, set[str]]:
    """What each unit of workflows/ imports of the others: a unit is a package (``bookings``) or a module at the
    top (``events``)."""
    def unit(module: str) -> str | None:
        parts = module.split(".")
        return parts[1] if parts[0] == "workflows" and len(parts) > 1 else None

    imports: dict[str, set[str]] = {}
    for path, tree in _modules("workflows"):
        relative = path.relative_to(ROOT / "workflows").with_suffix("").parts
        if relative == ("__init__",):
            continue
        here = relative[0]
        found = imports.setdefault(here, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found.update(u for u in map(unit, names) if u and u != here)
    return imports


def _cycles(imports: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Every pair of units each of which reaches the other, except the allowed pairs."""
    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in imports.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reached = {unit: reach(unit) for unit in imports}
    return sorted((a, b) for a in imports for b in reached[a]
                  if a < b and a in reached.get(b, ()) and frozenset({a, b}) not in ALLOWED_CYCLES)


def test_the_domain_packages_import_one_way() -> None:
    imports = _domain_units()
    assert {"accounts", "bookings", "sessions", "calendars", "events", "errors"} <= set(imports)
    assert not _cycles(imports), f"domain units on an import cycle: {_cycles(imports)}"
    # The kernel's foundations import no domain package: only each other.
    for foundation in FOUNDATIONS:
        assert imports[foundation] <= set(FOUNDATIONS), (foundation, imports[foundation] - set(FOUNDATIONS))


def test_the_cycle_rule_sees_a_planted_cycle() -> None:
    imports = {"calendars": {"notifications"}, "notifications": {"events"}, "events": set(),
               "bookings": {"sessions"}, "sessions": {"bookings"}}
    assert _cycles(imports) == []
    imports["events"] = {"calendars"}
    assert _cycles(imports) == [("calendars", "events"), ("calendars", "notifications"), ("events", "notifications")]


def primer_event_table() -> str:
    """docs/PRIMER.md's table of events, as the enum and the registry say it: each recorded event type, the
    schemas of its webhook ``data``, and its handlers in the order they are declared."""
    import workflows.handlers  # noqa: F401  (declares the handlers)
    from api.common.openapi import data_schemas
    from outbox import REGISTRY

    rows = ["| event | data | handlers |", "|---|---|---|"]
    rows += [f"| `{event_type}` | {', '.join(data_schemas(event_type))} | "
             f"{', '.join(f'`{name}`' for name in REGISTRY.handlers_for(event_type))} |"
             for event_type in EventType if event_type != EventType.WEBHOOK_TEST]
    return "\n".join(rows)


def test_the_primer_event_table_is_the_enum_and_the_registry() -> None:
    primer = (ROOT / "docs" / "PRIMER.md").read_text()
    table = primer_event_table()
    assert table in primer, f"docs/PRIMER.md's event table should read:\n\n{table}\n"


MAX_LINES = 400
# The modules allowed past MAX_LINES, each with its reason: why it is one meaning that splitting by meaning or by
# process role would only scatter (path -> reason, in words). None is today; a module that outgrows the rule is
# split by meaning, or named here with why it may not be.
LONG_MODULES: dict[str, str] = {}


def _long_modules(root: Path, allowed: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """The modules past MAX_LINES with no entry in ``allowed`` (``path: n lines``), and the entries of ``allowed``
    naming no module past it (gone, or back within the rule)."""
    long = {path.relative_to(root).as_posix(): lines
            for package in ("api", "workflows", "outbox", "workers", "infra", "models")
            for path in sorted((root / package).rglob("*.py"))
            if (lines := len(path.read_text().splitlines())) > MAX_LINES}
    return ([f"{path}: {lines} lines" for path, lines in long.items() if path not in allowed],
            sorted(path for path in allowed if path not in long))


def test_no_module_is_longer_than_the_house_allows() -> None:
    unnamed, stale = _long_modules(ROOT, LONG_MODULES)
    assert not unnamed, (f"split these by meaning (at most {MAX_LINES} lines), or name each in LONG_MODULES with "
                         "why it is one meaning:\n" + "\n".join(unnamed))
    assert not stale, f"these are within {MAX_LINES} lines now, or gone; take them out of LONG_MODULES: {stale}"


def test_each_long_module_allowed_says_why_in_words() -> None:
    unexplained = [path for path, reason in LONG_MODULES.items() if len(reason.split()) < 5]
    assert not unexplained, f"say why each of these is one meaning and may be longer: {unexplained}"


def test_the_length_rule_sees_a_long_module_and_a_stale_exception(tmp_path: Path) -> None:
    (tmp_path / "workflows" / "bookings").mkdir(parents=True)
    (tmp_path / "workflows" / "bookings" / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (tmp_path / "workflows" / "bookings" / "named.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (tmp_path / "workflows" / "bookings" / "short.py").write_text("x = 1\n" * MAX_LINES)
    allowed = {"workflows/bookings/named.py": "one table of rules read as a whole",
               "workflows/bookings/short.py": "was long once"}
    assert _long_modules(tmp_path, allowed) == ([f"workflows/bookings/long.py: {MAX_LINES + 1} lines"],
                                                ["workflows/bookings/short.py"])


# What starts a thread or a process: a domain module does its work in the caller's request or task.
_STARTERS = {"Thread", "Timer", "ThreadPoolExecutor", "ProcessPoolExecutor", "Process", "Pool", "start_new_thread"}
_STARTING_MODULES = {"concurrent", "multiprocessing", "_thread"}


def _thread_starts(tree: ast.Module) -> list[int]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            names = [alias.name for alias in node.names]
            if any(m.partition(".")[0] in _STARTING_MODULES for m in modules) or set(names) & _STARTERS:
                found.append(node.lineno)
        elif isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in _STARTERS:
                found.append(node.lineno)
    return found


def test_the_domain_starts_no_threads() -> None:
    starts = [f"{path.relative_to(ROOT)}:{line}"
              for path, tree in _modules("workflows") for line in _thread_starts(tree)]
    assert not starts, "the domain works in its caller's thread:\n" + "\n".join(starts)


def test_the_thread_rule_sees_a_planted_thread() -> None:
    assert _thread_starts(ast.parse("import threading\nthreading.Thread(target=print).start()")) == [2]
    assert _thread_starts(ast.parse("from concurrent.futures import ThreadPoolExecutor")) == [1]
    assert _thread_starts(ast.parse("import threading\nlock = threading.Lock()")) == []


# A status or kind spelled in raw SQL: ``status = 'accepted'``, ``kind IN ('group', …)``.
_SQL_LITERAL = re.compile(r"\b(?:status|kind)\s*(?:=|<>|!=|IN\s*\()\s*'[a-z_]+'", re.IGNORECASE)


def _sql_literals(tree: ast.Module) -> list[int]:
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL_LITERAL.search(node.value)]


def test_raw_sql_names_statuses_by_their_enums() -> None:
    spelled = [f"{path.relative_to(ROOT)}:{line}"
               for path, tree in _modules("workflows") for line in _sql_literals(tree)]
    assert not spelled, "bind the enum (infra.sql.statuses):\n" + "\n".join(spelled)


def test_the_sql_rule_sees_a_planted_literal() -> None:
    assert _sql_literals(ast.parse("q = text(\"SELECT 1 FROM b WHERE b.status IN ('draft', 'accepted')\")")) == [1]
    assert _sql_literals(ast.parse("q = statuses('SELECT 1 FROM b WHERE status = :accepted', accepted=A)")) == []


# ---- "who may" in one place --------------------------------------------------------------------------------------
# Whether someone is an administrator, and whether they run a programme, is asked of the access modules only
# (workflows/access.py, the service's; each domain's access.py, its own): routes and domain functions call their
# named rules. An account's stored flag (``User.is_admin``, granted and revoked by the console) is data, not a test.
_WHO_MAY = re.compile(r"\b(?:actor|caller|current_actor\(\))\.is_admin\b|\brun_by\(")


def _who_may_outside_access(root: Path) -> list[str]:
    found = []
    for package in ("api", "workflows", "workers"):
        for path in sorted((root / package).rglob("*.py")):
            if path.name == "access.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if _WHO_MAY.search(line):
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_who_may_is_asked_of_the_access_modules_only() -> None:
    found = _who_may_outside_access(ROOT)
    assert not found, ("call a named rule of the domain's access.py (or workflows/access.py) instead:\n"
                       + "\n".join(found))


def test_the_who_may_rule_sees_a_planted_test(tmp_path: Path) -> None:
    for package in ("api/bookings", "workflows/programmes", "workers"):
        (tmp_path / package).mkdir(parents=True)
    (tmp_path / "api/bookings/routes.py").write_text("if current_actor().is_admin:\n    pass\n")
    (tmp_path / "workflows/programmes/access.py").write_text("def may(actor):\n    return actor.is_admin\n")
    (tmp_path / "workflows/programmes/goals.py").write_text("run_by(db, actor, programme_id, lock=False)\n")
    (tmp_path / "workers/grants.py").write_text("user.is_admin = True\n")
    assert _who_may_outside_access(tmp_path) == [
        "api/bookings/routes.py:1: if current_actor().is_admin:",
        "workflows/programmes/goals.py:1: run_by(db, actor, programme_id, lock=False)"]
