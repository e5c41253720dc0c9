"""The director's page (/today) on a facility with 200 children and a year of history.

Seeds the facility with the demo seed's bulk writers (one year of attendance, duty and
breaches), signs a director in and renders /today through the whole Flask app (test
client: routing, session, queries, template) many times; prints median and p95 next to
/healthz measured the same way, against the target median < 200 ms. Run from the
repository root:

    .venv/bin/python benchmarks/bench_dashboard.py --backend sqlite --backend postgresql
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from datetime import datetime

from common import TABLE_HEAD, Summary, csrf_from, database, machine, workdir
from sqlalchemy import func, select

from carewatch.clock import SystemClock
from carewatch.db import make_engine, make_session_factory, transaction
from facility_app import create_app
from facility_app.attendance.models import AttendanceRecord
from facility_app.demo.people import DEMO_ACCOUNTS
from facility_app.demo.seed import seed_demo
from facility_app.web.extensions import dispose

TARGET_MEDIAN_MS = 200.0


def seed(url: str, children: int, days: int) -> tuple[float, int]:
    """The demo facility at benchmark size; returns seconds taken and attendance rows."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    t = time.perf_counter()
    with transaction(factory) as session:
        seed_demo(session, SystemClock().now(), children=children, days=days, seed=11)
    took = time.perf_counter() - t
    with factory() as session:
        rows = session.scalar(select(func.count()).select_from(AttendanceRecord)) or 0
    engine.dispose()
    return took, rows


def measure(client, path: str, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds taken by each of n GETs of a path (after two warm-up requests)."""
    for _ in range(2):
        assert client.get(path).status_code == 200
    out = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.get(path)
        out.append(time.perf_counter() - t)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    return out


def run_backend(backend: str, args: argparse.Namespace) -> tuple[list[Summary], float]:
    """Seed, sign in, time; return the summaries and the /today median in ms."""
    with workdir() as tmp, database(backend, tmp) as url:
        took, rows = seed(url, args.children, args.days)
        print(
            f"[{backend}] seeded {args.children} children, {rows} attendance rows in {took:.1f} s"
        )
        app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False}
        )
        client = app.test_client()
        director = next(a for a in DEMO_ACCOUNTS if a.username == "director")
        token = csrf_from(client.get("/auth/login").get_data(as_text=True))
        signed = client.post(
            "/auth/login",
            data={
                "username": director.username,
                "password": director.password,
                "csrf_token": token,
            },
        )
        if signed.status_code != 302:
            raise RuntimeError(f"director sign-in failed: {signed.status_code}")
        today = measure(client, "/today", args.requests)
        healthz = measure(client, "/healthz", args.requests)
        dispose(app)
    summaries = [
        Summary.of("GET /today", today, 0, sum(today)),
        Summary.of("GET /healthz", healthz, 0, sum(healthz)),
    ]
    return summaries, statistics.median(today) * 1000


def main() -> None:
    """Parse options, run each backend, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--children", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"machine: {machine()}")
    print(f"load average before the run: {os.getloadavg()[0]:.1f} (other work on the machine)")
    print("one client, sequential requests through the Flask test client (no network)")
    for backend in args.backend or ["sqlite"]:
        summaries, median = run_backend(backend, args)
        verdict = "meets" if median < TARGET_MEDIAN_MS else "MISSES"
        print(f"\n### {backend} ({datetime.now():%Y-%m-%d %H:%M})\n")
        print(TABLE_HEAD)
        for s in summaries:
            print(s.row())
        print(
            f"\n/today median {median:.1f} ms ({verdict} the target of "
            f"< {TARGET_MEDIAN_MS:.0f} ms)\n"
        )


if __name__ == "__main__":
    main()
