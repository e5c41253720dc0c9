"""Illness-cluster detection over a year of illness cases for 200 children.

Generates a year of illness cases (about 4 % of 200 children ill on a service day, with
a few outbreaks), then times loading the year's cases and running every cluster rule of
the policy over them, next to a baseline in the same run: one ``SELECT`` of the year's
case rows. Target: median under 100 ms. Run from the repository root:

    .venv/bin/python benchmarks/bench_clusters.py --backend sqlite --backend postgresql
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from common import database, per_backend, workdir
from sqlalchemy import insert, select

from carewatch.db import make_engine, make_session_factory, transaction
from carewatch.policy import HealthPolicy
from facility_app.children.models import Child, Sex
from facility_app.facility.models import ClassRoom, Facility
from health_records.illness import Case, find_clusters
from health_records.models import IllnessCase

TARGET_MS = 100.0
SYNDROMES = ["fever", "fever_respiratory", "influenza_like", "gastrointestinal", "rash", "hfmd"]


def seed(url: str, children: int = 200) -> int:
    """A facility, 10 classes, ``children`` children and a year of cases; returns the count."""
    rng = random.Random(3)
    now = datetime(2026, 12, 31, 9, tzinfo=UTC)
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
            Child(facility_id=fac.id, name=f"孩子{i}", sex=Sex.FEMALE, birth_date=date(2024, 1, 1))
            for i in range(children)
        ]
        session.add_all(kids)
        session.flush()
        rows = []
        day = date(2026, 1, 1)
        while day <= date(2026, 12, 31):
            if day.weekday() < 5:
                outbreak = rng.random() < 0.03
                for kid in kids:
                    if (
                        rng.random() < (0.12 if outbreak else 0.04) / 5
                    ):  # onset ≈ a fifth of sick days
                        rows.append(
                            {"child_id": kid.id, "class_id": rooms[kid.id % 10].id,
                             "onset_day": day, "symptoms": ["fever"],
                             "syndrome": rng.choice(SYNDROMES), "recorded_at": now,
                             "notifiable": False}
                        )  # fmt: skip
            day += timedelta(days=1)
        session.execute(insert(IllnessCase), rows)
    return len(rows)


def run(backend: str, repeat: int) -> None:
    """Seed, then time detection against the baseline."""
    with workdir() as tmp, database(backend, tmp) as url:
        count = seed(url)
        factory = make_session_factory(make_engine(url))
        policy = HealthPolicy()
        now = datetime(2026, 12, 31, 9, tzinfo=UTC)
        base, full = [], []
        with factory() as session:
            for _ in range(repeat):
                t = time.perf_counter()
                session.execute(select(IllnessCase.id, IllnessCase.onset_day)).all()
                base.append(time.perf_counter() - t)
                t = time.perf_counter()
                rows = session.execute(
                    select(
                        IllnessCase.id, IllnessCase.class_id, IllnessCase.onset_day,
                        IllnessCase.syndrome, IllnessCase.notifiable, IllnessCase.disease,
                    )
                ).all()  # fmt: skip
                found = find_clusters((Case(*r) for r in rows), policy, now)
                full.append(time.perf_counter() - t)
        med = statistics.median(full) * 1000
        print(
            f"{backend:<10} {count} cases, {len(found)} clusters: detection median {med:6.1f} ms "
            f"p95 {sorted(full)[int(0.95 * len(full))] * 1000:6.1f} ms | baseline (select the "
            f"year's cases) median {statistics.median(base) * 1000:5.1f} ms | target < "
            f"{TARGET_MS:.0f} ms: {'met' if med < TARGET_MS else 'NOT met'}"
        )


def main() -> None:
    """Parse arguments and run each backend."""
    per_backend(__doc__, run, repeat=50)


if __name__ == "__main__":
    main()
