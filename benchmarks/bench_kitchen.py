"""The food and hygiene checks on a month of a full facility's records, in process.

Builds a fresh database (6 classes of 15 children, one in five with an allergy note; a
month of menus with 4 meals of 3 dishes a day, each served and sampled; 40 disinfection
tasks logged twice a day), then times, in the same run against the same session:

1. ``SELECT 1`` (the baseline: session and driver round trip only);
2. ``kitchen.findings`` (food.sample_retention and food.allergen over 7 days);
3. ``hygiene.findings`` (hygiene.disinfection: every task's due day and overdue state);
4. ``kitchen.day_meals`` (one day's meals with the children each dish affects).

Run from the repository root:

    .venv/bin/python benchmarks/bench_kitchen.py --backend sqlite --backend postgresql
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from common import TABLE_HEAD, Summary, database, machine, workdir
from sqlalchemy import text

from carewatch.db import make_engine, make_session_factory
from carewatch.policy import ClassType, DisinfectionMethod
from facility_app.accounts.permissions import SYSTEM
from facility_app.children.models import CareType, Child, Enrolment, Sex
from facility_app.demo.people import create_facility
from facility_app.facility import service as facilities
from facility_app.hygiene import service as hygiene
from facility_app.hygiene.models import DisinfectionLog, DisinfectionTask, Target
from facility_app.kitchen import service as kitchen
from facility_app.kitchen.models import Dish, FoodSample, Meal, MenuItem

log = logging.getLogger(__name__)

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 31, 16, 0, tzinfo=SH)
NOTES = ["对鸡蛋过敏", "牛奶、花生", "虾、蟹", "小麦", "芒果；猫毛"]
ALLERGENS = ["", "egg", "milk", "", "peanut", "shellfish", "", "wheat", "soy", "", "fish", "",
             "sesame", "", "milk,egg"]  # fmt: skip


def build(url: str) -> None:
    """A month of a full facility's kitchen and hygiene records."""
    engine = make_engine(url)
    session = make_session_factory(engine)()
    fac = create_facility(session)
    session.flush()
    rooms = [
        facilities.save_class(
            session, SYSTEM, fac, now=NOW, name=f"班{i}", class_type=ClassType.OLDER, capacity=20
        )
        for i in range(6)
    ]
    n = 0
    for room in rooms:
        for _ in range(15):
            kid = Child(
                facility_id=fac.id, name=f"孩子{n}", sex=Sex.FEMALE, birth_date=date(2024, 1, 1),
                allergies=NOTES[n % len(NOTES)] if n % 5 == 0 else "",
            )  # fmt: skip
            kid.enrolments.append(
                Enrolment(
                    class_id=room.id, care_type=CareType.FULL_DAY, start_date=date(2026, 1, 1)
                )
            )
            session.add(kid)
            n += 1
    dishes = [Dish(facility_id=fac.id, name=f"菜{i}", allergens=a) for i, a in enumerate(ALLERGENS)]
    session.add_all(dishes)
    session.flush()
    for d in range(31):
        day = date(2026, 3, 1) + timedelta(days=d)
        at = datetime.combine(day, datetime.min.time(), tzinfo=SH) + timedelta(hours=11)
        for m, meal in enumerate((Meal.BREAKFAST, Meal.LUNCH, Meal.AFTERNOON_SNACK, Meal.DINNER)):
            for k in range(3):
                dish = dishes[(d * 7 + m * 3 + k) % len(dishes)]
                item = MenuItem(day=day, meal=meal, dish_id=dish.id, served_at=at, planned_at=at)
                item.sample = FoodSample(
                    weight_g=130, fridge="1号", stored_at=at, recorded_at=at,
                    discarded_at=at + timedelta(hours=49) if day < NOW.date() - timedelta(days=2)
                    else None,
                )  # fmt: skip
                session.add(item)
    targets = list(Target)
    for t in range(40):
        task = DisinfectionTask(
            area=f"区域{t}", target=targets[t % len(targets)],
            method=DisinfectionMethod.VENTILATION, duration_minutes=15, times_per_day=2,
            start_date=date(2026, 1, 1), created_at=NOW,
        )  # fmt: skip
        session.add(task)
        session.flush()
        for d in range(31):
            day = date(2026, 3, 1) + timedelta(days=d)
            for hour in (9, 15):
                at = datetime.combine(day, datetime.min.time(), tzinfo=SH) + timedelta(hours=hour)
                session.add(DisinfectionLog(
                    task_id=task.id, day=day, done_at=at, duration_minutes=15, recorded_at=at,
                ))  # fmt: skip
    session.commit()
    session.close()
    engine.dispose()


def timed(name: str, fn: Callable[[], object], n: int) -> Summary:
    """Run ``fn`` n times (after one warm-up) and summarise the latencies."""
    fn()
    seconds = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t)
    return Summary.of(name, seconds, 0, time.perf_counter() - start)


def run(backend: str, n: int) -> None:
    """Build, then time the checks on one backend."""
    with workdir() as tmp, database(backend, tmp) as url:
        t = time.perf_counter()
        build(url)
        print(f"\n### {backend} (data built in {time.perf_counter() - t:.1f} s)\n")
        engine = make_engine(url)
        session = make_session_factory(engine)()
        fac = facilities.get_facility(session)
        rows = [
            timed("baseline SELECT 1", lambda: session.execute(text("SELECT 1")).scalar(), n),
            timed("kitchen.findings (7 days)", lambda: kitchen.findings(session, fac, NOW), n),
            timed("hygiene.findings (40 tasks)", lambda: hygiene.findings(session, fac, NOW), n),
            timed("kitchen.day_meals", lambda: kitchen.day_meals(session, fac, NOW.date()), n),
        ]
        found = kitchen.findings(session, fac, NOW)
        print(TABLE_HEAD)
        for row in rows:
            print(row.row())
        print(
            f"\nfindings: sample_retention={found['food.sample_retention'].status} "
            f"allergen={found['food.allergen'].status} "
            f"disinfection={hygiene.findings(session, fac, NOW).status}"
        )
        session.close()
        engine.dispose()


def main() -> None:
    """Parse arguments and run each backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("-n", type=int, default=30, help="timed runs of each check")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for backend in args.backend or ["sqlite"]:
        run(backend, args.n)


if __name__ == "__main__":
    main()
