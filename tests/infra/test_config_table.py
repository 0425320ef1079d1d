"""The configuration table (docs/configuration.md) names every environment variable the code reads, and no other.

The reads are found in the source: infra/environment.py's reading helpers (any module-level function
whose first parameter is ``name``), ``os.environ`` / ``os.getenv``, and mappings called ``env`` or
``environ`` in devstack/; in the Procfile and the Makefile, shell expansions ``${NAME:-default}``.
bench/ and tests/ are not covered (see docs/configuration.md).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON_SOURCES = ("infra/config.py", "infra/environment.py", "devstack")
# Where the reading helpers are defined (any module-level function whose first parameter is ``name``).
READING_HELPERS = ROOT / "infra" / "environment.py"
SHELL_SOURCES = ("Procfile", "Makefile")
NOT_CONFIGURATION = {"PATH"}  # the venv's bin directory is put in front of it, not a setting
ENV_MAPPINGS = {"env", "environ"}
NAME = re.compile(r"[A-Z][A-Z0-9_]+")
SHELL_READ = re.compile(r"\$\{([A-Z][A-Z0-9_]+)[:}-]")


def _python_files() -> list[Path]:
    files: list[Path] = []
    for source in PYTHON_SOURCES:
        path = ROOT / source
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def _readers(tree: ast.Module) -> set[str]:
    """Module-level helpers that read the variable named by their first parameter (``_int(name, …)``)."""
    return {
        node.name for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.args.args and node.args.args[0].arg == "name"
    }


def _is_environ(node: ast.expr) -> bool:
    """``os.environ``, or a mapping named ``env`` / ``environ``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id in ENV_MAPPINGS


def _reads_environment(func: ast.expr, readers: set[str]) -> bool:
    """A call whose first argument names a variable: a reading helper, ``….get`` on the environment, ``os.getenv``."""
    if isinstance(func, ast.Name):
        return func.id in readers
    if isinstance(func, ast.Attribute):
        return (func.attr == "get" and _is_environ(func.value)) or func.attr == "getenv"
    return False


def _constant(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _reads_in(tree: ast.Module) -> set[str]:
    readers = _readers(tree) | _readers(ast.parse(READING_HELPERS.read_text()))
    names: set[str] = set()
    for node in ast.walk(tree):
        key: str | None = None
        if isinstance(node, ast.Call) and node.args and _reads_environment(node.func, readers):
            key = _constant(node.args[0])
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_environ(node.value):
            key = _constant(node.slice)
        if key is not None and NAME.fullmatch(key) and key not in NOT_CONFIGURATION:
            names.add(key)
    return names


def code_reads() -> dict[str, set[str]]:
    """Variable -> the files (relative to the root) that read it."""
    reads: dict[str, set[str]] = defaultdict(set)
    for path in _python_files():
        for name in _reads_in(ast.parse(path.read_text(), filename=str(path))):
            reads[name].add(path.relative_to(ROOT).as_posix())
    for source in SHELL_SOURCES:
        for name in SHELL_READ.findall((ROOT / source).read_text()):
            if name not in NOT_CONFIGURATION:
                reads[name].add(source)
    return dict(reads)


def configuration_table() -> dict[str, set[str]]:
    """Variable -> the files its row says read it, from docs/configuration.md's table.

    A row is ``| `NAME` | default | `file`, `file` | meaning |``: one variable per row.
    """
    section = (ROOT / "docs" / "configuration.md").read_text()
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or not NAME.fullmatch(cells[0].strip("`")):
            continue
        name = cells[0].strip("`")
        assert name not in rows, f"{name} has two rows in docs/configuration.md's table"
        rows[name] = set(re.findall(r"`([^`]+)`", cells[2]))
    return rows


def test_the_table_has_a_row_for_every_variable_the_code_reads() -> None:
    missing = sorted(set(code_reads()) - set(configuration_table()))
    assert not missing, f"read by the code but not in docs/configuration.md's table: {missing}"


def test_every_row_of_the_table_is_read_by_the_code() -> None:
    unread = sorted(set(configuration_table()) - set(code_reads()))
    assert not unread, f"in docs/configuration.md's table but read nowhere: {unread}"


@pytest.mark.parametrize("name", sorted(code_reads()))
def test_each_row_names_the_files_that_read_its_variable(name: str) -> None:
    table = configuration_table()
    if name in table:
        assert table[name] == code_reads()[name], f"{name}: the table says {sorted(table[name])}"


def test_the_scanner_finds_reads_of_each_kind() -> None:
    tree = ast.parse(
        "import os\n"
        "def _int(name, default): ...\n"
        "_int('ONE', 1)\nos.environ.get('TWO')\nos.environ['THREE']\nos.getenv('FOUR')\n"
        "env.get('FIVE')\nenviron['SIX']\nother.get('SEVEN')\nenv['EIGHT'] = '8'\n"
    )
    assert _reads_in(tree) == {"ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX"}
