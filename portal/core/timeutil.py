"""Time helpers: everything is stored in UTC and shown in the configured time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Attach UTC to naive values read back from SQLite (which stores no offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_datetime(value: datetime | None, tz_name: str) -> str:
    """`27/01/2023 09:32:59` in the portal's time zone; empty for missing dates."""
    if value is None:
        return ""
    return as_utc(value).astimezone(ZoneInfo(tz_name)).strftime("%d/%m/%Y %H:%M:%S")


def format_relative(value: datetime | None, now: datetime | None = None) -> str:
    """Relative time as Pronto Cliente says it: `agora mesmo`, `24m atrás`, `2 mês(es) atrás`."""
    if value is None:
        return ""
    now = now or utcnow()
    seconds = int((as_utc(now) - as_utc(value)).total_seconds())
    if seconds < 60:
        return "agora mesmo"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m atrás"
    hours = minutes // 60
    if hours < 24:
        return f"{hours}h atrás"
    days = hours // 24
    if days < 30:
        return f"{days} dia(s) atrás"
    months = days // 30
    if months < 12:
        return f"{months} mês(es) atrás"
    return f"{days // 365} ano(s) atrás"


def format_age(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, for "aberto há 3 dias": minutes, hours or days."""
    if value is None:
        return ""
    seconds = int(((now or utcnow()) - as_utc(value)).total_seconds())
    if seconds < 3600:
        return f"{max(seconds // 60, 0)} min"
    if seconds < 86400:
        hours = seconds // 3600
        return f"{hours} hora{'s' if hours != 1 else ''}"
    days = seconds // 86400
    return f"{days} dia{'s' if days != 1 else ''}"
