"""Children's growth records: recording a measurement, and reading them with WHO z-scores.

Impossible values (outside the policy's absolute limits of weight and length) are refused.
Values WHO calls biologically implausible (its z-score flags) are possible typing or
measuring errors but also real, rare children: they are stored and flagged "measure again".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from carewatch.errors import DomainError
from carewatch.policy import GrowthPolicy
from carewatch.validate import text
from facility_app.accounts.permissions import Actor, Perm
from facility_app.audit import service as audit
from facility_app.children.models import Child
from facility_app.facility.models import Facility
from facility_app.facility.service import today
from health_records import growth
from health_records.growth_models import GrowthMeasurement, MeasuredPosition

log = logging.getLogger(__name__)

Number = Decimal | str | float | int | None


@dataclass(frozen=True)
class GrowthRow:
    """A measurement with its z-scores and their classification, computed on read."""

    measurement: GrowthMeasurement
    z: growth.ZScores
    assessment: growth.Assessment

    @property
    def flagged(self) -> list[str]:
        """Indicators WHO flags as implausible: the child should be measured again."""
        return self.assessment.flagged


def age_days(child: Child, day: date) -> int:
    """Completed days of age on ``day``."""
    return (day - child.birth_date).days


def assess(child: Child, m: GrowthMeasurement, policy: GrowthPolicy) -> GrowthRow:
    """A measurement's z-scores and classification for this child's sex and age."""
    age = age_days(child, m.measured_on)
    if not 0 <= age <= growth.max_age_days():
        # A birth date corrected after the fact: the row stays, with nothing to compare.
        log.warning("growth measurement %s is outside the WHO age range", m.id)
        none = growth.ZScores(age, None, None, None, growth.Indicator.WFH, None, False)
        return GrowthRow(m, none, growth.classify(none, policy))
    z = growth.zscores(
        child.sex.value,  # type: ignore[arg-type]
        age,
        float(m.weight_kg) if m.weight_kg is not None else None,
        float(m.length_cm) if m.length_cm is not None else None,
        m.position.value if m.position is not None else None,  # type: ignore[arg-type]
    )
    return GrowthRow(m, z, growth.classify(z, policy))


def _number(value: Number, field: str, places: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip()).quantize(Decimal(places))
    except (InvalidOperation, ValueError):
        raise DomainError("invalid_number", "Enter a number.", field=field) from None
    if not number.is_finite():
        raise DomainError("invalid_number", "Enter a number.", field=field)
    return number


def _check_limits(weight: Decimal | None, length: Decimal | None, gp: GrowthPolicy) -> None:
    if weight is not None and not gp.min_weight_kg <= weight <= gp.max_weight_kg:
        raise DomainError(
            "weight_impossible",
            "A weight of %(value)s kg is not possible for a young child (%(lo)s–%(hi)s kg); "
            "check the scale and the figure, then weigh again.",
            field="weight_kg",
            value=str(weight),
            lo=str(gp.min_weight_kg),
            hi=str(gp.max_weight_kg),
        )
    if length is not None and not gp.min_length_cm <= length <= gp.max_length_cm:
        raise DomainError(
            "length_impossible",
            "A length or height of %(value)s cm is not possible for a young child "
            "(%(lo)s–%(hi)s cm); measure again.",
            field="length_cm",
            value=str(length),
            lo=str(gp.min_length_cm),
            hi=str(gp.max_length_cm),
        )


def _check_day(child: Child, measured_on: date, day: date, gp: GrowthPolicy) -> int:
    if measured_on > day:
        raise DomainError("date_in_future", "This date is in the future.", field="measured_on")
    age = age_days(child, measured_on)
    if age < 0:
        raise DomainError(
            "before_birth", "This date is before the child's birth.", field="measured_on"
        )
    limit = min(growth.max_age_days(), round(gp.max_age_months * growth.DAYS_PER_MONTH))
    if age > limit:
        raise DomainError(
            "too_old_for_standard",
            "The WHO growth standards used here cover children up to %(months)s months; "
            "the child was older on that day.",
            field="measured_on",
            months=gp.max_age_months,
        )
    return age


def record_measurement(
    session: Session,
    actor: Actor,
    facility: Facility,
    child: Child,
    *,
    now: datetime,
    measured_on: date,
    weight_kg: Number = None,
    length_cm: Number = None,
    position: MeasuredPosition | str | None = None,
    measured_by: str = "",
    note: str = "",
) -> GrowthRow:
    """Record (or correct) a child's weight and/or length on a day, with its z-scores.

    A second measurement on the same day replaces the first (the audit log keeps both).
    Without a position the length counts as taken the way WHO measures at that age.
    """
    actor.require(Perm.HEALTH_WRITE)
    gp = facility.policy().growth
    age = _check_day(child, measured_on, today(facility, now), gp)
    weight = _number(weight_kg, "weight_kg", "0.01")
    length = _number(length_cm, "length_cm", "0.1")
    if weight is None and length is None:
        raise DomainError(
            "nothing_measured", "Enter a weight, a length or height, or both.", field="weight_kg"
        )
    _check_limits(weight, length, gp)
    try:
        pos = MeasuredPosition(position) if position else None
    except ValueError:
        raise DomainError(
            "invalid_choice", "Choose one of the offered options.", field="position"
        ) from None
    if length is not None and pos is None:
        pos = MeasuredPosition(growth.default_position(age))
    row = session.scalar(
        select(GrowthMeasurement).where(
            GrowthMeasurement.child_id == child.id, GrowthMeasurement.measured_on == measured_on
        )
    )
    before = audit.snapshot(row) if row is not None else None
    if row is None:
        row = GrowthMeasurement(child_id=child.id, measured_on=measured_on)
        session.add(row)
    row.weight_kg, row.length_cm = weight, length
    row.position = pos if length is not None else None
    row.measured_by = text(measured_by, field="measured_by", limit=60)
    row.note = text(note, field="note", limit=500)
    row.recorded_at, row.recorded_by_id = now, actor.user_id
    session.flush()
    result = assess(child, row, gp)
    audit.log_change(
        session, actor, now, "create" if before is None else "update", "growth_measurement",
        row, before=before,
    )  # fmt: skip
    if result.flagged:
        log.info("growth measurement %s flagged implausible: %s", row.id, result.flagged)
    return result


def measurements(session: Session, facility: Facility, child: Child) -> list[GrowthRow]:
    """A child's measurements, oldest first, each with its z-scores and classification."""
    gp = facility.policy().growth
    rows = session.scalars(
        select(GrowthMeasurement)
        .where(GrowthMeasurement.child_id == child.id)
        .order_by(GrowthMeasurement.measured_on)
    )
    return [assess(child, m, gp) for m in rows]
