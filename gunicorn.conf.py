"""Gunicorn settings, read by a plain ``gunicorn "api:create_app()"`` from the project root.

``gthread`` workers: a long-lived event stream occupies one thread, never a whole
process (see api/live/routes.py). Each worker tells the arbiter it is alive by
touching a file on every turn of its loop: on a disk's file system that write can
wait for the journal, so the file lives in memory (``/dev/shm``) where there is
one, as gunicorn's documentation advises. ``post_worker_init`` takes the loaded
app out of the garbage collector's full passes (infra/gc_freeze.py). ``child_exit``
tells the Prometheus multiprocess collector that a worker's metric files are final.
"""

from pathlib import Path

from infra.config import get_settings
from infra.gc_freeze import freeze_startup_objects
from infra.metrics import mark_process_dead

_settings = get_settings()
bind = f"{_settings.api_host}:{_settings.api_port}"
workers = _settings.web_concurrency
worker_class = "gthread"
threads = _settings.api_threads
# Request lines are logged by the app itself, as JSON with the request id.
accesslog = None
# gunicorn makes its file there with mkstemp and unlinks it at once: no name to guess or reuse.
_IN_MEMORY = Path("/dev/shm")  # noqa: S108
if _IN_MEMORY.is_dir():
    worker_tmp_dir = str(_IN_MEMORY)


def post_worker_init(_worker: object) -> None:
    freeze_startup_objects()


def child_exit(_server: object, worker: object) -> None:
    mark_process_dead(worker.pid)  # type: ignore[attr-defined]
