"""Subsidy rate and proration as pure functions: one child's month from its day rows.

Rounding: the rate is exact, the share of service days is exact, and the amount is
rounded once per child and month to the fen, half up (``facility_app.fees.rules.to_fen``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from carewatch.policy import SubsidyBasis, SubsidyRule
from facility_app.fees.rules import percent, to_fen

log = logging.getLogger(__name__)

ZERO = Decimal(0)


def units_text(units: Decimal) -> str:
    """Attended units without trailing zeros (15.5, 20)."""
    return format(units.normalize(), "f")


@dataclass(frozen=True)
class DayRow:
    """One enrolled service day of a child and what it earns."""

    day: date
    class_id: int
    care_type: str
    eligible: bool
    record_id: int | None = None
    status: str | None = None
    check_in: str | None = None
    check_out: str | None = None
    weight: Decimal = ZERO

    @property
    def present(self) -> bool:
        """Whether the child came that day."""
        return self.status == "present"

    @property
    def open_checkin(self) -> bool:
        """Checked in with no check-out: counted, and flagged on the claim."""
        return self.present and self.check_out is None

    def as_json(self) -> dict[str, Any]:
        """The row as stored in a settled line."""
        return {
            "day": self.day.isoformat(),
            "class_id": self.class_id,
            "care_type": self.care_type,
            "eligible": self.eligible,
            "record_id": self.record_id,
            "status": self.status,
            "check_in": self.check_in,
            "check_out": self.check_out,
            "weight": units_text(self.weight),
        }


def day_weight(rule: SubsidyRule, care_type: str, *, present: bool, eligible: bool) -> Decimal:
    """Units a day earns: 1 for a full day, the half-day weight for a half day, else 0."""
    if not (present and eligible):
        return ZERO
    return rule.half_day_weight if care_type == "half_day" else Decimal(1)


def is_eligible(rule: SubsidyRule, care_type: str, puhui_place: bool) -> bool:
    """Whether an enrolment's day can earn the subsidy."""
    return care_type in rule.eligible_care_types and (puhui_place or not rule.puhui_place_only)


def age_months(birth: date, on: date) -> int:
    """Age in whole months on a day."""
    months = (on.year - birth.year) * 12 + on.month - birth.month
    return months - (1 if on.day < birth.day else 0)


def rate_for(rule: SubsidyRule, *, grade: str, age: int) -> tuple[Decimal, str]:
    """The monthly rate for a child and the label of where it came from."""
    if rule.basis == SubsidyBasis.GRADE:
        return rule.grade_rates.get(grade, ZERO), f"grade {grade}"
    for band in rule.age_bands:
        if band.min_age_months <= age < band.max_age_months:
            return band.rate, f"age {band.min_age_months}-{band.max_age_months} m"
    return ZERO, f"age {age} m: no band"


@dataclass(frozen=True)
class Proration:
    """The share of the rate paid, the amount and the formula as text."""

    ratio: Decimal
    amount: Decimal
    text: str


def prorate(
    rule: SubsidyRule, *, rate: Decimal, service_days: int, attended_days: int, units: Decimal
) -> Proration:
    """The default proration: nothing under the minimum days, else rate × units ÷ days."""
    if service_days <= 0 or rate <= 0:
        return Proration(ZERO, to_fen(ZERO), f"{rate} × 0")
    if attended_days < rule.min_attended_days:
        return Proration(ZERO, to_fen(ZERO), f"{attended_days} < {rule.min_attended_days} days: 0")
    share = units / service_days
    if share >= rule.full_rate_from_share:
        text = f"{rate} × 1 ({units_text(units)}/{service_days}"
        text += f" ≥ {percent(rule.full_rate_from_share)}%)"
        return Proration(Decimal(1), to_fen(rate), text)
    return Proration(share, to_fen(rate * share), f"{rate} × {units_text(units)}/{service_days}")


@dataclass
class ChildMonth:
    """What one child's rows add up to for the month (or so far)."""

    days_enrolled: int
    days_attended: int
    units: Decimal
    open_days: list[date] = field(default_factory=list)


def add_up(rows: list[DayRow]) -> ChildMonth:
    """Eligible enrolled days, attended days and units of a child's rows."""
    eligible = [r for r in rows if r.eligible]
    present = [r for r in eligible if r.present]
    return ChildMonth(
        days_enrolled=len(eligible),
        days_attended=len(present),
        units=sum((r.weight for r in present), ZERO),
        open_days=[r.day for r in present if r.open_checkin],
    )


def project(done: ChildMonth, remaining_days: int) -> tuple[int, Decimal]:
    """Month-end attended days and units if the child keeps attending as so far.

    A child with no enrolled day yet is assumed to attend every remaining day.
    """
    if done.days_enrolled == 0:
        return remaining_days, Decimal(remaining_days)
    day_rate = Decimal(done.days_attended) / done.days_enrolled
    unit_rate = done.units / done.days_enrolled
    days = done.days_attended + int(
        (day_rate * remaining_days).to_integral_value(rounding=ROUND_HALF_UP)
    )
    units = done.units + (unit_rate * remaining_days).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return days, units
