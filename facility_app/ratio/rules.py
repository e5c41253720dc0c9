"""The class-size and caregiver-ratio rules as pure functions of counts and policy."""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date

from carewatch.policy import ClassRule


def required_caregivers(present: int, rule: ClassRule) -> int:
    """Caregivers needed on duty for ``present`` children (1:3 with 7 children needs 3)."""
    if present <= 0:
        return 0
    return math.ceil(present / rule.children_per_caregiver)


def size_limit(rule: ClassRule, capacity: int) -> int:
    """The lower of the policy's class-size limit and the room's own capacity."""
    return min(rule.max_children, capacity)


@dataclass(frozen=True)
class RatioStatus:
    """A class's status at one moment."""

    present: int
    caregivers: int
    required: int
    size_limit: int
    children_per_caregiver: int

    @property
    def ratio_ok(self) -> bool:
        """Enough caregivers on duty for the children present."""
        return self.caregivers >= self.required

    @property
    def capacity_ok(self) -> bool:
        """No more children present than the class may hold."""
        return self.present <= self.size_limit

    @property
    def ok(self) -> bool:
        """Both limits met."""
        return self.ratio_ok and self.capacity_ok


def evaluate(present: int, caregivers: int, rule: ClassRule, capacity: int) -> RatioStatus:
    """Evaluate both limits for given counts."""
    return RatioStatus(
        present=present,
        caregivers=caregivers,
        required=required_caregivers(present, rule),
        size_limit=size_limit(rule, capacity),
        children_per_caregiver=rule.children_per_caregiver,
    )


def age_in_months(birth: date, on: date) -> int:
    """Whole months of age on a day (a child born on 31 Jan is 1 month old on 28/29 Feb)."""
    months = (on.year - birth.year) * 12 + (on.month - birth.month)
    if on.day < birth.day:
        # The month is complete on the last day of a shorter month.
        last = calendar.monthrange(on.year, on.month)[1]
        if not (on.day == last and birth.day > last):
            months -= 1
    return months


def age_fits(birth: date, on: date, rule: ClassRule) -> bool:
    """Whether a child's age on a day lies in the class type's band [min, max)."""
    months = age_in_months(birth, on)
    return rule.min_age_months <= months < rule.max_age_months
