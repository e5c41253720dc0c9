"""An injectable clock, so that tests and simulations control time."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Anything that can tell the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current time in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """Return the current time in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to; thread-safe for live-server tests."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the fixed time."""
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        """Jump to an aware datetime."""
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        with self._lock:
            self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move forward by a duration."""
        with self._lock:
            self._at += delta


def local_date(at: datetime, tz: str) -> date:
    """The calendar date of an instant in a facility's time zone."""
    return at.astimezone(ZoneInfo(tz)).date()


def local_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar day starts and ends."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_datetime(day: date, hhmm: str | object, tz: str) -> datetime:
    """Combine a local date and a time of day into an aware UTC datetime."""
    from datetime import time as _time

    t = hhmm if isinstance(hhmm, _time) else _time.fromisoformat(str(hhmm))
    return datetime.combine(day, t, tzinfo=ZoneInfo(tz)).astimezone(UTC)
