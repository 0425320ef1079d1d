"""Gunicorn settings, read by a plain ``gunicorn "api:create_app()"`` from the project root.

``gthread`` workers: a long-lived event stream occupies one thread, never a whole
process (see api/events/routes.py). ``child_exit`` tells the Prometheus
multiprocess collector that a worker's metric files are final.
"""

import os

from prometheus_client import multiprocess

from workers.metrics import process_identity

bind = f"{os.environ.get('API_HOST', '127.0.0.1')}:{os.environ.get('API_PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("API_THREADS", "16"))
# Request lines are logged by the app itself, as JSON with the request id.
accesslog = None


def child_exit(_server: object, worker: object) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(process_identity(worker.pid))  # type: ignore[attr-defined]
