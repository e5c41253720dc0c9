"""Demo growth records: each child measured every three months since birth, following a
track of its own (a z-score that drifts a little), so the charts show believable curves."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from facility_app.children.models import Child
from facility_app.facility.models import Facility
from facility_app.facility.service import today
from health_records.growth import Indicator, default_position, lms_at_age
from health_records.growth_models import GrowthMeasurement, MeasuredPosition

log = logging.getLogger(__name__)

#: Days between two measurements of a child (the routine exams of the first years).
EVERY_DAYS = 91


def seed_growth(session: Session, fac: Facility, now: datetime, seed: int) -> int:
    """Measurements for every child of the facility, written in bulk; returns the count."""
    rng = random.Random(f"growth-{seed}")
    day = today(fac, now)
    rows: list[dict[str, object]] = []
    children = session.execute(
        select(Child.id, Child.birth_date, Child.sex).where(Child.facility_id == fac.id)
    ).all()
    for child_id, birth, sex in children:
        # Weight follows length loosely; both stay within ±2 SD, as most children do.
        track_l = _within(rng.gauss(0, 0.8))
        track_w = _within(0.6 * track_l + rng.gauss(0, 0.6))
        age = 0
        while birth + timedelta(days=age) <= day and age <= 3 * 366:
            track_w = _within(track_w + rng.gauss(0, 0.15))
            track_l = _within(track_l + rng.gauss(0, 0.1))
            weight = lms_at_age(Indicator.WFA, sex.value, age).value_at(track_w)
            length = lms_at_age(Indicator.LHFA, sex.value, age).value_at(track_l)
            position = MeasuredPosition(default_position(age))
            rows.append(
                {"child_id": child_id, "measured_on": birth + timedelta(days=age),
                 "weight_kg": _round(weight, "0.01"), "length_cm": _round(length, "0.1"),
                 "position": position, "measured_by": "保健医", "note": "",
                 "recorded_at": now}
            )  # fmt: skip
            age += EVERY_DAYS
    if rows:
        session.execute(insert(GrowthMeasurement), rows)
    log.info("demo growth records: %d measurements", len(rows))
    return len(rows)


def _within(z: float, limit: float = 2.0) -> float:
    return max(-limit, min(limit, z))


def _round(value: float, step: str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(step), rounding=ROUND_HALF_UP)
