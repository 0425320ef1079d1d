from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from infra.config import load_settings, sqlalchemy_url
from infra.environment import ConfigError, parse_duration


def test_production_without_signing_key_refuses_to_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    monkeypatch.delenv("PASSWORD_HASH_PROFILE")
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY is not set"):
        load_settings()
    assert not any(tmp_path.iterdir())
    monkeypatch.setenv("JWT_SECRET_KEY", "k" * 48)
    with pytest.raises(ConfigError, match="CREDENTIALS_KEYS is not set"):
        load_settings()
    assert not any(tmp_path.iterdir())
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("CALENDAR_CREDENTIALS_KEYS", key)  # the former name still counts
    assert load_settings().credentials_keys == (key,)
    monkeypatch.setenv("CREDENTIALS_KEYS", f"{key},not a key")
    with pytest.raises(ConfigError, match="must be Fernet keys"):
        load_settings()
    monkeypatch.setenv("CREDENTIALS_KEYS", key)
    assert load_settings().jwt_secret_key == "k" * 48


def test_development_key_is_generated_once_and_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    monkeypatch.delenv("PASSWORD_HASH_PROFILE")
    first = load_settings().jwt_secret_key
    key_file = tmp_path / "jwt_secret_key"
    assert len(first) >= 48
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings().jwt_secret_key == first


@pytest.mark.parametrize("app_env", ["production", "development"])
def test_the_cheapest_password_hashing_is_refused_outside_test_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                     app_env: str) -> None:
    monkeypatch.setenv("APP_ENV", app_env)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("JWT_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("CREDENTIALS_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("PASSWORD_HASH_PROFILE", "cheapest")
    with pytest.raises(ConfigError, match="APP_ENV=test only"):
        load_settings()
    monkeypatch.delenv("PASSWORD_HASH_PROFILE")
    assert load_settings().password_hash_profile == "standard"


def test_bad_numbers_are_reported_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIN_NOTICE_MINUTES", "soon")
    with pytest.raises(ConfigError, match="MIN_NOTICE_MINUTES"):
        load_settings()


def test_urls_and_durations() -> None:
    assert sqlalchemy_url("postgresql://u:p@h:5/db") == "postgresql+psycopg://u:p@h:5/db"
    assert sqlalchemy_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert [parse_duration(x).total_seconds() for x in ("5s", "5m", "2h", "1d", "7")] == [5, 300, 7200, 86400, 7]
    with pytest.raises(ConfigError):
        parse_duration("soon")


@pytest.mark.parametrize("name", ["OUTBOX_RETENTION_DAYS", "RETENTION_BATCH_SIZE", "SSE_MAX_STREAMS_PER_USER"])
def test_limits_below_one_are_refused_by_name(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "0")
    with pytest.raises(ConfigError, match=name):
        load_settings()


@pytest.mark.parametrize("template", [
    "https://meet.jit.si/mentorship-{session_id}",  # a public id: anyone who lists group sessions could join
    "https://meet.jit.si/{room}-{session_id}",
    "https://meet.jit.si/one-room-for-all",  # every session in one room
    "http://meet.example.com/{room}",
])
def test_a_meeting_url_template_without_a_room_secret_refuses_to_start(monkeypatch: pytest.MonkeyPatch,
                                                                       template: str) -> None:
    monkeypatch.setenv("MEETING_URL_TEMPLATE", template)
    with pytest.raises(ConfigError, match="MEETING_URL_TEMPLATE"):
        load_settings()
    monkeypatch.setenv("MEETING_URL_TEMPLATE", "https://meet.example.com/{room}")
    assert load_settings().meeting_url_template == "https://meet.example.com/{room}"
    monkeypatch.setenv("MEETING_URL_TEMPLATE", "none")
    assert load_settings().meeting_url_template == ""  # no default link at all


@pytest.mark.parametrize(("name", "value"), [
    ("CANCELLATION_FEE_PERCENT", "150"), ("CANCELLATION_FEE_PERCENT", "-5"), ("CANCELLATION_WINDOW_HOURS", "-1"),
    ("MIN_NOTICE_MINUTES", "-30"), ("START_EARLY_MINUTES", "-1"), ("MISSED_GRACE_MINUTES", "-1"),
    ("AUTO_COMPLETE_HOURS", "-2"), ("ACCESS_TOKEN_TTL_SECONDS", "0"), ("WEBHOOK_TESTS_PER_MINUTE", "0"),
    ("WEBHOOK_MAX_ENDPOINTS_PER_USER", "0"), ("WEBHOOK_TIMEOUT_SECONDS", "0"), ("WEBHOOK_TIMEOUT_SECONDS", "nan"),
    ("OUTBOX_REDELIVER_SECONDS", "0"), ("TASK_SOFT_TIME_LIMIT", "0"), ("SSE_MAX_STREAMS_PER_PROCESS", "0"),
    ("SSE_MAX_SECONDS", "-1"), ("DB_POOL_SIZE", "0"), ("MAX_CONTENT_LENGTH", "10"), ("API_PORT", "70000"),
])
def test_out_of_range_settings_refuse_to_start_naming_the_setting(monkeypatch: pytest.MonkeyPatch, name: str,
                                                                   value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings()


def test_limits_that_must_agree_refuse_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASK_SOFT_TIME_LIMIT", "90")
    monkeypatch.setenv("TASK_TIME_LIMIT", "60")
    with pytest.raises(ConfigError, match="TASK_TIME_LIMIT"):
        load_settings()
    monkeypatch.delenv("TASK_SOFT_TIME_LIMIT")
    monkeypatch.delenv("TASK_TIME_LIMIT")
    monkeypatch.setenv("OUTBOX_REDELIVER_SECONDS", "60")
    monkeypatch.setenv("OUTBOX_REDELIVER_MAX_SECONDS", "30")
    with pytest.raises(ConfigError, match="OUTBOX_REDELIVER_MAX_SECONDS"):
        load_settings()


def test_production_sends_to_https_urls_only_unless_allowed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    assert load_settings().https_targets_only is False  # development and tests
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("JWT_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("CREDENTIALS_KEYS", Fernet.generate_key().decode())
    monkeypatch.delenv("PASSWORD_HASH_PROFILE")
    assert load_settings().https_targets_only is True
    monkeypatch.setenv("ALLOW_HTTP_TARGETS", "true")
    assert load_settings().https_targets_only is False
