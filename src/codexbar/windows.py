"""UTC spending windows as the providers define them: day, Monday-start week, month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

WINDOWS = ("daily", "weekly", "monthly")


def start_of(window: str, now: datetime) -> datetime:
    now = now.astimezone(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "daily":
        return day
    if window == "weekly":
        return day - timedelta(days=day.weekday())
    if window == "monthly":
        return day.replace(day=1)
    raise ValueError(f"unknown window {window!r}")


def next_reset(window: str, now: datetime) -> datetime:
    """The instant the window next starts over (UTC midnight, Monday 00:00, the 1st)."""
    start = start_of(window, now)
    if window == "daily":
        return start + timedelta(days=1)
    if window == "weekly":
        return start + timedelta(days=7)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def parse_instant(value: object) -> datetime | None:
    """An ISO-8601 timestamp as an aware UTC datetime; naive input is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted out of range
        return None


def iso(value: datetime | None) -> str | None:
    """UTC ISO-8601 with a Z, second precision, as CodexBar writes it."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def countdown(target: datetime, now: datetime) -> str:
    """A short human countdown: `3d 4h`, `5h 12m`, `42m`, `now`."""
    seconds = int((target - now).total_seconds())
    if seconds <= 0:
        return "now"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{max(minutes, 1)}m"


def age(seconds: float) -> str:
    """`12s`, `5m`, `3h`, `2d` for 'updated … ago'."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"
