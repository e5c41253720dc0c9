"""Pure rules for credentials: validity on a day, expiry warnings, shares and progress.

A credential's ``expires_on`` is the first day it no longer counts: a certificate that
expires on 10 March is valid on 9 March and expired on 10 March.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


class Validity(enum.StrEnum):
    """Where a credential stands on a day."""

    NOT_YET = "not_yet"
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Standing:
    """A credential's validity on a day and the days left (None: no end)."""

    validity: Validity
    days_left: int | None
    warning_at: int | None  # the warning threshold reached (e.g. 30 or 7), if any

    @property
    def counts(self) -> bool:
        """Whether the credential is in force on the day."""
        return self.validity in (Validity.VALID, Validity.EXPIRING)


def standing(
    valid_from: date, expires_on: date | None, day: date, warn_days: list[int]
) -> Standing:
    """The credential's standing on ``day`` with the nearest warning threshold reached."""
    if day < valid_from:
        return Standing(Validity.NOT_YET, None, None)
    if expires_on is None:
        return Standing(Validity.VALID, None, None)
    left = (expires_on - day).days
    if left <= 0:
        return Standing(Validity.EXPIRED, left, None)
    reached = [w for w in warn_days if left <= w]
    if reached:
        return Standing(Validity.EXPIRING, left, min(reached))
    return Standing(Validity.VALID, left, None)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def exam_expiry(exam_date: date, valid_months: int) -> date:
    """When an exam taken on ``exam_date`` stops counting (a yearly exam: a year later)."""
    return add_months(exam_date, valid_months)


def share(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as a fraction rounded half-up to 4 places; None when whole is 0."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass(frozen=True)
class TrainingProgress:
    """Hours done in a year against the minimum and against where the year has got to."""

    hours: Decimal
    required: Decimal
    expected_by_now: Decimal

    @property
    def complete(self) -> bool:
        """The year's minimum is reached."""
        return self.hours >= self.required

    @property
    def behind(self) -> bool:
        """Fewer hours than an even pace through the year would have by now."""
        return self.hours < self.expected_by_now


def training_progress(hours: Decimal, required: int, day: date) -> TrainingProgress:
    """Progress through the calendar year of ``day`` (even pace, day inclusive)."""
    start = date(day.year, 1, 1)
    days_in_year = (date(day.year + 1, 1, 1) - start).days
    elapsed = (day - start).days + 1
    expected = (Decimal(required) * elapsed / days_in_year).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return TrainingProgress(Decimal(hours), Decimal(required), expected)


_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


def normalise_id_number(text: str) -> str:
    """An 18-character resident ID number (GB 11643), upper-case; ValueError if invalid."""
    value = "".join(text.split()).upper()
    if (
        len(value) != 18
        or not value[:17].isdigit()
        or not (value[17].isdigit() or value[17] == "X")
    ):
        raise ValueError("an ID number has 17 digits and a check character")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValueError("the birth date inside the ID number is not a date") from None
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise ValueError("the check character of the ID number is wrong")
    return value
