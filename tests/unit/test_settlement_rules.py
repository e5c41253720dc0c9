"""Subsidy rate and proration rules, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from carewatch.policy import SubsidyRule
from facility_app.settlement import rules
from facility_app.settlement.months import parse_month

DEFAULT = SubsidyRule()


def test_amounts_are_rounded_half_up_once():
    # 437.30 × 1/20 = 21.865 → 21.87 (banker's rounding would give 21.86).
    rule = SubsidyRule(min_attended_days=0)
    pro = rules.prorate(
        rule, rate=Decimal("437.30"), service_days=20, attended_days=1, units=Decimal(1)
    )
    assert pro.amount == Decimal("21.87")


@pytest.mark.parametrize(("days", "amount"), [(4, "0.00"), (5, "175.00"), (6, "210.00")])
def test_the_minimum_days_threshold(days, amount):
    pro = rules.prorate(
        DEFAULT, rate=Decimal(700), service_days=20, attended_days=days, units=Decimal(days)
    )
    assert pro.amount == Decimal(amount)


def test_more_units_than_service_days_pay_no_more_than_the_rate():
    pro = rules.prorate(
        SubsidyRule(full_rate_from_share=Decimal(1)),
        rate=Decimal(700), service_days=20, attended_days=22, units=Decimal(22),
    )  # fmt: skip
    assert pro.amount == Decimal("700.00")


def test_rates_by_grade_and_by_age_band():
    assert rules.rate_for(DEFAULT, grade="level3", age=20) == (Decimal(500), "grade level3")
    bands = SubsidyRule(basis="age_band")
    assert rules.rate_for(bands, grade="level3", age=11)[0] == Decimal(600)
    assert rules.rate_for(bands, grade="level3", age=12)[0] == Decimal(400)
    assert rules.rate_for(bands, grade="level3", age=35)[0] == Decimal(200)
    assert rules.rate_for(bands, grade="level3", age=36) == (Decimal(0), "age 36 m: no band")


def test_age_in_whole_months():
    assert rules.age_months(date(2025, 2, 15), date(2026, 2, 1)) == 11
    assert rules.age_months(date(2025, 2, 1), date(2026, 2, 1)) == 12


def test_overlapping_age_bands_and_negative_rates_are_refused():
    with pytest.raises(ValidationError):
        SubsidyRule(
            basis="age_band",
            age_bands=[
                {"min_age_months": 0, "max_age_months": 13, "rate": "600"},
                {"min_age_months": 12, "max_age_months": 24, "rate": "400"},
            ],
        )
    with pytest.raises(ValidationError):
        SubsidyRule(grade_rates={"level1": "-1"})


def test_projection_keeps_the_pace_so_far():
    done = rules.ChildMonth(days_enrolled=7, days_attended=2, units=Decimal(2))
    assert rules.project(done, 15) == (6, Decimal("6.3"))
    assert rules.project(rules.ChildMonth(0, 0, Decimal(0)), 15) == (15, Decimal(15))


def test_month_bounds():
    assert parse_month("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert parse_month("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    assert parse_month("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
