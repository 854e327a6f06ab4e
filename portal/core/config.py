"""Settings read from PORTAL_* environment variables.

Every setting has a safe development default so `make demo` works on a fresh machine; a
production deployment (PORTAL_ENV=production) refuses to start without a real secret key.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT_DIR = Path(__file__).resolve().parents[2]
INSTANCE_DIR = ROOT_DIR / "instance"


# A whole form may carry this many files of the per-file limit (MAX_CONTENT_LENGTH below).
BODY_CEILING_FILES = 20


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run the portal safely."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"PORTAL_{name}")
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"PORTAL_{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Setting:
    """One documented PORTAL_* variable (the README's table is generated from this list)."""

    name: str
    default: str
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", "development", "`production` refuses to start without PORTAL_SECRET_KEY"),
    Setting(
        "DATABASE_URL", "sqlite:///instance/portal.db", "SQLAlchemy URL (SQLite or PostgreSQL)"
    ),
    Setting("SECRET_KEY", "generated into instance/secret_key", "signs sessions and CSRF tokens"),
    Setting("BASE_URL", "http://127.0.0.1:5000", "public address used in links inside emails"),
    Setting("UPLOAD_DIR", "uploads/", "where attachments are stored (outside static/)"),
    Setting(
        "MAX_UPLOAD_MB",
        "10",
        "size limit per attached file, in MB; a whole form may carry 20 times that (plus 1 MB)",
    ),
    Setting(
        "TALLY_FLUSH_SECONDS",
        "30",
        "how long a web worker adds up article views and suggestion counts before writing them",
    ),
    Setting("SMTP_HOST", "(empty: write .eml files to instance/mail/)", "SMTP server"),
    Setting("SMTP_PORT", "25", "SMTP port"),
    Setting("SMTP_USER", "(empty)", "SMTP user name"),
    Setting("SMTP_PASSWORD", "(empty)", "SMTP password (never logged)"),
    Setting("SMTP_TLS", "none", "`none`, `starttls` or `ssl`"),
    Setting("MAIL_SENDER", "Portal de Atendimento <nao-responda@portal.local>", "From: header"),
    Setting("MAIL_DIR", "instance/mail", "where .eml files go when no SMTP host is set"),
    Setting("AUTO_CLOSE_DAYS", "7", "days a resolved request waits for the requester"),
    Setting("REMIND_DAYS_BEFORE", "2", "days before auto-closing when the reminder is sent"),
    Setting("AUTO_CLOSE_INTERVAL_MINUTES", "15", "how often the scheduler runs auto-close"),
    Setting("MAIL_INTERVAL_SECONDS", "30", "how often the scheduler sends the outbox"),
    Setting(
        "HEARTBEAT_MAX_AGE_SECONDS", "300", "/healthz fails when the scheduler is quiet longer"
    ),
    Setting("TIMEZONE", "America/Sao_Paulo", "time zone of dates shown to people"),
    Setting("RATELIMIT_STORAGE_URL", "memory://", "Flask-Limiter storage (`redis://...` accepted)"),
    Setting("API_RATE_LIMIT", "120 per minute", "requests per API token (Flask-Limiter notation)"),
    Setting("LOGIN_MAX_FAILURES", "5", "failed logins per CPF or address before throttling"),
    Setting("LOGIN_WINDOW_MINUTES", "15", "window of the login throttle"),
    Setting("SESSION_IDLE_MINUTES", "120", "idle session timeout"),
    Setting("SESSION_MAX_HOURS", "12", "absolute session timeout"),
    Setting(
        "FIRST_ACCESS_HOURS",
        "72",
        "how long the first-access link e-mailed to a new external user of a client stays valid",
    ),
)


def _load_or_create_secret(instance_dir: Path) -> str:
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _resolve_sqlite_path(url: str) -> str:
    """Make a relative SQLite path relative to the repository root, not the working dir."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str(ROOT_DIR / url[len(prefix) :])
    return url


def _resolve_dir(raw: str) -> Path:
    path = Path(raw)
    return path if path.is_absolute() else ROOT_DIR / path


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from the environment, then apply test overrides."""
    overrides = overrides or {}
    env = _env("ENV", "development")
    secret = overrides.get("SECRET_KEY") or _env("SECRET_KEY")
    if not secret:
        if env == "production":
            raise ConfigError("PORTAL_SECRET_KEY is required when PORTAL_ENV=production")
        secret = _load_or_create_secret(INSTANCE_DIR)
    base_url = (_env("BASE_URL", "http://127.0.0.1:5000") or "").rstrip("/")
    smtp_tls = (_env("SMTP_TLS", "none") or "none").lower()
    if smtp_tls not in {"none", "starttls", "ssl"}:
        raise ConfigError("PORTAL_SMTP_TLS must be none, starttls or ssl")
    max_upload_mb = _env_int("MAX_UPLOAD_MB", 10)
    config: dict[str, Any] = {
        "PORTAL_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": _resolve_sqlite_path(
            _env("DATABASE_URL", "sqlite:///instance/portal.db") or ""
        ),
        # hide_parameters: a database error's message (logged with its traceback) would
        # otherwise carry the statement's values, CPFs and e-mails among them.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "BASE_URL": base_url,
        "UPLOAD_DIR": _resolve_dir(_env("UPLOAD_DIR", "uploads") or "uploads"),
        "MAX_UPLOAD_BYTES": max_upload_mb * 1024 * 1024,
        # The hard ceiling on a whole body. Below it a file over MAX_UPLOAD_BYTES is counted,
        # not kept, and the form comes back with everything typed (core/upload_limits.py);
        # above it nothing is read and a plain 413 page answers.
        "MAX_CONTENT_LENGTH": max_upload_mb * 1024 * 1024 * BODY_CEILING_FILES + 1024 * 1024,
        "MAX_FORM_PARTS": 200,
        "SMTP_HOST": _env("SMTP_HOST"),
        "SMTP_PORT": _env_int("SMTP_PORT", 25),
        "SMTP_USER": _env("SMTP_USER"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SMTP_TLS": smtp_tls,
        "SMTP_TIMEOUT": _env_int("SMTP_TIMEOUT", 10),
        "MAIL_SENDER": _env("MAIL_SENDER", "Portal de Atendimento <nao-responda@portal.local>"),
        "MAIL_DIR": _resolve_dir(_env("MAIL_DIR", "instance/mail") or "instance/mail"),
        "AUTO_CLOSE_DAYS": _env_int("AUTO_CLOSE_DAYS", 7),
        "REMIND_DAYS_BEFORE": _env_int("REMIND_DAYS_BEFORE", 2),
        "AUTO_CLOSE_INTERVAL_MINUTES": _env_int("AUTO_CLOSE_INTERVAL_MINUTES", 15),
        "MAIL_INTERVAL_SECONDS": _env_int("MAIL_INTERVAL_SECONDS", 30),
        "HEARTBEAT_MAX_AGE_SECONDS": _env_int("HEARTBEAT_MAX_AGE_SECONDS", 300),
        "TIMEZONE": _env("TIMEZONE", "America/Sao_Paulo"),
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "API_RATE_LIMIT": _env("API_RATE_LIMIT", "120 per minute"),
        "LOGIN_MAX_FAILURES": _env_int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_WINDOW": timedelta(minutes=_env_int("LOGIN_WINDOW_MINUTES", 15)),
        "SESSION_IDLE": timedelta(minutes=_env_int("SESSION_IDLE_MINUTES", 120)),
        "SESSION_MAX_AGE": timedelta(hours=_env_int("SESSION_MAX_HOURS", 12)),
        "PASSWORD_RESET_TTL": timedelta(hours=1),
        "FIRST_ACCESS_TTL": timedelta(hours=_env_int("FIRST_ACCESS_HOURS", 72)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "SESSION_COOKIE_NAME": "portal_session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "pt_BR",
        "BABEL_DEFAULT_TIMEZONE": _env("TIMEZONE", "America/Sao_Paulo"),
        "MAIL_MAX_ATTEMPTS": _env_int("MAIL_MAX_ATTEMPTS", 8),
        "TALLY_FLUSH_SECONDS": _env_int("TALLY_FLUSH_SECONDS", 30),
    }
    config.update(overrides)
    if "SESSION_COOKIE_SECURE" not in overrides:
        config["SESSION_COOKIE_SECURE"] = config["BASE_URL"].startswith("https://")
    return config
