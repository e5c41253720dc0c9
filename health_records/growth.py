"""WHO Child Growth Standards (2006) z-scores by the LMS method, as WHO's igrowup computes them.

The reference tables (L, M, S by day of age, or by 0.1 cm of length/height) are the data of
the ``anthro`` package, which ships WHO's igrowup daily tables; this module reads only
its data files and does the arithmetic itself, so the method is ours to check and test:

* z = ((X/M)^L − 1) / (L·S), or ln(X/M)/S when L = 0.
* Weight-based indicators (weight-for-age, weight-for-length/height) use WHO's restricted
  tails: beyond ±3 SD the distance between the 2 SD and 3 SD lines is the unit, so
  z = 3 + (X − SD3)/(SD3 − SD2) above and −3 + (X − SD3neg)/(SD2neg − SD3neg) below.
  Length/height-for-age has L = 1 everywhere and needs no such correction.
* Length is measured lying (recumbent) before 731 days and height standing from then on;
  a measurement taken the other way is corrected by WHO's 0.7 cm (+0.7 when a child under
  two stood, −0.7 when an older child lay down).
* Weight-for-length covers 45–110 cm and is used before 731 days; weight-for-height covers
  65–120 cm and is used from then on. Lengths between the table's 0.1 cm steps have their
  L, M and S interpolated linearly, as igrowup does.

Every z-score is rounded to 2 decimals (half away from zero) before it is shown or
compared with a cut-off, the precision WHO's software reports.
"""

from __future__ import annotations

import enum
import itertools
import json
import logging
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources
from typing import Literal

from carewatch.policy import GrowthPolicy

log = logging.getLogger(__name__)

#: Package whose data files hold WHO's tables (day_wfa.json and friends).
TABLE_PACKAGE = "anthro"
#: Age in days from which height is measured standing (WHO: 24 months = 731 days).
STANDING_FROM_DAY = 731
#: WHO's difference between recumbent length and standing height, in cm.
POSITION_CORRECTION_CM = 0.7
#: Days in a month for showing ages (365.25 / 12), as WHO's software uses.
DAYS_PER_MONTH = 30.4375
#: Length ranges of the weight-for-length and weight-for-height tables, in cm.
WFL_RANGE = (45.0, 110.0)
WFH_RANGE = (65.0, 120.0)

Sex = Literal["female", "male"]
Position = Literal["lying", "standing"]


class Indicator(enum.StrEnum):
    """The WHO indicators this module computes."""

    WFA = "wfa"  # weight-for-age
    LHFA = "lhfa"  # length/height-for-age
    WFL = "wfl"  # weight-for-length (under 2)
    WFH = "wfh"  # weight-for-height (2 and over)


@dataclass(frozen=True)
class Lms:
    """Box-Cox power (L), median (M) and coefficient of variation (S) at one point."""

    l: float  # noqa: E741  (WHO's name)
    m: float
    s: float

    def value_at(self, z: float) -> float:
        """The measurement that lies exactly ``z`` SD from the median (no tail correction)."""
        if self.l == 0:
            return self.m * math.exp(self.s * z)
        return self.m * (1 + self.l * self.s * z) ** (1 / self.l)


@dataclass(frozen=True)
class _Table:
    """One sex's table: LMS rows from ``start`` in steps of ``step`` (days or cm)."""

    start: float
    step: float
    rows: tuple[Lms, ...]

    @property
    def end(self) -> float:
        return self.start + self.step * (len(self.rows) - 1)


_FILES = {
    Indicator.WFA: "day_wfa.json",
    Indicator.LHFA: "day_lhfa.json",
    Indicator.WFL: "day_wfl.json",
    Indicator.WFH: "day_wfh.json",
}
_SEX_KEY = {"male": "M", "female": "F"}


@lru_cache(maxsize=16)
def _table(indicator: Indicator, sex: Sex) -> _Table:
    """Read one table from the package's data (once per process)."""
    path = resources.files(TABLE_PACKAGE).joinpath("data", _FILES[indicator])
    raw = json.loads(path.read_text(encoding="utf-8"))[_SEX_KEY[sex]]
    index = [float(i) for i in raw["i"]]
    rows = tuple(
        Lms(float(lam), float(mu), float(sigma))
        for lam, mu, sigma in zip(raw["l"], raw["m"], raw["s"], strict=True)
    )
    step = round(index[1] - index[0], 6)
    # The arithmetic below indexes rows by position: refuse a table with gaps.
    if any(abs(b - a - step) > 1e-6 for a, b in itertools.pairwise(index)):
        raise ValueError(f"{_FILES[indicator]} is not evenly spaced")
    log.debug("loaded WHO table %s (%s): %d rows", indicator, sex, len(rows))
    return _Table(index[0], step, rows)


def max_age_days() -> int:
    """The oldest age, in days, the age-based tables cover."""
    return int(_table(Indicator.WFA, "male").end)


def lms_at_age(indicator: Indicator, sex: Sex, age_days: int) -> Lms:
    """L, M and S of an age-based indicator on one day of age."""
    table = _table(indicator, sex)
    if not 0 <= age_days <= table.end:
        raise ValueError(f"age {age_days} days is outside the WHO table")
    return table.rows[age_days]


def lms_at_length(indicator: Indicator, sex: Sex, length_cm: float) -> Lms:
    """L, M and S of weight-for-length/height, interpolated between 0.1 cm rows."""
    table = _table(indicator, sex)
    if not table.start <= length_cm <= table.end + 1e-9:
        raise ValueError(f"{length_cm} cm is outside the WHO table")
    pos = round((length_cm - table.start) / table.step, 6)
    low = min(math.floor(pos + 1e-9), len(table.rows) - 1)
    frac = pos - low
    if frac < 1e-9:
        return table.rows[low]
    a, b = table.rows[low], table.rows[low + 1]
    return Lms(a.l + frac * (b.l - a.l), a.m + frac * (b.m - a.m), a.s + frac * (b.s - a.s))


def lms_z(x: float, lms: Lms) -> float:
    """The plain LMS z-score of ``x`` (no tail correction)."""
    if x <= 0:
        raise ValueError("a measurement must be positive")
    if lms.l == 0:
        return math.log(x / lms.m) / lms.s
    return ((x / lms.m) ** lms.l - 1) / (lms.l * lms.s)


def restricted_z(x: float, lms: Lms) -> float:
    """WHO's z-score for weight-based indicators: beyond ±3 SD the SD2–SD3 gap is the unit."""
    z = lms_z(x, lms)
    if z > 3:
        sd3, sd2 = lms.value_at(3), lms.value_at(2)
        return 3 + (x - sd3) / (sd3 - sd2)
    if z < -3:
        sd3, sd2 = lms.value_at(-3), lms.value_at(-2)
        return -3 + (x - sd3) / (sd2 - sd3)
    return z


def round2(z: float) -> float:
    """Round to 2 decimals, half away from zero (not Python's round-half-even on floats)."""
    # "+ 0.0" turns a rounded −0.0 into 0.0, which is what a person expects to read.
    return float(Decimal(repr(z)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) + 0.0


def adjusted_length(length_cm: float, age_days: int, position: Position) -> float:
    """The length or height the standard of this age expects, after WHO's 0.7 cm correction."""
    if age_days < STANDING_FROM_DAY and position == "standing":
        return round(length_cm + POSITION_CORRECTION_CM, 2)
    if age_days >= STANDING_FROM_DAY and position == "lying":
        return round(length_cm - POSITION_CORRECTION_CM, 2)
    return length_cm


def default_position(age_days: int) -> Position:
    """How WHO measures at this age: lying before two years, standing from then."""
    return "lying" if age_days < STANDING_FROM_DAY else "standing"


def weight_for_length_indicator(age_days: int) -> Indicator:
    """Weight-for-length before 731 days, weight-for-height from then on."""
    return Indicator.WFL if age_days < STANDING_FROM_DAY else Indicator.WFH


@dataclass(frozen=True)
class ZScores:
    """The z-scores of one measurement; None where not measured or outside the tables."""

    age_days: int
    waz: float | None
    lhaz: float | None
    whz: float | None
    weight_for: Indicator  # WFL or WFH: which table ``whz`` comes from
    length_used_cm: float | None  # after the position correction
    whz_out_of_range: bool  # a length was given but lies outside that table's range

    @property
    def age_months(self) -> float:
        """Age in months (days / 30.4375), for display and charts."""
        return self.age_days / DAYS_PER_MONTH


def zscores(
    sex: Sex,
    age_days: int,
    weight_kg: float | None,
    length_cm: float | None,
    position: Position | None = None,
) -> ZScores:
    """Weight-for-age, length/height-for-age and weight-for-length/height, rounded to 0.01."""
    if not 0 <= age_days <= max_age_days():
        raise ValueError(f"age {age_days} days is outside the WHO standards")
    waz = lhaz = whz = None
    length = None
    which = weight_for_length_indicator(age_days)
    out_of_range = False
    if weight_kg is not None:
        waz = round2(restricted_z(weight_kg, lms_at_age(Indicator.WFA, sex, age_days)))
    if length_cm is not None:
        length = adjusted_length(length_cm, age_days, position or default_position(age_days))
        lhaz = round2(lms_z(length, lms_at_age(Indicator.LHFA, sex, age_days)))
        low, high = WFL_RANGE if which is Indicator.WFL else WFH_RANGE
        if weight_kg is not None and low <= length <= high:
            whz = round2(restricted_z(weight_kg, lms_at_length(which, sex, length)))
        elif weight_kg is not None:
            out_of_range = True
    return ZScores(age_days, waz, lhaz, whz, which, length, out_of_range)


# --- classification ------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    """Per indicator: a classification code, or ``flagged`` for a WHO-implausible value."""

    wfa: str | None
    lhfa: str | None
    wflh: str | None

    @property
    def flagged(self) -> list[str]:
        """Indicators whose value WHO calls biologically implausible (measure again)."""
        pairs = (("wfa", self.wfa), ("lhfa", self.lhfa), ("wflh", self.wflh))
        return [k for k, v in pairs if v == "flagged"]


def classify(z: ZScores, policy: GrowthPolicy) -> Assessment:
    """Classify each z-score with the policy's cut-offs (WHO's by default); flags first."""
    wfa = lhfa = wflh = None
    if z.waz is not None:
        if not policy.waz_flag_low <= z.waz <= policy.waz_flag_high:
            wfa = "flagged"
        elif z.waz < policy.severe_z:
            wfa = "severely_underweight"
        elif z.waz < policy.underweight_waz:
            wfa = "underweight"
        else:
            wfa = "normal"
    if z.lhaz is not None:
        if abs(z.lhaz) > policy.haz_flag:
            lhfa = "flagged"
        elif z.lhaz < policy.severe_z:
            lhfa = "severely_stunted"
        elif z.lhaz < policy.stunting_haz:
            lhfa = "stunted"
        else:
            lhfa = "normal"
    if z.whz is not None:
        if not policy.whz_flag_low <= z.whz <= policy.whz_flag_high:
            wflh = "flagged"
        elif z.whz < policy.severe_z:
            wflh = "severely_wasted"
        elif z.whz < policy.wasting_whz:
            wflh = "wasted"
        elif z.whz > policy.obese_whz:
            wflh = "obese"
        elif z.whz > policy.overweight_whz:
            wflh = "overweight"
        else:
            wflh = "normal"
    return Assessment(wfa, lhfa, wflh)


# --- reference curves for charts ------------------------------------------------------


def curve_days(months: int) -> list[int]:
    """Ages (days) at which to draw the curves: every half month, plus both sides of 24."""
    last = min(round(months * DAYS_PER_MONTH), max_age_days())
    days = {min(round(k * DAYS_PER_MONTH / 2), last) for k in range(2 * months + 1)}
    if last >= STANDING_FROM_DAY:
        # Length-for-age steps down where standing height takes over: draw the step.
        days |= {STANDING_FROM_DAY - 1, STANDING_FROM_DAY}
    return sorted(days)


def reference_curve(
    indicator: Indicator, sex: Sex, z: float, days: list[int]
) -> list[tuple[int, float]]:
    """(age in days, value) of the ``z`` SD line of an age-based indicator."""
    return [(d, lms_at_age(indicator, sex, d).value_at(z)) for d in days]
