"""The staff compliance summary for 40 staff: credentials, exams, training, ban list.

Builds a facility with 40 staff (32 caregivers), each with certificates, a health exam,
a background check, a year of training records and an ID-number hash, and a ban list of
2,000 entries; then times ``staff_summary`` + ``findings`` (what the compliance engine and
the credentials page run) next to a baseline in the same run: one ``SELECT`` of the 40
staff rows. Target: median under 100 ms. Run from the repository root:

    .venv/bin/python benchmarks/bench_staff_credentials.py --backend sqlite --backend postgresql
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date, timedelta

from common import database, per_backend, workdir
from sqlalchemy import select

from carewatch.clock import SystemClock
from carewatch.db import make_engine, make_session_factory, transaction
from facility_app.accounts.permissions import SYSTEM
from facility_app.credentials import service as credentials
from facility_app.credentials.summary import findings, staff_summary
from facility_app.facility.models import Facility
from facility_app.facility.service import today
from facility_app.staff import service as staff_service
from facility_app.staff.models import Staff, StaffRole
from health_records.rules import normalise_id_number

TARGET_MS = 100.0
_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(rng: random.Random) -> str:
    """A random ID number with a correct check character."""
    body = (
        f"{rng.randint(110000, 659999)}{rng.randint(1970, 2004)}"
        f"0{rng.randint(1, 9)}1{rng.randint(0, 9)}{rng.randint(100, 999)}"
    )
    check = sum(int(c) * w for c, w in zip(body, _W, strict=True)) % 11
    return normalise_id_number(body + "10X98765432"[check])


def seed(url: str) -> None:
    """40 staff with full credentials and a 2,000-person ban list."""
    rng = random.Random(5)
    factory = make_session_factory(make_engine(url))
    now = SystemClock().now()
    with transaction(factory) as session:
        fac = Facility(name="基准托育园")
        session.add(fac)
        session.flush()
        day = today(fac, now)
        roles = [StaffRole.CAREGIVER] * 32 + [StaffRole.DIRECTOR] + [StaffRole.COOK] * 7
        for i, role in enumerate(roles):
            person = staff_service.save_staff(
                session, SYSTEM, fac, now=now, name=f"员工{i}", role=role,
                hire_date=date(2020, 1, 1),
            )  # fmt: skip
            if role == StaffRole.CAREGIVER:
                for k in range(2):
                    credentials.add_certificate(
                        session, SYSTEM, fac, person.id, now=now, kind="caregiver",
                        number=f"C{i}-{k}", valid_from=date(2019, 1, 1),
                        expires_on=day + timedelta(days=rng.randint(-100, 900)),
                    )  # fmt: skip
            credentials.add_health_exam(
                session, SYSTEM, fac, person.id, now=now,
                exam_date=day - timedelta(days=rng.randint(0, 400)), result="fit",
            )  # fmt: skip
            credentials.add_background_check(
                session, SYSTEM, fac, person.id, now=now, issued_on=date(2020, 1, 1)
            )
            for _ in range(12):
                credentials.add_training(
                    session, SYSTEM, fac, person.id, now=now, course="培训", hours=8,
                    done_on=day - timedelta(days=rng.randint(0, 360)),
                )  # fmt: skip
            credentials.set_id_number(
                session, SYSTEM, fac, person.id, now=now, id_number=id_number(rng)
            )
        rows = "\n".join(f"某{i},{id_number(rng)}" for i in range(2000))
        credentials.import_ban_list(session, SYSTEM, fac, now=now, csv_text=rows)


def run(backend: str, repeat: int) -> None:
    """Seed, then time the summary against the baseline."""
    with workdir() as tmp, database(backend, tmp) as url:
        seed(url)
        factory = make_session_factory(make_engine(url))
        with factory() as session:
            fac = session.scalars(select(Facility)).one()
            day = today(fac, SystemClock().now())
            base, full = [], []
            for _ in range(repeat):
                t = time.perf_counter()
                session.scalars(select(Staff).where(Staff.facility_id == fac.id)).all()
                base.append(time.perf_counter() - t)
                session.expire_all()
                t = time.perf_counter()
                result = findings(staff_summary(session, fac, day))
                full.append(time.perf_counter() - t)
                session.expire_all()
        statuses = {k: v.status for k, v in result.items()}
        med = statistics.median(full) * 1000
        print(
            f"{backend:<10} summary median {med:6.1f} ms  p95 "
            f"{sorted(full)[int(0.95 * len(full))] * 1000:6.1f} ms  | baseline (select staff) "
            f"median {statistics.median(base) * 1000:5.2f} ms  | target < {TARGET_MS:.0f} ms: "
            f"{'met' if med < TARGET_MS else 'NOT met'}  {statuses}"
        )


def main() -> None:
    """Parse arguments and run each backend."""
    per_backend(__doc__, run, repeat=50)


if __name__ == "__main__":
    main()
