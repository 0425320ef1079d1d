"""Alembic environment: the URL comes from DATABASE_URL; every run has lock and statement timeouts."""

from __future__ import annotations

import re
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool, text

from infra.config import load_migration_settings, sqlalchemy_url
from models import Base

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging_config"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# A migration waiting on a lock held by live traffic would block that traffic behind it:
# give up quickly instead, and never let one statement run away.
_settings = load_migration_settings()
LOCK_TIMEOUT = _settings.lock_timeout
STATEMENT_TIMEOUT = _settings.statement_timeout


NUMBERED_REVISION = re.compile(r"\d{4}")


def next_revision_number(script: ScriptDirectory) -> str:
    """The number after the highest numbered revision: ``0019`` after ``0018``."""
    numbers = [int(rev.revision) for rev in script.walk_revisions() if NUMBERED_REVISION.fullmatch(rev.revision)]
    return f"{max(numbers, default=0) + 1:04d}"


def number_new_revision(_context: MigrationContext, _revision: Any, directives: list[Any]) -> None:
    """``alembic revision`` names the new revision with the next number, unless ``--rev-id`` gives one."""
    for directive in directives:
        if isinstance(directive, ops.MigrationScript) and not NUMBERED_REVISION.fullmatch(directive.rev_id or ""):
            directive.rev_id = next_revision_number(ScriptDirectory.from_config(config))


def database_url() -> str:
    return sqlalchemy_url(config.attributes.get("database_url") or _settings.database_url)


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      compare_server_default=True, process_revision_directives=number_new_revision)
    with context.begin_transaction():
        context.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        context.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
        connection.execute(text(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'"))
        connection.commit()
        context.configure(connection=connection, target_metadata=target_metadata, compare_server_default=True,
                          process_revision_directives=number_new_revision)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
