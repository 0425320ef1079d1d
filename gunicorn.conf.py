"""Gunicorn settings, read by a plain ``gunicorn "api:create_app()"`` from the project root.

``gthread`` workers: a long-lived event stream occupies one thread, never a whole
process (see api/events/routes.py). ``child_exit`` tells the Prometheus
multiprocess collector that a worker's metric files are final.
"""

from infra.config import get_settings
from infra.metrics import mark_process_dead

_settings = get_settings()
bind = f"{_settings.api_host}:{_settings.api_port}"
workers = _settings.web_concurrency
worker_class = "gthread"
threads = _settings.api_threads
# Request lines are logged by the app itself, as JSON with the request id.
accesslog = None


def child_exit(_server: object, worker: object) -> None:
    mark_process_dead(worker.pid)  # type: ignore[attr-defined]
