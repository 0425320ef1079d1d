"""Test fixtures: a PostgreSQL database built by Alembic for the run, a savepoint
per test, real Redis (keys under a prefix of this run), real worker processes.

``DATABASE_URL`` and ``REDIS_URL`` name the servers (``make test`` sets them,
starting embedded servers when none is configured). The run creates its own
database on that server and drops only that database at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from alembic import command
from alembic.config import Config
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = uuid.uuid4().hex[:10]
# The server this run was given. pytest-xdist's workers import this module again, with DATABASE_URL
# already naming the first process's database: they read the server from here.
SERVER_URL = os.environ.setdefault(
    "TEST_SERVER_DATABASE_URL", os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
TEST_DB_NAME = f"mentorship_test_{RUN_ID}"
# The run's migrated database, which each test process's database is a copy of: built once by the first process to
# need it (pytest-xdist's workers inherit its name from the first process), dropped by that first process at the end.
TEMPLATE_DB_NAME = os.environ.setdefault("TEST_TEMPLATE_DB", f"mentorship_template_{RUN_ID}")

# Everything this process and its worker subprocesses read from the environment
# is pointed at this run's database and this run's Redis key prefix.
os.environ["DATABASE_URL"] = make_url(SERVER_URL).set(database=TEST_DB_NAME).render_as_string(hide_password=False)
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ["REDIS_KEY_PREFIX"] = f"test-{RUN_ID}:"
os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "test"))
os.environ["APP_ENV"] = "test"
# Passwords hash with argon2's cheapest parameters: the suite registers hundreds of users.
os.environ["PASSWORD_HASH_PROFILE"] = "cheapest"
os.environ["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"
# Live streams end quickly in tests (the fuzzer calls the stream route too); SSE tests set their own.
os.environ["SSE_MAX_SECONDS"] = "0.05"
# Work not done comes back after 2 s rather than 30 s, so recovery tests wait seconds, not minutes;
# test_worker_killed_mid_stream_loses_nothing runs with the default and proves it within a minute.
os.environ["OUTBOX_REDELIVER_SECONDS"] = "2"
# Every process of the run (this one, worker subprocesses) writes Prometheus samples here.
_METRICS_DIR = Path(os.environ["VAR_DIR"]) / f"metrics-{RUN_ID}"
_METRICS_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_METRICS_DIR)
os.environ["METRICS_TOKEN"] = f"metrics-{RUN_ID}"

from infra.config import get_settings, sqlalchemy_url  # noqa: E402
from infra.db import make_engine  # noqa: E402 - the environment above must be set first

# Fixtures and helpers shared by test modules live in these modules (never in a test module: tests/test_layout.py);
# listing them here also has pytest rewrite their asserts.
pytest_plugins = [
    "tests.factories", "tests.mail", "tests.workers_fixtures", "tests.concurrency", "tests.servers",
    "tests.workflow_runs", "tests.webhook_receiver", "tests.webhook_domain", "tests.database", "tests.api_calls",
    "tests.factories.sign_on", "tests.factories.saml_sign_on",
]


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["skip_logging_config"] = True
    return config


def _admin_engine() -> Engine:
    return create_engine(sqlalchemy_url(SERVER_URL), isolation_level="AUTOCOMMIT")


def _template_database(admin: Engine) -> None:
    """The run's migrated template, built by Alembic by whichever test process comes first (the others wait)."""
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), {"name": TEMPLATE_DB_NAME})
        try:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                            {"name": TEMPLATE_DB_NAME}).scalar() is None:
                conn.execute(text(f'CREATE DATABASE "{TEMPLATE_DB_NAME}"'))
                url = make_url(SERVER_URL).set(database=TEMPLATE_DB_NAME).render_as_string(hide_password=False)
                command.upgrade(alembic_config(url), "head")
            # A copy needs the template to itself: made under the lock, one process at a time.
            conn.execute(text(f'CREATE DATABASE "{TEST_DB_NAME}" TEMPLATE "{TEMPLATE_DB_NAME}"'))
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": TEMPLATE_DB_NAME})


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """This process's database: a copy of the run's migrated template, dropped at the end."""
    admin = _admin_engine()
    _template_database(admin)
    url = os.environ["DATABASE_URL"]
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{TEST_DB_NAME}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(_METRICS_DIR, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The first process (xdist's controller, or the only one) drops the run's template once every test is done."""
    if hasattr(session.config, "workerinput"):
        return
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB_NAME}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(sqlalchemy_url(database_url), pool_size=10, application_name="mentorship-tests")
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One outer transaction per test, rolled back at the end."""
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that commit into savepoints of the test's outer transaction."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


# The app of each settings this process has run with, built once (building one takes 0.15 to 0.3 s, and most tests
# call the API): each test binds it to its own sessions. Settings a test changes (``configure``) build another.
_APPS: dict[int, tuple[object, Flask]] = {}


@pytest.fixture
def app(session_factory: sessionmaker[Session]) -> Flask:
    from api import bind_sessions, create_app

    settings = get_settings()
    kept = _APPS.get(id(settings))
    if kept is not None and kept[0] is settings:
        bind_sessions(kept[1], session_factory)
        return kept[1]
    flask_app = create_app(settings, session_factory=session_factory)
    flask_app.testing = True
    _APPS[id(settings)] = (settings, flask_app)
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def configure() -> Iterator[Callable[..., None]]:
    """Run the test with some settings of its own, given as their environment variables
    (``configure(CANCELLATION_FEE_PERCENT="100")``): read, and checked, as the service reads them."""
    before: dict[str, str | None] = {}

    def change(**variables: str) -> None:
        for name, value in variables.items():
            before.setdefault(name, os.environ.get(name))
            os.environ[name] = value
        get_settings.cache_clear()

    yield change
    for name, value in before.items():
        if value is None:
            del os.environ[name]
        else:
            os.environ[name] = value
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    yield client
    # Remove only this run's keys.
    prefix = os.environ["REDIS_KEY_PREFIX"]
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture(autouse=True, scope="session")
def _clean_redis_at_end(redis_client: redis.Redis) -> None:
    """Requesting the client registers its clean-up for every run."""


# The tests that stop or kill Redis, PostgreSQL's connections or workers and measure how soon everything follows:
# one after another on one test process (``xdist_group("recovery")``), never two at once, so one's restarts and
# backlogs never slow the clock of another; they come first, being the longest.
RECOVERY = frozenset({"test_redis_outages.py", "test_workflow_guarantees.py", "test_fanout.py",
                      "test_webhook_fairness.py", "test_handler_batches.py", "test_sign_in_streams.py"})
# The tests of the tooling around the service rather than the service: the whole `make run` stack and the README's
# recipes, compose, devstack, the benchmark's smoke run, the generated client. Marked ``tooling`` (``-m tooling``
# runs them alone, ``-m "not tooling"`` the rest) and run last.
TOOLING = frozenset({"test_readme_recipes.py", "test_compose.py", "test_compose_commands.py", "test_devstack.py",
                     "test_bench_smoke.py", "test_generated_client.py", "test_bare_components.py"})


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in RECOVERY:
            item.add_marker(pytest.mark.xdist_group("recovery"))
        if item.path.name in TOOLING:
            item.add_marker(pytest.mark.tooling)
    items.sort(key=_turn)


def _turn(item: pytest.Item) -> int:
    """The recovery tests first, the tooling tests last, the rest between (their order kept)."""
    if any(mark.args[:1] == ("recovery",) for mark in item.iter_markers("xdist_group")):
        return 0
    return 2 if item.get_closest_marker("tooling") else 1
