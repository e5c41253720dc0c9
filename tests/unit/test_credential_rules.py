"""Credential rules, hand-worked: expiry on the boundary day, warnings, shares, training pace."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from health_records.rules import (
    Validity,
    add_months,
    exam_expiry,
    normalise_id_number,
    share,
    standing,
    training_progress,
)

EXPIRES = date(2026, 3, 10)
WARN = [30, 7]


@pytest.mark.parametrize(
    ("day", "validity", "days_left", "warning"),
    [
        (date(2026, 3, 10), Validity.EXPIRED, 0, None),  # expired on that day
        (date(2026, 3, 11), Validity.EXPIRED, -1, None),
        (date(2026, 3, 9), Validity.EXPIRING, 1, 7),  # the last day it counts
        (date(2026, 3, 3), Validity.EXPIRING, 7, 7),
        (date(2026, 3, 2), Validity.EXPIRING, 8, 30),
        (date(2026, 2, 8), Validity.EXPIRING, 30, 30),
        (date(2026, 2, 7), Validity.VALID, 31, None),
        (date(2019, 12, 31), Validity.NOT_YET, None, None),
    ],
)
def test_standing_around_the_expiry_day(
    day: date, validity: Validity, days_left: int | None, warning: int | None
) -> None:
    result = standing(date(2020, 1, 1), EXPIRES, day, WARN)
    assert (result.validity, result.days_left, result.warning_at) == (validity, days_left, warning)
    assert result.counts == (validity in (Validity.VALID, Validity.EXPIRING))


def test_a_certificate_without_an_end_stays_valid() -> None:
    result = standing(date(2020, 1, 1), None, date(2040, 1, 1), WARN)
    assert result.validity is Validity.VALID and result.counts


def test_yearly_exam_expires_a_year_later_and_month_ends_are_clamped() -> None:
    assert exam_expiry(date(2025, 3, 10), 12) == date(2026, 3, 10)
    assert exam_expiry(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_share_rounds_half_up_to_four_places() -> None:
    assert share(2, 3) == Decimal("0.6667")
    assert share(4, 5) == Decimal("0.8000")
    assert share(0, 0) is None


def test_training_pace_through_the_year() -> None:
    # 1 January: 1/365 of 120 h = 0.33 h expected; 2 July 2026 is day 183: 120 × 183/365 = 60.2.
    first = training_progress(Decimal(0), 120, date(2026, 1, 1))
    assert first.expected_by_now == Decimal("0.3") and first.behind
    mid = training_progress(Decimal("60.2"), 120, date(2026, 7, 2))
    assert mid.expected_by_now == Decimal("60.2") and not mid.behind and not mid.complete
    assert training_progress(Decimal(120), 120, date(2026, 12, 31)).complete
    assert training_progress(Decimal("119.9"), 120, date(2026, 12, 31)).behind


def test_id_numbers_are_checked_with_the_gb11643_check_character() -> None:
    assert normalise_id_number(" 11010519491231002x ") == "11010519491231002X"
    for bad in ("110105194912310021", "1101051949123100", "11010519491331002X", "abc"):
        with pytest.raises(ValueError):
            normalise_id_number(bad)
