"""All configuration, read once from environment variables.

Development defaults are safe to run on a laptop; production refuses to start
without the secrets it needs.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

MIN_SECRET_LENGTH = 32  # HMAC-SHA256 wants a key of at least 256 bits


class ConfigError(RuntimeError):
    """The environment does not describe a runnable service."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _int_at_least(name: str, default: int, least: int) -> int:
    value = _int(name, default)
    if value < least:
        raise ConfigError(f"{name} must be at least {least}, got {value}")
    return value


def _int_between(name: str, default: int, least: int, most: int) -> int:
    value = _int_at_least(name, default, least)
    if value > most:
        raise ConfigError(f"{name} must be at most {most}, got {value}")
    return value


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _float_between(name: str, default: float, least: float, most: float) -> float:
    value = _float(name, default)
    if not least <= value <= most:  # NaN fails both comparisons
        raise ConfigError(f"{name} must be between {least:g} and {most:g}, got {value}")
    return value


def _bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _str(name: str, default: str) -> str:
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else raw


def _origins(name: str) -> tuple[str, ...]:
    """Comma-separated origins (``https://app.example.com``), each scheme://host[:port] with no path."""
    origins = tuple(part.strip().rstrip("/") for part in _str(name, "").split(",") if part.strip())
    for origin in origins:
        scheme, sep, rest = origin.partition("://")
        if scheme not in {"http", "https"} or not sep or not rest or "/" in rest:
            raise ConfigError(f"{name}: {origin!r} is not an origin such as https://app.example.com")
    return origins


def parse_duration(text: str) -> timedelta:
    """Parse ``5s``, ``30m``, ``2h``, ``1d`` (or a plain number of seconds)."""
    text = text.strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if text and text[-1] in units:
            return timedelta(seconds=float(text[:-1]) * units[text[-1]])
        return timedelta(seconds=float(text))
    except ValueError as exc:
        raise ConfigError(f"not a duration: {text!r}") from exc


def _reminder_offsets(text: str) -> tuple[timedelta, ...]:
    """``REMINDER_OFFSETS``: how long before a session its reminders go out, longest first, whole seconds."""
    offsets = {parse_duration(part) for part in text.split(",") if part.strip()}
    if any(offset.total_seconds() < 1 or offset.total_seconds() % 1 for offset in offsets):
        raise ConfigError(f"REMINDER_OFFSETS must be whole seconds of at least 1s, got {text!r}")
    return tuple(sorted(offsets, reverse=True))


def sqlalchemy_url(url: str) -> str:
    """Accept the usual ``postgresql://`` form and pick the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/mentorship"


@dataclass(frozen=True)
class MigrationSettings:
    """What ``alembic`` needs, and no more: a migration job holds no application secret."""

    database_url: str
    lock_timeout: str
    statement_timeout: str


def load_migration_settings() -> MigrationSettings:
    return MigrationSettings(
        database_url=_str("DATABASE_URL", DEFAULT_DATABASE_URL),
        # A migration waiting on a lock held by live traffic would block that traffic behind it.
        lock_timeout=_str("MIGRATION_LOCK_TIMEOUT", "5s"),
        statement_timeout=_str("MIGRATION_STATEMENT_TIMEOUT", "120s"),
    )


@dataclass(frozen=True)
class Settings:
    password_hash_profile: PasswordHashProfile
    var_dir: Path
    database_url: str
    redis_url: str
    redis_key_prefix: str
    jwt_secret_key: str
    access_token_ttl_seconds: int
    refresh_token_ttl_days: int
    max_refresh_tokens_per_user: int
    cors_origins: tuple[str, ...]
    event_ticket_ttl_seconds: int
    api_host: str
    api_port: int
    web_concurrency: int
    api_threads: int
    log_level: str
    log_format: str
    metrics_token: str
    prometheus_multiproc_dir: str
    db_pool_size: int
    db_pool_timeout_seconds: float
    db_lock_timeout_ms: int
    db_idle_in_transaction_ms: int
    auth_rate_limit_per_ip: str
    auth_rate_limit_per_email: str
    auth_rate_limit_success_per_account: str
    password_checks_per_process: int
    trusted_proxies: int
    min_notice_minutes: int
    start_early_minutes: int
    missed_grace_minutes: int
    auto_complete_hours: int
    no_show_grace_minutes: int
    calendar_credentials_keys: tuple[str, ...]
    calendar_sync_interval_seconds: int
    calendar_freshness_seconds: int
    calendar_accept_wait_seconds: float
    calendar_max_bytes: int
    calendar_max_events: int
    calendar_read_cpu_seconds: float
    calendar_syncs_per_mentor: int
    calendar_rate_limit: str
    calendar_horizon_days: int
    no_show_dispute_hours: int
    waitlist_offer_minutes: int
    cancellation_window_hours: int
    cancellation_fee_percent: int
    max_pending_requests_per_mentor: int
    max_pending_requests: int
    max_active_bookings_per_mentor: int | None
    max_reschedules_per_booking: int
    reschedule_request_ttl_hours: int
    meeting_url_template: str
    reminder_offsets: tuple[timedelta, ...]
    reminder_check_seconds: int
    outbox_redeliver_seconds: int
    outbox_redeliver_max_seconds: int
    handler_batch: int
    handler_kick_ttl_seconds: int
    task_soft_time_limit: int
    task_time_limit: int
    webhook_timeout_seconds: float
    webhook_retry_schedule: tuple[timedelta, ...]
    webhook_allow_private_targets: bool
    # Production refuses plain-http URLs the service sends to (webhooks), unless ALLOW_HTTP_TARGETS.
    https_targets_only: bool
    webhook_allow_loopback_targets: bool
    webhook_max_endpoints_per_user: int
    webhook_tests_per_minute: int
    webhook_retries_per_minute: int
    webhook_max_inflight_per_owner: int
    webhook_secret_overlap: timedelta
    smtp_url: str
    smtp_from: str
    public_url: str
    app_env: str
    email_verification_ttl: timedelta
    account_email_rate_limit: str
    sse_max_seconds: float
    sse_max_streams_per_process: int
    sse_max_streams_per_user: int
    sse_first_stream_share_percent: int
    outbox_retention_days: int
    webhook_attempt_retention_days: int
    idempotency_retention_days: int
    notification_retention_days: int
    auth_event_retention_days: int
    retention_batch_size: int
    retention_max_batches: int
    max_content_length: int

    @property
    def sqlalchemy_database_url(self) -> str:
        return sqlalchemy_url(self.database_url)


def _jwt_secret(app_env: str, var_dir: Path) -> str:
    configured = os.environ.get("JWT_SECRET_KEY", "")
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise ConfigError("JWT_SECRET_KEY must be at least 32 characters (HMAC-SHA256 needs 256 bits)")
        return configured
    if app_env == "production":
        raise ConfigError(
            "JWT_SECRET_KEY is not set. With APP_ENV=production the service needs "
            "a signing key from the environment (for example: "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    # Development: one key per checkout, generated on first use, never committed.
    path = var_dir / "jwt_secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_urlsafe(48).encode())
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    return path.read_text().strip()


def _calendar_keys(app_env: str, var_dir: Path) -> tuple[str, ...]:
    """``CALENDAR_CREDENTIALS_KEYS``: Fernet keys, comma-separated, the first encrypting, every one decrypting (a
    rotation adds a new key first, re-encrypts, then drops the old). Unset in production: no calendar can be
    connected. In development: one key per checkout, generated on first use, never committed."""
    configured = tuple(key.strip() for key in os.environ.get("CALENDAR_CREDENTIALS_KEYS", "").split(",") if key.strip())
    if configured or app_env == "production":
        return configured
    path = var_dir / "calendar_credentials_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            return (path.read_text().strip(),)
        try:
            os.write(fd, base64.urlsafe_b64encode(secrets.token_bytes(32)))
        finally:
            os.close(fd)
    return (path.read_text().strip(),)


class PasswordHashProfile(StrEnum):
    STANDARD = "standard"  # argon2id with RFC 9106's low-memory parameters
    CHEAPEST = "cheapest"  # argon2's cheapest parameters: test runs only


def _password_hash_profile(app_env: str) -> PasswordHashProfile:
    raw = _str("PASSWORD_HASH_PROFILE", PasswordHashProfile.STANDARD)
    try:
        profile = PasswordHashProfile(raw)
    except ValueError as exc:
        raise ConfigError(f"PASSWORD_HASH_PROFILE must be standard or cheapest, got {raw!r}") from exc
    if profile is PasswordHashProfile.CHEAPEST and app_env != "test":
        raise ConfigError("PASSWORD_HASH_PROFILE=cheapest is for APP_ENV=test only: it does not protect passwords")
    return profile


def _public_url(url: str) -> str:
    """Where people open the web app (links in emails point there): an http(s) origin, perhaps with a path."""
    if not url.startswith(("https://", "http://")) or any(c in url for c in "?#\"' <>"):
        raise ConfigError(f"PUBLIC_URL must be an http(s) URL without query or fragment, got {url!r}")
    return url.rstrip("/")


def _meeting_url_template(template: str) -> str:
    """``none`` (no default link, stored as ""), or an https URL with ``{room}``: each session's random secret."""
    if template == "none":
        return ""
    if not template.startswith("https://") or "{room}" not in template or "{session_id}" in template:
        raise ConfigError(
            "MEETING_URL_TEMPLATE must be `none` or an https URL containing {room} (a random secret per session) "
            f"and no public id such as {{session_id}}, got {template!r}")
    return template


def _agreeing(settings: Settings) -> Settings:
    """Settings that bound each other: a hard limit above its soft one, a backoff cap above its start."""
    if settings.task_time_limit <= settings.task_soft_time_limit:
        raise ConfigError(f"TASK_TIME_LIMIT ({settings.task_time_limit}) must be above TASK_SOFT_TIME_LIMIT "
                          f"({settings.task_soft_time_limit})")
    if settings.outbox_redeliver_max_seconds < settings.outbox_redeliver_seconds:
        raise ConfigError(f"OUTBOX_REDELIVER_MAX_SECONDS ({settings.outbox_redeliver_max_seconds}) must be at least "
                          f"OUTBOX_REDELIVER_SECONDS ({settings.outbox_redeliver_seconds})")
    return settings


def load_settings() -> Settings:
    app_env = _str("APP_ENV", "development")
    var_dir = Path(_str("VAR_DIR", "var")).resolve()
    schedule = _str("WEBHOOK_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h")
    return _agreeing(Settings(
        password_hash_profile=_password_hash_profile(app_env),
        var_dir=var_dir,
        database_url=_str("DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=_str("REDIS_URL", "redis://127.0.0.1:6379/0"),
        redis_key_prefix=_str("REDIS_KEY_PREFIX", ""),
        jwt_secret_key=_jwt_secret(app_env, var_dir),
        access_token_ttl_seconds=_int_between("ACCESS_TOKEN_TTL_SECONDS", 3600, 60, 86_400),
        refresh_token_ttl_days=_int_at_least("REFRESH_TOKEN_TTL_DAYS", 30, 1),
        # Live sign-ins (refresh token families) per user; at most a page, so GET /me/sign-ins lists them all.
        max_refresh_tokens_per_user=_int_between("MAX_REFRESH_TOKENS_PER_USER", 20, 1, 100),
        cors_origins=_origins("CORS_ORIGINS"),
        event_ticket_ttl_seconds=_int_at_least("EVENT_TICKET_TTL_SECONDS", 60, 1),
        api_host=_str("API_HOST", "127.0.0.1"),
        api_port=_int_between("API_PORT", 8000, 1, 65_535),
        web_concurrency=_int_at_least("WEB_CONCURRENCY", 2, 1),
        api_threads=_int_at_least("API_THREADS", 16, 1),
        log_level=_str("LOG_LEVEL", "INFO").upper(),
        log_format=_str("LOG_FORMAT", "json").lower(),
        metrics_token=_str("METRICS_TOKEN", ""),
        prometheus_multiproc_dir=_str("PROMETHEUS_MULTIPROC_DIR", ""),
        db_pool_size=_int_between("DB_POOL_SIZE", 5, 1, 100),
        # A request waits this long for a connection of the pool, then answers 503 with Retry-After.
        db_pool_timeout_seconds=_float_between("DB_POOL_TIMEOUT", 5.0, 0.5, 60.0),
        # An API statement waits this long for a lock (an accept behind another accept of the mentor's: milliseconds).
        db_lock_timeout_ms=_int_between("DB_LOCK_TIMEOUT_MS", 5000, 100, 60_000),
        # An API transaction left idle this long is ended by the server (a request never waits on anything else
        # inside one: ``api.database.end_transaction``).
        db_idle_in_transaction_ms=_int_between("DB_IDLE_IN_TRANSACTION_MS", 15_000, 1000, 600_000),
        auth_rate_limit_per_ip=_str("AUTH_RATE_LIMIT_PER_IP", "30/minute"),
        auth_rate_limit_per_email=_str("AUTH_RATE_LIMIT_PER_EMAIL", "10/minute"),
        auth_rate_limit_success_per_account=_str("AUTH_RATE_LIMIT_SUCCESS_PER_ACCOUNT", "30/minute"),
        password_checks_per_process=_int_between("PASSWORD_CHECKS_PER_PROCESS", 4, 1, 64),
        trusted_proxies=_int_at_least("TRUSTED_PROXIES", 0, 0),
        min_notice_minutes=_int_between("MIN_NOTICE_MINUTES", 0, 0, 525_600),
        start_early_minutes=_int_between("START_EARLY_MINUTES", 15, 0, 1440),
        missed_grace_minutes=_int_between("MISSED_GRACE_MINUTES", 60, 0, 10_080),
        auto_complete_hours=_int_between("AUTO_COMPLETE_HOURS", 2, 0, 168),
        no_show_grace_minutes=_int_between("NO_SHOW_GRACE_MINUTES", 10, 0, 240),
        calendar_credentials_keys=_calendar_keys(app_env, var_dir),
        calendar_sync_interval_seconds=_int_between("CALENDAR_SYNC_INTERVAL", 300, 10, 86_400),
        calendar_freshness_seconds=_int_between("CALENDAR_FRESHNESS", 120, 0, 86_400),
        calendar_accept_wait_seconds=_float_between("CALENDAR_ACCEPT_WAIT", 3.0, 0.0, 30.0),
        calendar_max_bytes=_int_between("CALENDAR_MAX_BYTES", 8 * 1024 * 1024, 1024, 64 * 1024 * 1024),
        calendar_max_events=_int_between("CALENDAR_MAX_EVENTS", 20_000, 1, 200_000),
        calendar_read_cpu_seconds=_float_between("CALENDAR_READ_CPU_SECONDS", 10.0, 0.5, 120.0),
        calendar_syncs_per_mentor=_int_between("CALENDAR_SYNCS_PER_MENTOR", 1, 1, 10),
        calendar_rate_limit=_str("CALENDAR_RATE_LIMIT", "10/minute"),
        calendar_horizon_days=_int_between("CALENDAR_HORIZON_DAYS", 180, 1, 730),
        no_show_dispute_hours=_int_between("NO_SHOW_DISPUTE_HOURS", 48, 1, 720),
        waitlist_offer_minutes=_int_between("WAITLIST_OFFER_MINUTES", 120, 1, 10_080),
        cancellation_window_hours=_int_between("CANCELLATION_WINDOW_HOURS", 24, 0, 8760),
        cancellation_fee_percent=_int_between("CANCELLATION_FEE_PERCENT", 50, 0, 100),
        max_pending_requests_per_mentor=_int_at_least("MAX_PENDING_REQUESTS_PER_MENTOR", 3, 1),
        max_pending_requests=_int_at_least("MAX_PENDING_REQUESTS", 20, 1),
        # 0: no limit (a listing may still set its own).
        max_active_bookings_per_mentor=_int_between("MAX_ACTIVE_BOOKINGS_PER_MENTOR", 0, 0, 1000) or None,
        max_reschedules_per_booking=_int_between("MAX_RESCHEDULES_PER_BOOKING", 2, 0, 20),
        reschedule_request_ttl_hours=_int_between("RESCHEDULE_REQUEST_TTL_HOURS", 48, 1, 720),
        meeting_url_template=_meeting_url_template(_str("MEETING_URL_TEMPLATE", "https://meet.jit.si/mentorship-{room}")),
        reminder_offsets=_reminder_offsets(_str("REMINDER_OFFSETS", "24h,1h")),
        reminder_check_seconds=_int_at_least("REMINDER_CHECK_SECONDS", 30, 1),
        outbox_redeliver_seconds=_int_between("OUTBOX_REDELIVER_SECONDS", 30, 1, 3600),
        outbox_redeliver_max_seconds=_int_between("OUTBOX_REDELIVER_MAX_SECONDS", 600, 1, 86_400),
        # Outbox rows one handler task claims and does per transaction.
        handler_batch=_int_at_least("HANDLER_BATCH", 100, 1),
        # How long a handler's kick, queued or running, stops further kicks, should its message or worker be lost.
        handler_kick_ttl_seconds=_int_at_least("HANDLER_KICK_TTL_SECONDS", 15, 1),
        task_soft_time_limit=_int_between("TASK_SOFT_TIME_LIMIT", 60, 1, 3600),
        task_time_limit=_int_between("TASK_TIME_LIMIT", 90, 2, 7200),
        webhook_timeout_seconds=_float_between("WEBHOOK_TIMEOUT_SECONDS", 15.0, 1, 60),
        webhook_retry_schedule=tuple(parse_duration(p) for p in schedule.split(",") if p.strip()),
        webhook_allow_private_targets=_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False),
        https_targets_only=app_env == "production" and not _bool("ALLOW_HTTP_TARGETS", default=False),
        webhook_allow_loopback_targets=_bool("WEBHOOK_ALLOW_LOOPBACK_TARGETS", default=False),
        webhook_max_endpoints_per_user=_int_between("WEBHOOK_MAX_ENDPOINTS_PER_USER", 20, 1, 1000),
        webhook_tests_per_minute=_int_between("WEBHOOK_TESTS_PER_MINUTE", 5, 1, 60),
        webhook_retries_per_minute=_int_at_least("WEBHOOK_RETRIES_PER_MINUTE", 5, 0),
        # Batches of one owner's endpoints in flight at once, across every worker process.
        webhook_max_inflight_per_owner=_int_at_least("WEBHOOK_MAX_INFLIGHT_PER_OWNER", 2, 1),
        webhook_secret_overlap=parse_duration(_str("WEBHOOK_SECRET_OVERLAP", "24h")),
        smtp_url=_str("SMTP_URL", ""),
        smtp_from=_str("SMTP_FROM", "Mentorship <no-reply@localhost>"),
        public_url=_public_url(_str("PUBLIC_URL", f"http://127.0.0.1:{_int('API_PORT', 8000)}")),
        app_env=app_env,
        email_verification_ttl=parse_duration(_str("EMAIL_VERIFICATION_TTL", "48h")),
        account_email_rate_limit=_str("ACCOUNT_EMAIL_RATE_LIMIT", "5/hour"),
        sse_max_seconds=_float_between("SSE_MAX_SECONDS", 300.0, 0.01, 3600),
        sse_max_streams_per_process=_int_between("SSE_MAX_STREAMS_PER_PROCESS", 8, 1, 1000),
        sse_max_streams_per_user=_int_at_least("SSE_MAX_STREAMS_PER_USER", 3, 1),
        # The part of each process's streams only a user holding none anywhere may take.
        sse_first_stream_share_percent=_int_between("SSE_FIRST_STREAM_SHARE_PERCENT", 50, 0, 100),
        outbox_retention_days=_int_at_least("OUTBOX_RETENTION_DAYS", 30, 1),
        webhook_attempt_retention_days=_int_at_least("WEBHOOK_ATTEMPT_RETENTION_DAYS", 30, 1),
        idempotency_retention_days=_int_at_least("IDEMPOTENCY_RETENTION_DAYS", 1, 1),
        notification_retention_days=_int_at_least("NOTIFICATION_RETENTION_DAYS", 90, 1),
        auth_event_retention_days=_int_at_least("AUTH_EVENT_RETENTION_DAYS", 90, 1),
        retention_batch_size=_int_at_least("RETENTION_BATCH_SIZE", 1000, 1),
        retention_max_batches=_int_at_least("RETENTION_MAX_BATCHES", 20, 1),
        max_content_length=_int_between("MAX_CONTENT_LENGTH", 1024 * 1024, 1024, 100 * 1024 * 1024),
    ))


@cache
def get_settings() -> Settings:
    return load_settings()
