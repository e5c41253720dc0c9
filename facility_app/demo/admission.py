"""Demo admission files: most children have their admission exam and vaccinations on
record; a few lack the exam or a dose, so the door and the health officer's list show
warnings."""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from facility_app.children.models import Child, Enrolment
from facility_app.facility.models import Facility
from facility_app.facility.service import today
from health_records.child_exams import ChildHealthExam, Vaccination
from health_records.rules import add_months

log = logging.getLogger(__name__)

#: Shares of children whose file lacks something (the rest are complete).
NO_EXAM_SHARE = 0.08
MISSING_DOSE_SHARE = 0.12
HOSPITALS = ("区妇幼保健院", "市儿童医院", "社区卫生服务中心")


def seed_admission(session: Session, fac: Facility, now: datetime, seed: int) -> tuple[int, int]:
    """Exams and doses for the children enrolled today, written in bulk; returns the counts."""
    rng = random.Random(f"admission-{seed}")
    day = today(fac, now)
    rows = session.execute(
        select(Child.id, Child.birth_date, func.min(Enrolment.start_date))
        .join(Enrolment, Enrolment.child_id == Child.id)
        .where(Child.facility_id == fac.id)
        .group_by(Child.id, Child.birth_date)
        .order_by(Child.id)
    ).all()
    schedule = fac.policy().admission.vaccine_schedule
    exams: list[dict[str, object]] = []
    doses: list[dict[str, object]] = []
    for child_id, birth, first in rows:
        if rng.random() >= NO_EXAM_SHARE:
            taken = max(birth, first - timedelta(days=rng.randint(5, 60)))
            exams.append(_exam(child_id, taken, now, rng))
        given = [d for d in schedule if add_months(birth, d.due_months) <= day]
        if given and rng.random() < MISSING_DOSE_SHARE:
            # Drop the latest dose or two: the ones a busy family most often misses.
            given = given[: -rng.randint(1, min(2, len(given)))]
        for d in given:
            on: date = min(add_months(birth, d.due_months) + timedelta(rng.randint(0, 10)), day)
            doses.append(
                {"child_id": child_id, "vaccine": d.vaccine, "dose": d.dose, "given_on": on,
                 "place": "社区卫生服务中心", "verified": True, "recorded_at": now}
            )  # fmt: skip
    if exams:
        session.execute(insert(ChildHealthExam), exams)
    if doses:
        session.execute(insert(Vaccination), doses)
    log.info("demo admission files: %s exams, %s doses", len(exams), len(doses))
    return len(exams), len(doses)


def _exam(child_id: int, taken: date, now: datetime, rng: random.Random) -> dict[str, object]:
    return {
        "child_id": child_id, "kind": "admission", "exam_date": taken, "result": "fit",
        "institution": rng.choice(HOSPITALS), "notes": "", "scan_type": "",
        "recorded_at": now,
    }  # fmt: skip
