"""The Flask API: ``gunicorn "api:create_app()"``."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import flask_swagger_ui
import redis
import structlog
from celery import Celery
from flask import Flask, Response, g, request, send_from_directory
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from api.cli import init_cli
from api.common.bodies import init_request_bodies
from api.common.docs import add_deprecation_headers
from api.common.headers import init_security_headers
from api.common.openapi import NamedQueryEnums, document_webhooks, service_version
from api.cors import init_cors
from api.database import UnitOfWorkFlask, init_database, use_session_factory
from api.errors import ServiceApi, init_errors
from api.live.slots import ProcessSlots
from api.metrics import UNMATCHED_ROUTE, init_metrics, observe_request
from api.ratelimit import init_rate_limits
from infra.celery_config import create_celery
from infra.config import Settings, get_settings
from infra.db import make_engine, make_session_factory
from infra.logs import configure_logging
from outbox.publisher import install_publisher
from workflows import handlers
from workflows.live import frames as live

handlers.declare()  # this process records each event's handler rows
_access_log = structlog.get_logger("api.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Every response: never sniff a type other than the one declared, never render inside a frame.
_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}
# Swagger UI 5 (OpenAPI 3.1), as the flask-swagger-ui wheel ships it: the page is flask-smorest's.
_SWAGGER_ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"


def _openapi_config() -> dict[str, Any]:
    return {
        "API_TITLE": "Mentorship booking API",
        "API_VERSION": service_version(),
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Swagger UI is served from the installed flask-swagger-ui wheel, so the docs work offline.
        "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
        "API_SPEC_OPTIONS": {
            "info": {
                "description": (
                    "Book one-to-one and group mentorship sessions. Send `Authorization: Bearer <token>` "
                    "(from `POST /api/v1/auth/token`) on every route except auth, health and docs. "
                    "Errors use the body `{code, status, message, errors}`."
                )
            },
            "security": [{"bearerAuth": []}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                    # /scim/v2: an organisation's provider, with the SCIM token an admin issued it.
                    "scimBearer": {"type": "http", "scheme": "bearer",
                                   "description": "A provider's SCIM token (admin console, Sign-on)."},
                }
            },
        },
    }


def _request_id() -> None:
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
    g.started = time.perf_counter()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


def _echo_request_id(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id") or ""
    response.headers.update(_SECURITY_HEADERS)
    route = request.url_rule.rule if request.url_rule else UNMATCHED_ROUTE
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    _access_log.info("request", method=request.method, route=route, status=response.status_code,
                     duration_ms=round(elapsed * 1000, 2))
    observe_request(request.method, route, response.status_code, elapsed)
    return response


def _register_blueprints(api: ServiceApi) -> None:
    """Every route of the API, in the OpenAPI document's order."""
    from api.accounts import passwords  # noqa: F401, PLC0415 - its routes join the auth blueprint
    from api.accounts import second_steps as _second_step_routes  # noqa: F401, PLC0415 - on auth_blp, me_blp, admin_blp
    from api.accounts.routes import blp as auth_blp  # noqa: PLC0415
    from api.accounts.routes import me_blp  # noqa: PLC0415
    from api.accounts.telling import blp as notification_preferences_blp  # noqa: PLC0415
    from api.accounts.telling import unsubscribe_blp  # noqa: PLC0415
    from api.bookings.bundles import blp as bundles_blp  # noqa: PLC0415
    from api.bookings.links import blp as booking_links_blp  # noqa: PLC0415
    from api.bookings.reschedules import blp as reschedules_blp  # noqa: PLC0415
    from api.bookings.routes import blp as bookings_blp  # noqa: PLC0415
    from api.bookings.series import blp as booking_series_blp  # noqa: PLC0415
    from api.calendars.connections import blp as calendar_connections_blp  # noqa: PLC0415
    from api.calendars.routes import blp as calendar_blp  # noqa: PLC0415
    from api.conversations.announcements import blp as announcements_blp  # noqa: PLC0415
    from api.conversations.reports import blp as conversation_reports_blp  # noqa: PLC0415 - and conversations_blp's
    from api.conversations.routes import blp as conversations_blp  # noqa: PLC0415
    from api.health.routes import blp as health_blp  # noqa: PLC0415
    from api.live.routes import blp as live_blp  # noqa: PLC0415
    from api.matching import preferences as _preference_routes  # noqa: F401, PLC0415 - its routes, on programmes_blp
    from api.matching import routes as _matching_routes  # noqa: F401, PLC0415 - its routes, on programmes_blp
    from api.mentors.listings import blp as listings_blp  # noqa: PLC0415
    from api.mentors.routes import blp as mentors_blp  # noqa: PLC0415
    from api.mentors.teams import blp as teams_blp  # noqa: PLC0415
    from api.notifications.routes import blp as notifications_blp  # noqa: PLC0415
    from api.operations.routes import blp as admin_blp  # noqa: PLC0415
    from api.programmes import goals, intake, nudges, pairings, plans  # noqa: F401, PLC0415 - on programmes_blp (+ sessions_blp)
    from api.programmes.coordinators import blp as coordinator_invitations_blp  # noqa: PLC0415 - and admin_blp's
    from api.programmes.enrolment import invitations_blp as programme_invitations_blp  # noqa: PLC0415
    from api.programmes.enrolment import join_links_blp as programme_join_links_blp  # noqa: PLC0415
    from api.programmes.resources import blp as resources_blp  # noqa: PLC0415 - and programmes_blp's
    from api.programmes.routes import blp as programmes_blp  # noqa: PLC0415
    from api.public.routes import blp as public_blp  # noqa: PLC0415
    from api.reports import exports as _export_routes  # noqa: F401, PLC0415 - its routes, on programmes_blp
    from api.reports import routes as _report_routes  # noqa: F401, PLC0415 - its routes, on programmes_blp
    from api.sessions.group import blp as group_sessions_blp  # noqa: PLC0415
    from api.sessions.reviews import blp as reviews_blp  # noqa: PLC0415
    from api.sessions.routes import blp as sessions_blp  # noqa: PLC0415
    from api.sign_on import providers as _provider_routes  # noqa: F401, PLC0415 - its routes, on admin_blp
    from api.sign_on import scim_groups as _scim_group_routes  # noqa: F401, PLC0415 - its routes, on scim_blp
    from api.sign_on import scim_users as _scim_user_routes  # noqa: F401, PLC0415 - its routes, on scim_blp
    from api.sign_on import second_step_rule as _rule_routes  # noqa: F401, PLC0415 - its routes, on admin_blp
    from api.sign_on.routes import blp as sign_on_blp  # noqa: PLC0415
    from api.sign_on.saml import blp as sign_on_saml_blp  # noqa: PLC0415
    from api.sign_on.scim import blp as scim_blp  # noqa: PLC0415
    from api.waiting.routes import blp as waiting_blp  # noqa: PLC0415
    from api.webhooks.routes import blp as webhooks_blp  # noqa: PLC0415

    for blueprint in (health_blp, auth_blp, me_blp, mentors_blp, listings_blp, bookings_blp, booking_series_blp,
                      sessions_blp,
                      group_sessions_blp, reviews_blp, notifications_blp, webhooks_blp, bundles_blp, live_blp,
                      admin_blp, calendar_blp, teams_blp, reschedules_blp, calendar_connections_blp, waiting_blp,
                      booking_links_blp, public_blp, programmes_blp, programme_invitations_blp, sign_on_blp,
                      sign_on_saml_blp, scim_blp,
                      coordinator_invitations_blp, programme_join_links_blp, conversations_blp,
                      announcements_blp, conversation_reports_blp, notification_preferences_blp, unsubscribe_blp,
                      resources_blp):
        api.register_blueprint(blueprint)


def bind_sessions(app: Flask, session_factory: sessionmaker[Session]) -> None:
    """Open the app's requests' sessions from ``session_factory``, whose commits publish the work and the live
    events they owe."""
    use_session_factory(app, session_factory)
    celery_app: Celery = app.extensions["celery"]
    install_publisher(session_factory, lambda: celery_app, live.publish_committed)


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    celery_app: Celery | None = None,
) -> Flask:
    settings = settings or get_settings()
    configure_logging()
    app = UnitOfWorkFlask(__name__)
    if settings.trusted_proxies:
        # Only then are X-Forwarded-For and -Proto believed: the entry that many hops from the right is the
        # client, and its scheme (https makes the refresh cookie Secure, and links https).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)
    app.config.update(_openapi_config())
    app.json.sort_keys = False  # type: ignore[attr-defined]

    if session_factory is None:
        engine = make_engine(settings.sqlalchemy_database_url, pool_size=settings.db_pool_size,
                             application_name="mentorship-api", lock_timeout_ms=settings.db_lock_timeout_ms,
                             idle_in_transaction_ms=settings.db_idle_in_transaction_ms,
                             pool_timeout=settings.db_pool_timeout_seconds)
        session_factory = make_session_factory(engine)
    if celery_app is None:
        celery_app = create_celery(settings, publisher=True)
    app.extensions["celery"] = celery_app
    app.extensions["settings"] = settings
    app.extensions["sse_gate"] = ProcessSlots.for_settings(settings)
    # The API's Redis client: the readiness check, and the live stream's subscriptions and slots.
    app.extensions["redis"] = redis.Redis.from_url(
        settings.redis_url, socket_connect_timeout=1, socket_timeout=1
    )

    app.before_request(_request_id)
    init_cors(app, settings)
    init_request_bodies(app, settings)
    init_database(app)
    bind_sessions(app, session_factory)
    init_rate_limits(app, settings)
    app.after_request(_echo_request_id)
    app.after_request(add_deprecation_headers)
    init_security_headers(app, settings)

    api = ServiceApi(app, spec_kwargs={"extra_plugins": [NamedQueryEnums()]})
    init_errors(app, api)
    init_metrics(app)
    init_cli(app)

    _register_blueprints(api)
    document_webhooks(api.spec)
    from api.webapp.public_pages import blp as public_pages_blp  # noqa: PLC0415
    from api.webapp.routes import blp as webapp_blp  # noqa: PLC0415
    from api.webapp.unsubscribe import blp as unsubscribe_page_blp  # noqa: PLC0415

    app.register_blueprint(webapp_blp)  # the browser app, outside the OpenAPI document
    app.register_blueprint(public_pages_blp)  # the pages visitors see, rendered here
    app.register_blueprint(unsubscribe_page_blp)  # an email's unsubscribe link, without the web app

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_assets(filename: str) -> Response:
        return send_from_directory(_SWAGGER_ASSETS, filename)

    return app
