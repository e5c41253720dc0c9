"""Subsidy settlement of a 200-child month and its XLSX export.

Seeds the demo facility (200 children, a month and a half of attendance up to a fixed
day in March 2026), then times, each in a fresh session and rolled back afterwards so
every run settles the same month:

* baseline: loading February's attendance rows (one SELECT, ORM objects);
* the live claim of February (what the claim page shows);
* settling February (claim, snapshot lines, audit entry, flush);
* the XLSX export of the settled claim.

Prints median and p95 next to the targets (settlement median < 1 s, XLSX < 2 s). Run
from the repository root:

    .venv/bin/python benchmarks/bench_settlement.py --backend sqlite --backend postgresql
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import database, machine, workdir
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carewatch.db import make_engine, make_session_factory, transaction
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance.models import AttendanceRecord
from facility_app.demo.seed import seed_demo
from facility_app.facility.service import get_facility
from facility_app.settlement import exports
from facility_app.settlement import service as settlement

log = logging.getLogger(__name__)

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
MONTH = "2026-02"
TARGET_SETTLE_S = 1.0
TARGET_XLSX_S = 2.0


def timed(
    factory: Callable[[], Session], work: Callable[[Session], object], runs: int
) -> list[float]:
    """Seconds per run of ``work`` in a fresh session, rolled back after (one warm-up)."""
    out = []
    for i in range(runs + 1):
        session = factory()
        try:
            t = time.perf_counter()
            work(session)
            took = time.perf_counter() - t
        finally:
            session.rollback()
            session.close()
        if i:
            out.append(took)
    return out


def load_rows(session: Session) -> int:
    """The baseline: February's attendance rows as ORM objects."""
    fac = get_facility(session)
    first, last = date(2026, 2, 1), date(2026, 2, 28)
    rows = session.scalars(
        select(AttendanceRecord).where(AttendanceRecord.day.between(first, last))
    ).all()
    return len(rows) + fac.id * 0


def live_claim(session: Session) -> object:
    """The draft claim as the page computes it."""
    return settlement.compute_claim(session, get_facility(session), MONTH)


def settle(session: Session) -> object:
    """Settle and lock February (rolled back by the caller)."""
    done = settlement.settle_month(session, SYSTEM, get_facility(session), MONTH, now=NOW)
    session.flush()
    return done


def stats(values: list[float]) -> str:
    """Median and p95 in milliseconds."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(values) * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms"


def run_backend(backend: str, args: argparse.Namespace) -> bool:
    """Seed, time, print; whether both targets were met."""
    with workdir() as tmp, database(backend, tmp) as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        t = time.perf_counter()
        with transaction(factory) as session:
            seed_demo(session, NOW, children=args.children, days=45, seed=11)
        seeded = time.perf_counter() - t
        with factory() as session:
            n_rows = load_rows(session)
            claim = live_claim(session)
            total = session.scalar(select(func.count()).select_from(AttendanceRecord))
        print(
            f"[{backend}] seeded {args.children} children ({total} attendance rows) in "
            f"{seeded:.1f} s; {MONTH}: {n_rows} rows, {len(claim.lines)} eligible children, "  # type: ignore[attr-defined]
            f"{claim.total} yuan"  # type: ignore[attr-defined]
        )
        base = timed(factory, load_rows, args.runs)
        draft = timed(factory, live_claim, args.runs)
        settled = timed(factory, settle, args.runs)
        with transaction(factory) as session:
            locked = settlement.claim_from_settlement(settle(session))  # type: ignore[arg-type]
        xlsx_times, size = [], 0
        for _ in range(args.runs):
            t = time.perf_counter()
            size = len(exports.to_xlsx(locked))
            xlsx_times.append(time.perf_counter() - t)
        engine.dispose()
    print(f"  baseline: load the month's rows  {stats(base)}")
    print(f"  live claim (draft)               {stats(draft)}")
    print(f"  settle and lock                  {stats(settled)}   target < {TARGET_SETTLE_S} s")
    print(f"  XLSX export ({size // 1024:3d} KiB)           {stats(xlsx_times)}", end="")
    print(f"   target < {TARGET_XLSX_S} s")
    met_settle = statistics.median(settled) < TARGET_SETTLE_S
    return met_settle and statistics.median(xlsx_times) < TARGET_XLSX_S


def main() -> None:
    """Parse arguments and run each backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--children", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(machine())
    ok = all(run_backend(b, args) for b in args.backend or ["sqlite"])
    print("targets met" if ok else "TARGETS MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
