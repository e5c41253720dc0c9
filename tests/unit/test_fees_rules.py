"""Fee caps, worked by hand from the policy defaults, and hourly billing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carewatch.errors import DomainError
from carewatch.policy import ClassType, load_policy
from facility_app.fees import rules

# Last year's per-capita disposable income 60 000 yuan: 5 000 a month.
FEES = load_policy({"fees": {"per_capita_disposable_income": "60000"}}).fees


@pytest.mark.parametrize(
    ("class_type", "state", "cap"),
    [
        (ClassType.OLDER, False, "2250.00"),  # 45 % of 5 000
        (ClassType.MIXED, False, "2250.00"),
        (ClassType.TODDLER, False, "2600.00"),  # 52 %
        (ClassType.INFANT, False, "3000.00"),  # 60 %
        (ClassType.OLDER, True, "2000.00"),  # state or collective assets: 40 %
        (ClassType.MIXED, True, "2000.00"),
        (ClassType.TODDLER, True, "2500.00"),  # 50 %
        (ClassType.INFANT, True, "3000.00"),  # 60 %
    ],
)
def test_full_day_caps_are_shares_of_a_twelfth_of_the_income(class_type, state, cap):
    assert rules.full_day_cap(FEES, class_type, state).limit == Decimal(cap)


def test_a_fee_at_exactly_the_cap_is_accepted_and_one_yuan_above_refused():
    cap = rules.full_day_cap(FEES, ClassType.OLDER, False)
    rules.check_cap(cap, Decimal("2250.00"))
    with pytest.raises(DomainError) as err:
        rules.check_cap(cap, Decimal("2251.00"))
    assert err.value.code == "full_day_over_cap"
    assert str(err.value) == (
        "The full-day fee of 2251.00 yuan is over the cap of 2250.00 yuan: 45% of last "
        "year's per-capita disposable income of 60000 yuan ÷ 12."
    )


def test_half_day_hourly_and_temporary_caps_derive_from_the_full_day_fee():
    full = Decimal("2175.00")
    assert rules.half_day_cap(FEES, full).limit == Decimal("1522.50")  # 70 %
    # 2175 ÷ 21.75 = 100 a day; 30 % of it an hour, a whole day for temporary care.
    assert rules.hourly_cap(FEES, full).limit == Decimal("30.00")
    assert rules.temporary_cap(FEES, full).limit == Decimal("100.00")
    # 2250 ÷ 21.75 × 0.3 = 31.034… → 31.03 (to the fen, half up).
    assert rules.hourly_cap(FEES, Decimal("2250")).limit == Decimal("31.03")
    with pytest.raises(DomainError) as err:
        rules.check_cap(rules.hourly_cap(FEES, full), Decimal("31.00"))
    assert err.value.params == {
        "fee": "31.00", "cap": "30.00", "share": "30", "full": "2175.00", "days": "21.75",
    }  # fmt: skip


def test_no_income_figure_means_no_full_day_cap_yet():
    assert rules.full_day_cap(load_policy(None).fees, ClassType.OLDER, False) is None


def test_rounding_is_half_up_to_the_fen():
    assert rules.to_fen(Decimal("21.865")) == Decimal("21.87")
    assert rules.to_fen(Decimal("21.875")) == Decimal("21.88")
    assert rules.to_fen(Decimal("-0.005")) == Decimal("-0.01")


@pytest.mark.parametrize(("minutes", "hours"), [(0, 0), (1, 1), (60, 1), (61, 2), (150, 3)])
def test_part_hours_bill_as_whole_hours(minutes, hours):
    assert rules.billable_hours(minutes) == hours
    assert rules.hourly_charge(Decimal("30.00"), minutes) == Decimal(30 * hours)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("abc", "invalid_amount"),
        ("", "invalid_amount"),
        (None, "invalid_amount"),
        (True, "invalid_amount"),
        ("NaN", "invalid_amount"),
        ("12.345", "invalid_amount"),
        ("1e9", "invalid_amount"),
        ("-1", "negative_amount"),
        (-0.5, "negative_amount"),
    ],
)
def test_fees_as_text_or_negative_are_refused(raw, code):
    with pytest.raises(DomainError) as err:
        rules.parse_amount(raw)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("raw", "value"), [("1800", "1800.00"), (" 1800.5 ", "1800.50"), (0, "0.00")]
)
def test_fees_as_numbers_are_read_to_the_fen(raw, value):
    assert rules.parse_amount(raw) == Decimal(value)


def test_a_single_charge_covers_three_months_at_most():
    rules.check_billing_months(FEES, 3)
    with pytest.raises(DomainError) as err:
        rules.check_billing_months(FEES, 4)
    assert err.value.code == "charge_too_long"
