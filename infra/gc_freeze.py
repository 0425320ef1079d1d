"""Once a server process has started, the objects it built while starting leave the garbage collector's sight.

A process that has imported the app holds a great many long-lived objects (modules, the OpenAPI
spec, schemas, SQLAlchemy's mappers). A full collection walks every one of them, holding the GIL:
every request or task in flight in that process waits (bench/NOTES.md has the figures).
``gc.freeze()`` moves them to the permanent generation, so a full pass walks only what the process
made since, and a process forked after the freeze never writes to the ones it inherited while
collecting. What was already unreachable is collected first; a frozen object that becomes part
of an unreachable cycle later stays in memory.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect what starting left unreachable, then freeze every object left; returns how many are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
