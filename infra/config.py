"""All configuration, read once from environment variables.

Development defaults are safe to run on a laptop; production refuses to start
without the secrets it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path

from infra.environment import (
    ConfigError,
    PasswordHashProfile,
    credentials_keys,
    flag,
    integer,
    integer_at_least,
    integer_between,
    jwt_secret,
    meeting_url_template_of,
    number_between,
    origins,
    parse_duration,
    password_hash_profile,
    public_url_of,
    reminder_offsets,
    text,
)


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
        database_url=text("DATABASE_URL", DEFAULT_DATABASE_URL),
        # A migration waiting on a lock held by live traffic would block that traffic behind it.
        lock_timeout=text("MIGRATION_LOCK_TIMEOUT", "5s"),
        statement_timeout=text("MIGRATION_STATEMENT_TIMEOUT", "120s"),
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
    credentials_keys: tuple[str, ...]
    calendar_sync_interval_seconds: int
    calendar_freshness_seconds: int
    calendar_accept_wait_seconds: float
    calendar_max_bytes: int
    calendar_max_events: int
    calendar_read_cpu_seconds: float
    calendar_syncs_per_mentor: int
    calendar_rate_limit: str
    public_rate_limit: str
    message_rate_limit: str
    conversation_rate_limit: str
    message_email_delay_seconds: int
    sign_on_rate_limit: str
    scim_rate_limit: str
    second_step_rate_limit: str
    sign_on_start_wait_seconds: float
    max_invitations: int
    calendar_horizon_days: int
    no_show_dispute_hours: int
    waitlist_offer_minutes: int
    cancellation_window_hours: int
    cancellation_fee_percent: int
    max_pending_requests_per_mentor: int
    max_pending_requests: int
    max_active_bookings_per_mentor: int | None
    max_instant_bookings_per_mentor: int
    max_reschedules_per_booking: int
    reschedule_request_ttl_hours: int
    meeting_url_template: str
    reminder_offsets: tuple[timedelta, ...]
    reminder_check_seconds: int
    outbox_redeliver_seconds: int
    outbox_redeliver_max_seconds: int
    handler_batch: int
    handler_kick_ttl_seconds: int
    handler_linger_ms: int
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
    programme_invitations_per_hour: int
    match_run_seconds: int
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
    app_env = text("APP_ENV", "development")
    var_dir = Path(text("VAR_DIR", "var")).resolve()
    schedule = text("WEBHOOK_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h")
    return _agreeing(Settings(
        password_hash_profile=password_hash_profile(app_env),
        var_dir=var_dir,
        database_url=text("DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=text("REDIS_URL", "redis://127.0.0.1:6379/0"),
        redis_key_prefix=text("REDIS_KEY_PREFIX", ""),
        jwt_secret_key=jwt_secret(app_env, var_dir),
        access_token_ttl_seconds=integer_between("ACCESS_TOKEN_TTL_SECONDS", 3600, 60, 86_400),
        refresh_token_ttl_days=integer_at_least("REFRESH_TOKEN_TTL_DAYS", 30, 1),
        # Live sign-ins (refresh token families) per user; at most a page, so GET /me/sign-ins lists them all.
        max_refresh_tokens_per_user=integer_between("MAX_REFRESH_TOKENS_PER_USER", 20, 1, 100),
        cors_origins=origins("CORS_ORIGINS"),
        event_ticket_ttl_seconds=integer_at_least("EVENT_TICKET_TTL_SECONDS", 60, 1),
        api_host=text("API_HOST", "127.0.0.1"),
        api_port=integer_between("API_PORT", 8000, 1, 65_535),
        web_concurrency=integer_at_least("WEB_CONCURRENCY", 2, 1),
        api_threads=integer_at_least("API_THREADS", 16, 1),
        log_level=text("LOG_LEVEL", "INFO").upper(),
        log_format=text("LOG_FORMAT", "json").lower(),
        metrics_token=text("METRICS_TOKEN", ""),
        prometheus_multiproc_dir=text("PROMETHEUS_MULTIPROC_DIR", ""),
        db_pool_size=integer_between("DB_POOL_SIZE", 5, 1, 100),
        # A request waits this long for a connection of the pool, then answers 503 with Retry-After.
        db_pool_timeout_seconds=number_between("DB_POOL_TIMEOUT", 5.0, 0.5, 60.0),
        # An API statement waits this long for a lock (an accept behind another accept of the mentor's: milliseconds).
        db_lock_timeout_ms=integer_between("DB_LOCK_TIMEOUT_MS", 5000, 100, 60_000),
        # An API transaction left idle this long is ended by the server (a request never waits on anything else
        # inside one: ``api.database.end_transaction``).
        db_idle_in_transaction_ms=integer_between("DB_IDLE_IN_TRANSACTION_MS", 15_000, 1000, 600_000),
        auth_rate_limit_per_ip=text("AUTH_RATE_LIMIT_PER_IP", "30/minute"),
        auth_rate_limit_per_email=text("AUTH_RATE_LIMIT_PER_EMAIL", "10/minute"),
        auth_rate_limit_success_per_account=text("AUTH_RATE_LIMIT_SUCCESS_PER_ACCOUNT", "30/minute"),
        password_checks_per_process=integer_between("PASSWORD_CHECKS_PER_PROCESS", 4, 1, 64),
        trusted_proxies=integer_at_least("TRUSTED_PROXIES", 0, 0),
        min_notice_minutes=integer_between("MIN_NOTICE_MINUTES", 0, 0, 525_600),
        start_early_minutes=integer_between("START_EARLY_MINUTES", 15, 0, 1440),
        missed_grace_minutes=integer_between("MISSED_GRACE_MINUTES", 60, 0, 10_080),
        auto_complete_hours=integer_between("AUTO_COMPLETE_HOURS", 2, 0, 168),
        no_show_grace_minutes=integer_between("NO_SHOW_GRACE_MINUTES", 10, 0, 240),
        credentials_keys=credentials_keys(app_env, var_dir),
        calendar_sync_interval_seconds=integer_between("CALENDAR_SYNC_INTERVAL", 300, 10, 86_400),
        calendar_freshness_seconds=integer_between("CALENDAR_FRESHNESS", 120, 0, 86_400),
        calendar_accept_wait_seconds=number_between("CALENDAR_ACCEPT_WAIT", 3.0, 0.0, 30.0),
        calendar_max_bytes=integer_between("CALENDAR_MAX_BYTES", 8 * 1024 * 1024, 1024, 64 * 1024 * 1024),
        calendar_max_events=integer_between("CALENDAR_MAX_EVENTS", 20_000, 1, 200_000),
        calendar_read_cpu_seconds=number_between("CALENDAR_READ_CPU_SECONDS", 10.0, 0.5, 120.0),
        calendar_syncs_per_mentor=integer_between("CALENDAR_SYNCS_PER_MENTOR", 1, 1, 10),
        calendar_rate_limit=text("CALENDAR_RATE_LIMIT", "10/minute"),
        public_rate_limit=text("PUBLIC_RATE_LIMIT", "120/minute"),
        # Messages a person writes: a burst of a chat, not a flood (each limit applies; ";" separates them).
        message_rate_limit=text("MESSAGE_RATE_LIMIT", "20/minute;200/hour"),
        # Messages one conversation takes from all its people together (a group session's of many, say).
        conversation_rate_limit=text("CONVERSATION_RATE_LIMIT", "60/minute;1000/hour"),
        # How long a message waits unread before it is emailed (at most one email a conversation an hour).
        message_email_delay_seconds=integer_between("MESSAGE_EMAIL_DELAY", 600, 1, 86_400),
        # Sign-ins at organisations' providers, started and finished, per client address: a cohort behind one
        # company address signs in at once.
        sign_on_rate_limit=text("SIGN_ON_RATE_LIMIT", "300/minute"),
        scim_rate_limit=text("SCIM_RATE_LIMIT", "6000/minute"),
        second_step_rate_limit=text("SECOND_STEP_RATE_LIMIT", "10 per 15 minutes"),
        # How long a sign-in's start waits for its provider's discovery document (kept an hour once read).
        sign_on_start_wait_seconds=number_between("SIGN_ON_START_WAIT_SECONDS", 3.0, 0.5, 10.0),
        # The invitations one programme keeps, of every status.
        max_invitations=integer_between("MAX_INVITATIONS", 50_000, 1, 1_000_000),
        calendar_horizon_days=integer_between("CALENDAR_HORIZON_DAYS", 180, 1, 730),
        no_show_dispute_hours=integer_between("NO_SHOW_DISPUTE_HOURS", 48, 1, 720),
        waitlist_offer_minutes=integer_between("WAITLIST_OFFER_MINUTES", 120, 1, 10_080),
        cancellation_window_hours=integer_between("CANCELLATION_WINDOW_HOURS", 24, 0, 8760),
        cancellation_fee_percent=integer_between("CANCELLATION_FEE_PERCENT", 50, 0, 100),
        max_pending_requests_per_mentor=integer_at_least("MAX_PENDING_REQUESTS_PER_MENTOR", 3, 1),
        max_pending_requests=integer_at_least("MAX_PENDING_REQUESTS", 20, 1),
        # 0: no limit (a listing may still set its own).
        max_active_bookings_per_mentor=integer_between("MAX_ACTIVE_BOOKINGS_PER_MENTOR", 0, 0, 1000) or None,
        # Upcoming instant bookings one mentee (confirmed) holds with one mentor; a listing may set its own.
        max_instant_bookings_per_mentor=integer_between("MAX_INSTANT_BOOKINGS_PER_MENTOR", 26, 1, 1000),
        max_reschedules_per_booking=integer_between("MAX_RESCHEDULES_PER_BOOKING", 2, 0, 20),
        reschedule_request_ttl_hours=integer_between("RESCHEDULE_REQUEST_TTL_HOURS", 48, 1, 720),
        meeting_url_template=meeting_url_template_of(text("MEETING_URL_TEMPLATE", "https://meet.jit.si/mentorship-{room}")),
        reminder_offsets=reminder_offsets(text("REMINDER_OFFSETS", "24h,1h")),
        reminder_check_seconds=integer_at_least("REMINDER_CHECK_SECONDS", 30, 1),
        outbox_redeliver_seconds=integer_between("OUTBOX_REDELIVER_SECONDS", 30, 1, 3600),
        outbox_redeliver_max_seconds=integer_between("OUTBOX_REDELIVER_MAX_SECONDS", 600, 1, 86_400),
        # Outbox rows one handler task claims and does per transaction.
        handler_batch=integer_at_least("HANDLER_BATCH", 100, 1),
        # How long a handler's kick, queued or running, stops further kicks, should its message or worker be lost.
        handler_kick_ttl_seconds=integer_at_least("HANDLER_KICK_TTL_SECONDS", 15, 1),
        # How long a handler's next batch waits once events came in while a batch was done (0: it never waits).
        handler_linger_ms=integer_between("HANDLER_LINGER_MS", 100, 0, 1000),
        task_soft_time_limit=integer_between("TASK_SOFT_TIME_LIMIT", 60, 1, 3600),
        task_time_limit=integer_between("TASK_TIME_LIMIT", 90, 2, 7200),
        webhook_timeout_seconds=number_between("WEBHOOK_TIMEOUT_SECONDS", 15.0, 1, 60),
        webhook_retry_schedule=tuple(parse_duration(p) for p in schedule.split(",") if p.strip()),
        webhook_allow_private_targets=flag("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False),
        https_targets_only=app_env == "production" and not flag("ALLOW_HTTP_TARGETS", default=False),
        webhook_allow_loopback_targets=flag("WEBHOOK_ALLOW_LOOPBACK_TARGETS", default=False),
        webhook_max_endpoints_per_user=integer_between("WEBHOOK_MAX_ENDPOINTS_PER_USER", 20, 1, 1000),
        webhook_tests_per_minute=integer_between("WEBHOOK_TESTS_PER_MINUTE", 5, 1, 60),
        webhook_retries_per_minute=integer_at_least("WEBHOOK_RETRIES_PER_MINUTE", 5, 0),
        # Batches of one owner's endpoints in flight at once, across every worker process.
        webhook_max_inflight_per_owner=integer_at_least("WEBHOOK_MAX_INFLIGHT_PER_OWNER", 2, 1),
        webhook_secret_overlap=parse_duration(text("WEBHOOK_SECRET_OVERLAP", "24h")),
        smtp_url=text("SMTP_URL", ""),
        smtp_from=text("SMTP_FROM", "Mentorship <no-reply@localhost>"),
        # Invitation mails one programme sends in any hour; the rest wait their turn.
        programme_invitations_per_hour=integer_between("PROGRAMME_INVITATIONS_PER_HOUR", 200, 1, 10_000),
        match_run_seconds=integer_between("MATCH_RUN_SECONDS", 300, 10, 3600),
        public_url=public_url_of(text("PUBLIC_URL", f"http://127.0.0.1:{integer('API_PORT', 8000)}")),
        app_env=app_env,
        email_verification_ttl=parse_duration(text("EMAIL_VERIFICATION_TTL", "48h")),
        account_email_rate_limit=text("ACCOUNT_EMAIL_RATE_LIMIT", "5/hour"),
        sse_max_seconds=number_between("SSE_MAX_SECONDS", 300.0, 0.01, 3600),
        sse_max_streams_per_process=integer_between("SSE_MAX_STREAMS_PER_PROCESS", 8, 1, 1000),
        sse_max_streams_per_user=integer_at_least("SSE_MAX_STREAMS_PER_USER", 3, 1),
        # The part of each process's streams only a user holding none anywhere may take.
        sse_first_stream_share_percent=integer_between("SSE_FIRST_STREAM_SHARE_PERCENT", 50, 0, 100),
        outbox_retention_days=integer_at_least("OUTBOX_RETENTION_DAYS", 30, 1),
        webhook_attempt_retention_days=integer_at_least("WEBHOOK_ATTEMPT_RETENTION_DAYS", 30, 1),
        idempotency_retention_days=integer_at_least("IDEMPOTENCY_RETENTION_DAYS", 1, 1),
        notification_retention_days=integer_at_least("NOTIFICATION_RETENTION_DAYS", 90, 1),
        auth_event_retention_days=integer_at_least("AUTH_EVENT_RETENTION_DAYS", 90, 1),
        retention_batch_size=integer_at_least("RETENTION_BATCH_SIZE", 1000, 1),
        retention_max_batches=integer_at_least("RETENTION_MAX_BATCHES", 20, 1),
        max_content_length=integer_between("MAX_CONTENT_LENGTH", 1024 * 1024, 1024, 100 * 1024 * 1024),
    ))


@cache
def get_settings() -> Settings:
    return load_settings()
