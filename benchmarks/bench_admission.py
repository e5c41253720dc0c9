"""Admission standing at the door: the check-in's extra reads, for one child and a class.

Seeds 200 children in 10 classes, each with an admission exam, the doses due for their
age and a year of attendance (about 40 000 rows), then times
``facility_app.health.admission.statuses`` for one child (what a check-in adds) and for a
class of 20 (the health officer's list reads every class the same way), next to a
baseline in the same run: reading one child's attendance row of the day, which every
check-in does anyway. Target: one child under 10 ms. Run from the repository root:

    .venv/bin/python benchmarks/bench_admission.py --backend sqlite --backend postgresql
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from common import database, per_backend, workdir
from sqlalchemy import insert, select

from carewatch.db import make_engine, make_session_factory, transaction
from carewatch.policy import DEFAULT_POLICY
from facility_app.attendance.models import AttendanceRecord, AttendanceStatus
from facility_app.children.models import CareType, Child, Enrolment, Sex
from facility_app.facility.models import ClassRoom, Facility
from facility_app.health import admission
from health_records.child_exams import ChildHealthExam, Vaccination
from health_records.rules import add_months

TARGET_MS = 10.0
DAY = date(2026, 12, 31)


def seed(url: str, children: int = 200) -> tuple[int, int]:
    """A facility, 10 classes, children with exams, doses and a year of attendance."""
    rng = random.Random(5)
    now = datetime(2026, 12, 31, 1, tzinfo=UTC)
    factory = make_session_factory(make_engine(url))
    with transaction(factory) as session:
        fac = Facility(name="基准")
        session.add(fac)
        session.flush()
        rooms = [
            ClassRoom(facility_id=fac.id, name=f"班{i}", class_type="older", capacity=20)
            for i in range(10)
        ]
        session.add_all(rooms)
        session.flush()
        kids = [
            Child(facility_id=fac.id, name=f"孩子{i}", sex=Sex.FEMALE,
                  birth_date=date(2024, 1, 1) + timedelta(days=rng.randint(0, 300)))
            for i in range(children)
        ]  # fmt: skip
        session.add_all(kids)
        session.flush()
        enrol, exams, doses, days = [], [], [], []
        for kid in kids:
            room = rooms[kid.id % 10]
            enrol.append({"child_id": kid.id, "class_id": room.id, "care_type": CareType.FULL_DAY,
                          "start_date": date(2026, 1, 1)})  # fmt: skip
            exams.append({"child_id": kid.id, "kind": "admission", "exam_date": date(2025, 12, 1),
                          "result": "fit", "recorded_at": now})  # fmt: skip
            for d in DEFAULT_POLICY.admission.vaccine_schedule:
                on = add_months(kid.birth_date, d.due_months)
                if on <= DAY and rng.random() < 0.97:
                    doses.append({"child_id": kid.id, "vaccine": d.vaccine, "dose": d.dose,
                                  "given_on": on, "recorded_at": now})  # fmt: skip
            day = date(2026, 1, 1)
            while day < DAY:
                if day.weekday() < 5 and rng.random() < 0.9:
                    at = datetime(day.year, day.month, day.day, 1, tzinfo=UTC)
                    present = {"status": AttendanceStatus.PRESENT, "check_in_at": at}
                    days.append({"child_id": kid.id, "class_id": room.id, "day": day, **present})
                day += timedelta(days=1)
        session.execute(insert(Enrolment), enrol)
        session.execute(insert(ChildHealthExam), exams)
        session.execute(insert(Vaccination), doses)
        session.execute(insert(AttendanceRecord), days)
        return fac.id, len(days)


def run(backend: str, repeat: int) -> None:
    """Seed, then time one child and a class against the baseline."""
    with workdir() as tmp, database(backend, tmp) as url:
        fac_id, rows = seed(url)
        factory = make_session_factory(make_engine(url))
        base, one, klass = [], [], []
        with factory() as session:
            fac = session.get(Facility, fac_id)
            kids = list(session.scalars(select(Child).order_by(Child.id)))
            room = kids[:200:10]  # the 20 children of class 0
            for i in range(repeat):
                kid = kids[i % len(kids)]
                t = time.perf_counter()
                session.scalar(
                    select(AttendanceRecord).where(
                        AttendanceRecord.child_id == kid.id, AttendanceRecord.day == DAY
                    )
                )
                base.append(time.perf_counter() - t)
                t = time.perf_counter()
                admission.statuses(session, fac, [kid], DAY)
                one.append(time.perf_counter() - t)
                t = time.perf_counter()
                admission.statuses(session, fac, room, DAY)
                klass.append(time.perf_counter() - t)

        def ms(xs: list[float]) -> str:
            return f"median {statistics.median(xs) * 1000:5.1f} ms p95 " + (
                f"{sorted(xs)[int(0.95 * len(xs))] * 1000:5.1f} ms"
            )

        med = statistics.median(one) * 1000
        print(
            f"{backend:<10} {rows} attendance rows: one child {ms(one)} | class of 20 "
            f"{ms(klass)} | baseline (the day's attendance row) {ms(base)} | target < "
            f"{TARGET_MS:.0f} ms: {'met' if med < TARGET_MS else 'NOT met'}"
        )


def main() -> None:
    """Parse arguments and run each backend."""
    per_backend(__doc__, run, repeat=200)


if __name__ == "__main__":
    main()
