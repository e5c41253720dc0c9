"""Months as YYYY-MM, and which months may be settled or shown."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta

from carewatch.errors import DomainError
from facility_app.facility.models import Facility
from facility_app.facility.service import today

log = logging.getLogger(__name__)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(month: str) -> tuple[date, date]:
    """The first and last day of a month given as YYYY-MM."""
    match = _MONTH.match((month or "").strip())
    year, mon = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not match or not 1 <= mon <= 12 or not 2000 <= year <= 2100:
        raise DomainError("invalid_month", "Give the month as YYYY-MM.", field="month")
    first = date(year, mon, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


def month_of(day: date) -> str:
    """A day's month as YYYY-MM."""
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(day: date) -> str:
    """The month before the one of a day."""
    return month_of(day.replace(day=1) - timedelta(days=1))


def require_ended(facility: Facility, month: str, now: datetime) -> tuple[date, date]:
    """The month's bounds; a month that has not ended cannot be settled."""
    first, last = parse_month(month)
    local = today(facility, now)
    if first > local:
        raise DomainError(
            "month_in_future", "%(month)s is in the future.", field="month", month=month
        )
    if last >= local:
        raise DomainError(
            "month_not_ended",
            "%(month)s has not ended yet; it can be settled from %(day)s.",
            field="month",
            month=month,
            day=(last + timedelta(days=1)).isoformat(),
        )
    return first, last


def require_not_future(facility: Facility, month: str, now: datetime) -> tuple[date, date]:
    """The month's bounds; a month in the future has nothing to show."""
    first, last = parse_month(month)
    if first > today(facility, now):
        raise DomainError(
            "month_in_future", "%(month)s is in the future.", field="month", month=month
        )
    return first, last
