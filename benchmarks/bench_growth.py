"""Growth records: z-scores computed on read, and the health record page with its charts.

Seeds a child with a measurement every month from birth to 36 months (37 rows), then
times, next to a baseline in the same run:

* reading them with WHO z-scores and classification (``measurements``) against one
  ``SELECT`` of the same rows;
* the child's health record page (in-process test client, two SVG charts and the table)
  against the same page of a child without measurements.

Target: the growth part adds under 50 ms to the page. Run from the repository root:

    .venv/bin/python benchmarks/bench_growth.py --backend sqlite --backend postgresql
"""

from __future__ import annotations

import statistics
import time
from datetime import date

from common import csrf_from, database, per_backend, workdir
from sqlalchemy import select

from carewatch.clock import FixedClock
from carewatch.db import make_engine, make_session_factory
from carewatch.policy import ClassType
from facility_app import create_app
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.children.models import Sex
from facility_app.health import growth as growth_service
from health_records.growth import DAYS_PER_MONTH
from health_records.growth_models import GrowthMeasurement
from tests.conftest import T0
from tests.factories import PASSWORD, Builder

TARGET_MS = 50.0
BIRTH = date(2023, 4, 1)
LATER = T0.replace(month=6)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run(backend: str, repeat: int) -> None:
    """Seed, then time reads and pages against their baselines."""
    # Born 35 months before T0 so the class takes the child; the measurements are recorded
    # a few months later, when the child has turned three.
    with workdir() as tmp, database(backend, tmp) as url:
        session = make_session_factory(make_engine(url))()
        build = Builder(session, T0)
        fac = build.facility()
        room = build.room(fac, ClassType.OLDER, name="托大班")
        kid = build.child(fac, room, birth_date=BIRTH, name="测量")
        other = build.child(fac, room, birth_date=BIRTH, name="对照")
        kid.sex = Sex.MALE
        director = build.user(Role.DIRECTOR)
        session.commit()
        for month in range(37):
            day = date.fromordinal(BIRTH.toordinal() + round(month * DAYS_PER_MONTH))
            growth_service.record_measurement(
                session, SYSTEM, fac, kid, now=LATER, measured_on=day,
                weight_kg=3.3 + month * 0.3, length_cm=50 + month * 1.2,
            )  # fmt: skip
        session.commit()
        base, full = [], []
        for _ in range(repeat):
            session.expire_all()
            t = time.perf_counter()
            session.scalars(
                select(GrowthMeasurement).where(GrowthMeasurement.child_id == kid.id)
            ).all()
            base.append(time.perf_counter() - t)
            session.expire_all()
            t = time.perf_counter()
            rows = growth_service.measurements(session, fac, kid)
            full.append(time.perf_counter() - t)
        kid_id, other_id, username = kid.id, other.id, director.username
        session.close()
        print(
            f"{backend:<10} read {len(rows)} measurements with z-scores: median "
            f"{_median_ms(full):5.2f} ms | baseline (select the rows) {_median_ms(base):5.2f} ms"
        )
        app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False,
             "CLOCK": FixedClock(T0), "TESTING": True}
        )  # fmt: skip
        client = app.test_client()
        token = csrf_from(client.get("/auth/login").get_data(as_text=True))
        client.post(
            "/auth/login",
            data={"username": username, "password": PASSWORD, "csrf_token": token},
        )
        with_rows, without = [], []
        for _ in range(repeat):
            t = time.perf_counter()
            assert client.get(f"/health/children/{kid_id}").status_code == 200
            with_rows.append(time.perf_counter() - t)
            t = time.perf_counter()
            assert client.get(f"/health/children/{other_id}").status_code == 200
            without.append(time.perf_counter() - t)
        added = _median_ms(with_rows) - _median_ms(without)
        print(
            f"{backend:<10} record page with 37 measurements and charts: median "
            f"{_median_ms(with_rows):5.1f} ms | baseline (no measurements) "
            f"{_median_ms(without):5.1f} ms | added {added:5.1f} ms, target < {TARGET_MS:.0f} ms: "
            f"{'met' if added < TARGET_MS else 'NOT met'}"
        )


def main() -> None:
    """Parse arguments and run each backend."""
    per_backend(__doc__, run, repeat=30)


if __name__ == "__main__":
    main()
