"""WHO growth-standard z-scores against WHO's published tables, and the restricted tails.

Reference figures are copied from WHO's published Child Growth Standards tables (not from
the package whose LMS data the code reads):

* "simplified field tables" (z-scores, by month, 1 decimal), e.g. *Weight-for-age BOYS,
  Birth to 5 years (z-scores)*; a child on such a line lies within its rounding of ±0.05 of
  the true line, so here they check the line each LMS row gives, rounded the same way;
* "expanded tables for constructing national health cards" (z-scores, by day or 0.1 cm,
  3 decimals), e.g. *wfa-boys-zscore-expanded-tables*: a child weighing exactly a line's
  value must get that line's z within 0.01.
"""

from __future__ import annotations

import pytest

from carewatch.policy import GrowthPolicy
from health_records import growth
from health_records.growth import Indicator, Lms

WFA, LHFA, WFL, WFH = Indicator.WFA, Indicator.LHFA, Indicator.WFL, Indicator.WFH

# (table, indicator, sex, age in days or length in cm, z of the line, published value)
SIMPLIFIED = [
    ("Weight-for-age BOYS, 12 months", WFA, "male", 365, -3, 6.9),
    ("Weight-for-age BOYS, 12 months", WFA, "male", 365, -2, 7.7),
    ("Weight-for-age BOYS, 12 months", WFA, "male", 365, 0, 9.6),
    ("Weight-for-age BOYS, 12 months", WFA, "male", 365, 2, 12.0),
    ("Weight-for-age BOYS, 12 months", WFA, "male", 365, 3, 13.3),
    ("Weight-for-age GIRLS, birth", WFA, "female", 0, -2, 2.4),
    ("Weight-for-age GIRLS, birth", WFA, "female", 0, 0, 3.2),
    ("Weight-for-age GIRLS, birth", WFA, "female", 0, 2, 4.2),
    ("Length-for-age GIRLS, 24 months", LHFA, "female", 730, -2, 80.0),
    ("Length-for-age GIRLS, 24 months", LHFA, "female", 730, 0, 86.4),
    ("Length-for-age GIRLS, 24 months", LHFA, "female", 730, 2, 92.9),
    ("Length-for-age BOYS, birth", LHFA, "male", 0, -2, 46.1),
    ("Length-for-age BOYS, birth", LHFA, "male", 0, 0, 49.9),
    ("Length-for-age BOYS, birth", LHFA, "male", 0, 2, 53.7),
]


@pytest.mark.parametrize(("table", "ind", "sex", "day", "z", "value"), SIMPLIFIED)
def test_each_sd_line_rounds_to_the_simplified_field_table(table, ind, sex, day, z, value):
    line = growth.lms_at_age(ind, sex, day).value_at(z)
    assert abs(line - value) <= 0.05 + 1e-9, table


# (expanded table, sex, age in days, weight or length on the line, expected z)
EXPANDED_BY_AGE = [
    ("wfa-boys-zscore-expanded-tables, day 365", WFA, "male", 365, 9.646, 0.0),
    ("wfa-boys-zscore-expanded-tables, day 365", WFA, "male", 365, 7.741, -2.0),
    ("wfa-boys-zscore-expanded-tables, day 365", WFA, "male", 365, 11.983, 2.0),
    ("wfa-boys-zscore-expanded-tables, day 365", WFA, "male", 365, 6.926, -3.0),
    ("wfa-girls-zscore-expanded-tables, day 730", WFA, "female", 730, 11.474, 0.0),
    ("wfa-girls-zscore-expanded-tables, day 730", WFA, "female", 730, 9.033, -2.0),
    ("wfa-girls-zscore-expanded-tables, day 730", WFA, "female", 730, 17.008, 3.0),
    ("lhfa-girls-zscore-expanded-tables, day 730", LHFA, "female", 730, 86.401, 0.0),
    ("lhfa-girls-zscore-expanded-tables, day 730", LHFA, "female", 730, 79.950, -2.0),
    ("lhfa-boys-zscore-expanded-tables, day 183", LHFA, "male", 183, 67.644, 0.0),
    ("lhfa-boys-zscore-expanded-tables, day 183", LHFA, "male", 183, 63.362, -2.0),
    ("lhfa-boys-zscore-expanded-tables, day 1096", LHFA, "male", 1096, 96.089, 0.0),
    ("lhfa-boys-zscore-expanded-tables, day 1096", LHFA, "male", 1096, 88.675, -2.0),
]


@pytest.mark.parametrize(("table", "ind", "sex", "day", "value", "z"), EXPANDED_BY_AGE)
def test_a_child_on_a_published_line_gets_its_z(table, ind, sex, day, value, z):
    if ind is WFA:
        got = growth.zscores(sex, day, value, None).waz
    else:  # measured the way WHO measures at that age, so no 0.7 cm correction
        got = growth.zscores(sex, day, None, value).lhaz
    assert got == pytest.approx(z, abs=0.01), table


# (expanded table, indicator, sex, age in days, length in cm, weight on the line, z)
EXPANDED_BY_LENGTH = [
    ("wfl-boys-zscore-expanded-table, 70.0 cm", "male", 300, 70.0, 8.423, 0.0),
    ("wfl-boys-zscore-expanded-table, 70.0 cm", "male", 300, 70.0, 7.177, -2.0),
    ("wfl-boys-zscore-expanded-table, 70.0 cm", "male", 300, 70.0, 10.905, 3.0),
    ("wfl-girls-zscore-expanded-table, 60.0 cm", "female", 90, 60.0, 4.923, -2.0),
    ("wfh-girls-zscore-expanded-table, 85.0 cm", "female", 800, 85.0, 11.393, 0.0),
    ("wfh-girls-zscore-expanded-table, 85.0 cm", "female", 800, 85.0, 9.592, -2.0),
    ("wfh-girls-zscore-expanded-table, 85.0 cm", "female", 800, 85.0, 8.837, -3.0),
    ("wfh-boys-zscore-expanded-table, 100.0 cm", "male", 1200, 100.0, 18.195, 2.0),
]


@pytest.mark.parametrize(("table", "sex", "day", "cm", "kg", "z"), EXPANDED_BY_LENGTH)
def test_weight_for_length_and_height_against_published_lines(table, sex, day, cm, kg, z):
    result = growth.zscores(sex, day, kg, cm)
    assert result.weight_for is (WFL if day < 731 else WFH)
    assert result.whz == pytest.approx(z, abs=0.01), table


def test_beyond_three_sd_the_sd2_to_sd3_gap_is_the_unit():
    # Boys, 365 days: L = 0.0645, M = 9.646, S = 0.10925 (WHO's table row).
    # SD3 = 9.646 × (1 + 0.0645 × 0.10925 × 3)^(1/0.0645) = 13.3415 kg
    # SD2 = 9.646 × (1 + 0.0645 × 0.10925 × 2)^(1/0.0645) = 11.9833 kg
    # 15.0 kg: z = 3 + (15.0 − 13.3415) / (13.3415 − 11.9833) = 3 + 1.6585 / 1.3582 = 4.22
    # (the plain LMS formula would give ((15/9.646)^0.0645 − 1) / (0.0645 × 0.10925) = 4.10)
    lms = growth.lms_at_age(WFA, "male", 365)
    assert lms == Lms(0.0645, 9.646, 0.10925)
    assert growth.zscores("male", 365, 15.0, None).waz == 4.22
    assert round(growth.lms_z(15.0, lms), 2) == 4.10
    # SD3neg = 6.9260, SD2neg = 7.7407: 6.0 kg gives −3 + (6.0 − 6.9260) / 0.8147 = −4.14
    # (plain LMS: −4.28).
    assert growth.zscores("male", 365, 6.0, None).waz == -4.14
    assert round(growth.lms_z(6.0, lms), 2) == -4.28


def test_length_for_age_has_no_tail_correction():
    # L = 1, so z = (X − M) / (M × S) everywhere: girls, day 730, M 86.4008, S 0.03733;
    # 74.0 cm: (74.0 − 86.4008) / (86.4008 × 0.03733) = −12.4008 / 3.2253 = −3.84.
    assert growth.zscores("female", 730, None, 74.0).lhaz == -3.84


def test_the_position_correction_of_07_cm():
    # A 12-month boy measured standing: 0.7 cm is added before comparing with lengths.
    standing = growth.zscores("male", 365, None, 75.0, "standing")
    lying = growth.zscores("male", 365, None, 75.7, "lying")
    assert standing.length_used_cm == 75.7 and standing.lhaz == lying.lhaz
    # From 731 days lying down is corrected the other way: 86.4 cm lying = 85.7 cm standing.
    older = growth.zscores("female", 731, None, 86.4, "lying")
    assert older.length_used_cm == 85.7
    assert older.lhaz == growth.zscores("female", 731, None, 85.7, "standing").lhaz
    # Without a position, WHO's own: lying before 731 days, standing from then on.
    assert growth.zscores("female", 731, None, 85.7).lhaz == older.lhaz


def test_weight_for_length_outside_its_table_is_not_computed():
    result = growth.zscores("male", 1000, 30.0, 125.0)
    assert result.whz is None and result.whz_out_of_range
    assert result.waz is not None


def test_lengths_between_table_rows_are_interpolated():
    a = growth.lms_at_length(WFL, "male", 70.0)
    b = growth.lms_at_length(WFL, "male", 70.1)
    mid = growth.lms_at_length(WFL, "male", 70.05)
    assert mid.m == pytest.approx((a.m + b.m) / 2)
    assert mid.s == pytest.approx((a.s + b.s) / 2)


def test_rounding_is_half_away_from_zero_and_never_minus_zero():
    assert growth.round2(2.345) == 2.35 and growth.round2(-2.345) == -2.35
    assert str(growth.round2(-0.001)) == "0.0"


def _z(waz=None, lhaz=None, whz=None):  # type: ignore[no-untyped-def]
    return growth.ZScores(400, waz, lhaz, whz, WFL, None, False)


@pytest.mark.parametrize(
    ("z", "expected"),
    [
        (_z(waz=-2.0, lhaz=-2.0, whz=-2.0), ("normal", "normal", "normal")),
        (_z(waz=-2.01, lhaz=-2.01, whz=-2.01), ("underweight", "stunted", "wasted")),
        (
            _z(waz=-3.01, lhaz=-3.01, whz=-3.01),
            ("severely_underweight", "severely_stunted", "severely_wasted"),
        ),
        (_z(whz=2.0), (None, None, "normal")),
        (_z(whz=2.01), (None, None, "overweight")),
        (_z(whz=3.01), (None, None, "obese")),
        (_z(waz=-6.01, lhaz=6.01, whz=5.01), ("flagged", "flagged", "flagged")),
        (_z(waz=5.0, lhaz=-6.0, whz=-5.0), ("normal", "severely_stunted", "severely_wasted")),
        (_z(waz=5.01, whz=-5.01), ("flagged", None, "flagged")),
    ],
)
def test_classification_uses_who_cut_offs_and_flags(z, expected):
    a = growth.classify(z, GrowthPolicy())
    assert (a.wfa, a.lhfa, a.wflh) == expected


def test_cut_offs_come_from_the_policy():
    strict = GrowthPolicy(underweight_waz=-1.5)
    assert growth.classify(_z(waz=-1.6), strict).wfa == "underweight"
    assert growth.classify(_z(waz=-1.6), GrowthPolicy()).wfa == "normal"


def test_reference_curves_show_the_step_at_two_years():
    days = growth.curve_days(36)
    assert days[0] == 0 and days[-1] == round(36 * growth.DAYS_PER_MONTH)
    assert {730, 731} <= set(days)
    curve = dict(growth.reference_curve(LHFA, "female", 0, days))
    assert curve[730] == pytest.approx(86.4008) and curve[731] < curve[730]
