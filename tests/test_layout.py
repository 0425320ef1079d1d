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
