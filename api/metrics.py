"""``/metrics`` for Prometheus: HTTP traffic, outbox backlog, and the workers' own metrics.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``make run`` and compose set it), every
process writes its samples there (gunicorn workers, Celery pool children), and
this endpoint aggregates them all. Outbox figures are read from the database at
scrape time. Access needs ``Authorization: Bearer $METRICS_TOKEN`` or an admin's
token.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

import infra.metrics  # noqa: F401 - names metric files by host and pid before these metrics exist
from api.errors import http_error
from api.security import require_login
from outbox.relay import outbox_status
from workflows import access

REQUESTS = Counter("http_requests_total", "HTTP requests by route and status", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency by route", ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Any token is a valid HTTP method: the others share one label, so a client cannot mint series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
UNMATCHED_ROUTE = "unmatched"


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one request; ``route`` is the matched URL rule or ``UNMATCHED_ROUTE``, never the raw path."""
    method = method if method in KNOWN_METHODS else OTHER_METHOD
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


class OutboxCollector(Collector):
    """Work not done yet, read from the outbox at scrape time."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._factory() as db:
            status = outbox_status(db)  # one query, grouped by handler
        now = datetime.now(UTC)

        def age(since: datetime | None) -> float:
            return max((now - since).total_seconds(), 0.0) if since else 0.0

        yield GaugeMetricFamily("outbox_pending_handlers", "Outbox handler rows not done yet", value=status.pending)
        yield GaugeMetricFamily("outbox_oldest_pending_age_seconds", "Age of the oldest event with work not done",
                                value=age(status.oldest_pending_at))
        lag = GaugeMetricFamily("handler_lag_seconds", "Age of the oldest event a handler has not done yet (0: none)",
                                labels=["handler"])
        for backlog in status.handlers:
            lag.add_metric([backlog.handler], age(backlog.oldest_pending_at))
        yield lag


def _authorised() -> bool:
    token = current_app.extensions["settings"].metrics_token
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and supplied and hmac.compare_digest(token.encode(), supplied.encode()):
        return True
    require_login()  # raises 401 without a valid user token
    from api.security import current_actor  # noqa: PLC0415

    return access.is_admin(current_actor())


def metrics() -> Response:
    if not _authorised():
        raise http_error(403, "metrics are for operators: use METRICS_TOKEN or an admin's token")
    registry: CollectorRegistry
    if current_app.extensions["settings"].prometheus_multiproc_dir:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    scrape = CollectorRegistry()
    scrape.register(OutboxCollector(current_app.extensions["db_session_factory"]))
    body = generate_latest(registry) + generate_latest(scrape)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def init_metrics(app: Flask) -> None:
    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
