"""Children's growth: measurements with WHO z-scores; every read audited."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from facility_app.accounts.permissions import Perm
from facility_app.children.service import get_child
from facility_app.health import growth as growth_service
from facility_app.health.growth import GrowthRow
from health_records.growth_models import MeasuredPosition

from ..auth import current_actor, facility, now
from ..extensions import db
from ..health_audit import audit_health_read
from .registry import id_rule, operation
from .schemas import In, LocalDateTime, Out, text

log = logging.getLogger(__name__)

#: Loose bounds only: the facility's policy limits are checked by the service, which
#: answers with its own codes (weight_impossible, length_impossible).
Measure = Annotated[Decimal, Field(ge=0, le=1000)]


class GrowthIn(In):
    """A weight, a length or height, or both, measured on one day (the same day replaces)."""

    measured_on: date
    weight_kg: Measure | None = None
    length_cm: Measure | None = None
    position: MeasuredPosition | None = Field(
        None, description="lying or standing; left out: as WHO measures at that age"
    )
    measured_by: text(60) = ""  # type: ignore[valid-type]
    note: text(500) = ""  # type: ignore[valid-type]


class ZOut(Out):
    """WHO z-scores (2 decimals) and their classification; null where not computable."""

    wfa: float | None = Field(description="weight-for-age")
    lhfa: float | None = Field(description="length/height-for-age")
    wflh: float | None = Field(description="weight-for-length (under 2) or -height")
    wflh_table: str = Field(description="wfl or wfh: which table wflh comes from")
    wfa_class: str | None
    lhfa_class: str | None
    wflh_class: str | None
    flagged: list[str] = Field(description="indicators WHO flags as implausible")


class GrowthOut(Out):
    """A measurement with its z-scores."""

    id: int
    child_id: int
    measured_on: date
    age_days: int
    weight_kg: Decimal | None
    length_cm: Decimal | None
    position: MeasuredPosition | None
    measured_by: str
    note: str
    recorded_at: LocalDateTime
    z: ZOut


class GrowthList(Out):
    """A child's measurements, oldest first."""

    child_id: int
    sex: str
    items: list[GrowthOut]


def _out(row: GrowthRow) -> GrowthOut:
    m, z, a = row.measurement, row.z, row.assessment
    return GrowthOut(
        id=m.id,
        child_id=m.child_id,
        measured_on=m.measured_on,
        age_days=z.age_days,
        weight_kg=m.weight_kg,
        length_cm=m.length_cm,
        position=m.position,
        measured_by=m.measured_by,
        note=m.note,
        recorded_at=m.recorded_at,
        z=ZOut(
            wfa=z.waz,
            lhfa=z.lhaz,
            wflh=z.whz,
            wflh_table=z.weight_for.value,
            wfa_class=a.wfa,
            lhfa_class=a.lhfa,
            wflh_class=a.wflh,
            flagged=a.flagged,
        ),
    )


@operation(
    "GET",
    f"/children/{id_rule('child_id')}/growth",
    summary="A child's growth measurements with WHO z-scores",
    tag="health",
    perm=Perm.HEALTH_VIEW,
    response=GrowthList,
    description="Each read is written to the audit log first. Classes: normal, underweight, "
    "severely_underweight, stunted, severely_stunted, wasted, severely_wasted, overweight, "
    "obese, flagged (WHO's implausible-value flags: measure again).",
)
def list_growth(child_id: int) -> GrowthList:
    """A child's measurements, oldest first, with z-scores computed on read."""
    actor, fac = current_actor(), facility()
    child = get_child(db.session, actor, child_id)
    audit_health_read(child.id, "growth")
    rows = growth_service.measurements(db.session, fac, child)
    return GrowthList(child_id=child.id, sex=child.sex.value, items=[_out(r) for r in rows])


@operation(
    "POST",
    f"/children/{id_rule('child_id')}/growth",
    summary="Record a growth measurement",
    tag="health",
    perm=Perm.HEALTH_WRITE,
    body=GrowthIn,
    response=GrowthOut,
    status=201,
    description="Refused with 422: date_in_future, before_birth, too_old_for_standard, "
    "nothing_measured, weight_impossible, length_impossible (outside the policy's limits). "
    "Values beyond WHO's flags are stored and listed in ``z.flagged``.",
)
def add_growth(child_id: int, body: GrowthIn) -> GrowthOut:
    """Record a child's weight and/or length or height on a day."""
    actor = current_actor()
    child = get_child(db.session, actor, child_id)
    row = growth_service.record_measurement(
        db.session, actor, facility(), child, now=now(), **body.model_dump()
    )
    return _out(row)
