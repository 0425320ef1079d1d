"""Reading the environment: one variable at a time, typed and bounded, each refusal a :class:`ConfigError` that
names the variable; the secrets a development machine may make for itself and production must be given."""

from __future__ import annotations

import base64
import os
import secrets
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

MIN_SECRET_LENGTH = 32  # HMAC-SHA256 wants a key of at least 256 bits


class ConfigError(RuntimeError):
    """The environment does not describe a runnable service."""


def integer(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def integer_at_least(name: str, default: int, least: int) -> int:
    value = integer(name, default)
    if value < least:
        raise ConfigError(f"{name} must be at least {least}, got {value}")
    return value


def integer_between(name: str, default: int, least: int, most: int) -> int:
    value = integer_at_least(name, default, least)
    if value > most:
        raise ConfigError(f"{name} must be at most {most}, got {value}")
    return value


def number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def number_between(name: str, default: float, least: float, most: float) -> float:
    value = number(name, default)
    if not least <= value <= most:  # NaN fails both comparisons
        raise ConfigError(f"{name} must be between {least:g} and {most:g}, got {value}")
    return value


def flag(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def text(name: str, default: str) -> str:
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else raw


def origins(name: str) -> tuple[str, ...]:
    """Comma-separated origins (``https://app.example.com``), each scheme://host[:port] with no path."""
    origins = tuple(part.strip().rstrip("/") for part in text(name, "").split(",") if part.strip())
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


def reminder_offsets(text: str) -> tuple[timedelta, ...]:
    """``REMINDER_OFFSETS``: how long before a session its reminders go out, longest first, whole seconds."""
    offsets = {parse_duration(part) for part in text.split(",") if part.strip()}
    if any(offset.total_seconds() < 1 or offset.total_seconds() % 1 for offset in offsets):
        raise ConfigError(f"REMINDER_OFFSETS must be whole seconds of at least 1s, got {text!r}")
    return tuple(sorted(offsets, reverse=True))


def jwt_secret(app_env: str, var_dir: Path) -> str:
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


def credentials_keys(app_env: str, var_dir: Path) -> tuple[str, ...]:
    """``CREDENTIALS_KEYS``: Fernet keys, comma-separated, that seal every credential the service keeps (calendar
    accounts, sign-on providers' client secrets): the first encrypts, every one decrypts (a rotation adds a new key
    first, runs ``flask ops reseal-credentials``, then drops the old). ``CALENDAR_CREDENTIALS_KEYS``, its former
    name, is read when it is unset. Required in production; in development one key per checkout, generated on first
    use, never committed."""
    raw = os.environ.get("CREDENTIALS_KEYS", "").strip() or os.environ.get("CALENDAR_CREDENTIALS_KEYS", "")
    configured = tuple(key.strip() for key in raw.split(",") if key.strip())
    for key in configured:
        try:
            if len(base64.urlsafe_b64decode(key.encode())) != 32:  # noqa: PLR2004 - a Fernet key is 32 bytes
                raise ValueError
        except ValueError:
            raise ConfigError("CREDENTIALS_KEYS must be Fernet keys (32 url-safe base64-encoded bytes each), "
                              "comma-separated") from None
    if configured:
        return configured
    if app_env == "production":
        raise ConfigError(
            "CREDENTIALS_KEYS is not set. With APP_ENV=production the service needs a key to seal the credentials it "
            "keeps (for example: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        )
    path = var_dir / "credentials_key"
    former = var_dir / "calendar_credentials_key"  # the development key before it sealed every credential
    if former.exists() and not path.exists():
        return (former.read_text().strip(),)
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


def password_hash_profile(app_env: str) -> PasswordHashProfile:
    raw = text("PASSWORD_HASH_PROFILE", PasswordHashProfile.STANDARD)
    try:
        profile = PasswordHashProfile(raw)
    except ValueError as exc:
        raise ConfigError(f"PASSWORD_HASH_PROFILE must be standard or cheapest, got {raw!r}") from exc
    if profile is PasswordHashProfile.CHEAPEST and app_env != "test":
        raise ConfigError("PASSWORD_HASH_PROFILE=cheapest is for APP_ENV=test only: it does not protect passwords")
    return profile


def public_url_of(url: str) -> str:
    """Where people open the web app (links in emails point there): an http(s) origin, perhaps with a path."""
    if not url.startswith(("https://", "http://")) or any(c in url for c in "?#\"' <>"):
        raise ConfigError(f"PUBLIC_URL must be an http(s) URL without query or fragment, got {url!r}")
    return url.rstrip("/")


def meeting_url_template_of(template: str) -> str:
    """``none`` (no default link, stored as ""), or an https URL with ``{room}``: each session's random secret."""
    if template == "none":
        return ""
    if not template.startswith("https://") or "{room}" not in template or "{session_id}" in template:
        raise ConfigError(
            "MEETING_URL_TEMPLATE must be `none` or an https URL containing {room} (a random secret per session) "
            f"and no public id such as {{session_id}}, got {template!r}")
    return template
