"""``alembic revision`` names a new revision with the next number, so nobody has to look one up."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.conftest import ROOT, alembic_config


def _config_on_a_copy(tmp_path: Path, database_url: str) -> tuple[Config, Path]:
    migrations = tmp_path / "migrations"
    shutil.copytree(ROOT / "migrations", migrations, ignore=shutil.ignore_patterns("__pycache__"))
    config = alembic_config(database_url)
    config.set_main_option("script_location", str(migrations))
    return config, migrations / "versions"


def test_a_new_revision_takes_the_number_after_the_head(tmp_path: Path, database_url: str) -> None:
    config, versions = _config_on_a_copy(tmp_path, database_url)
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None and re.fullmatch(r"\d{4}", head)
    expected = f"{int(head) + 1:04d}"

    before = set(versions.iterdir())
    command.revision(config, message="add a column", autogenerate=True)
    (written,) = set(versions.iterdir()) - before
    assert f"_{expected}_add_a_column" in written.name
    text = written.read_text()
    assert f"revision: str = '{expected}'" in text and f"down_revision: str | None = '{head}'" in text

    command.revision(config, message="move some data")  # no autogenerate: numbered all the same
    assert ScriptDirectory.from_config(config).get_current_head() == f"{int(expected) + 1:04d}"


def test_a_revision_id_given_on_the_command_line_is_kept(tmp_path: Path, database_url: str) -> None:
    config, _versions = _config_on_a_copy(tmp_path, database_url)
    command.revision(config, message="chosen", rev_id="0500")
    assert ScriptDirectory.from_config(config).get_current_head() == "0500"
