"""Check-in/check-out at the door under 50 concurrent clients, against the trivial endpoint.

Starts the production server (`carewatch web`, gunicorn gthread) on 127.0.0.1 on a fresh
database, signs in one caregiver per client, then in the same run of the same server:

1. every client sends GET /healthz (the baseline: routing, WSGI and HTTP only);
2. every client checks its own children in and out: through the JSON API
   (POST /api/v1/attendance/check-in and check-out) when the server has it, else through
   the door page's forms (--via chooses).

Prints throughput and p50/p95/p99 latency of both, and check-in p95 / healthz p95 against
the target of at most 3x. Run from the repository root:

    .venv/bin/python benchmarks/bench_checkin.py --backend sqlite --backend postgresql
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime

import httpx
from common import (
    TABLE_HEAD,
    Summary,
    csrf_from,
    database,
    machine,
    web_server,
    workdir,
)

from carewatch.clock import SystemClock
from carewatch.db import make_engine, make_session_factory, transaction
from carewatch.policy import ClassType
from facility_app.accounts.models import Role, User
from facility_app.accounts.permissions import SYSTEM
from facility_app.accounts.service import hash_password
from facility_app.children import service as children
from facility_app.children.models import CareType, Sex
from facility_app.demo.people import add_months, create_facility
from facility_app.facility import service as facilities
from facility_app.staff import service as staff_service
from facility_app.staff.models import DutySession, StaffRole

log = logging.getLogger("bench_checkin")

PASSWORD = "bench-password-2026"
# The API answers 201 Created / 200; the door form redirects back to the class (303).
SUCCESS = {"api": {"in": {201}, "out": {200}}, "form": {"in": {303}, "out": {303}}}
TARGET_RATIO = 3.0


@dataclass
class ClientPlan:
    """One door client: its caregiver sign-in and the children it checks in and out."""

    username: str
    children: list[tuple[int, int]] = field(default_factory=list)  # (child id, guardian id)


def seed(url: str, clients: int, per_client: int) -> list[ClientPlan]:
    """A facility open around the clock, one class and one caregiver per client."""
    now = SystemClock().now()
    engine = make_engine(url)
    factory = make_session_factory(engine)
    # One hash for every bench account: argon2 costs a third of a second each here.
    password_hash = hash_password(PASSWORD)
    plans = []
    with transaction(factory) as session:
        # Every day a service day and closing at 23:59, so whenever the benchmark runs the
        # check-ins are accepted and no check-out counts as a late pick-up.
        fac = create_facility(
            session,
            name="基准测试托育中心",
            opening=dtime(0, 0),
            closing=dtime(23, 59),
            overrides={"attendance": {"service_weekdays": list(range(7))}},
        )
        day = facilities.today(fac, now)
        birth = add_months(day, -30)  # 30 months old: fits 托大班 (24-36 months)
        for i in range(clients):
            room = facilities.save_class(
                session, SYSTEM, fac, now=now, name=f"基准{i + 1}班",
                class_type=ClassType.OLDER, capacity=20,
            )  # fmt: skip
            caregiver = staff_service.save_staff(
                session, SYSTEM, fac, now=now, name=f"老师{i + 1}", role=StaffRole.CAREGIVER,
                hire_date=date(2020, 1, 1), class_ids=[room.id],
            )  # fmt: skip
            # On duty all along, so the ratio check runs but finds nothing wrong.
            session.add(
                DutySession(
                    staff_id=caregiver.id, class_id=room.id, start_at=now - timedelta(hours=1)
                )
            )
            username = f"door{i + 1}"
            session.add(
                User(
                    username=username,
                    display_name=caregiver.name,
                    password_hash=password_hash,
                    role=Role.CAREGIVER,
                    staff_id=caregiver.id,
                )
            )
            plan = ClientPlan(username)
            for j in range(per_client):
                kid = children.save_child(
                    session, SYSTEM, fac, now=now, name=f"孩子{i + 1}-{j + 1}",
                    sex=Sex.FEMALE, birth_date=birth,
                )  # fmt: skip
                children.add_enrolment(
                    session, SYSTEM, fac, kid, now=now, class_id=room.id,
                    care_type=CareType.FULL_DAY, start_date=day - timedelta(days=30),
                )  # fmt: skip
                mother = children.save_guardian(
                    session, SYSTEM, kid, now=now, name=f"家长{i + 1}-{j + 1}", relationship="母亲"
                )  # fmt: skip
                plan.children.append((kid.id, mother.id))
            plans.append(plan)
    engine.dispose()
    return plans


@dataclass
class Results:
    """Latencies collected by all clients."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    healthz: list[float] = field(default_factory=list)
    check_in: list[float] = field(default_factory=list)
    check_out: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(
        default_factory=lambda: {"sign-in": 0, "healthz": 0, "in": 0, "out": 0}
    )
    samples: list[str] = field(default_factory=list)

    def error(self, kind: str, response: httpx.Response | None, exc: Exception | None) -> None:
        """Count a failed request and keep a few examples."""
        with self.lock:
            self.errors[kind] += 1
            if len(self.samples) < 5:
                what = f"{response.status_code} {response.text[:200]!r}" if response else repr(exc)
                self.samples.append(f"{kind}: {what}")


def _timed(
    client: httpx.Client, method: str, url: str, **kw: object
) -> tuple[float, httpx.Response]:
    t = time.perf_counter()
    response = client.request(method, url, **kw)  # type: ignore[arg-type]
    return time.perf_counter() - t, response


class DoorClient(threading.Thread):
    """One tablet at the door: signs in, then does what the phases ask."""

    def __init__(
        self,
        base_url: str,
        plan: ClientPlan,
        results: Results,
        barrier: threading.Barrier,
        healthz_requests: int,
        deadline: float,
        signing_in: threading.Semaphore,
        via: str,
    ) -> None:
        super().__init__(daemon=True)
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=60)
        self.plan, self.results, self.barrier = plan, results, barrier
        self.healthz_requests, self.deadline = healthz_requests, deadline
        self.token = ""
        self.signing_in = signing_in
        self.via = via

    def sign_in(self) -> None:
        """Sign in through the form; the session is renewed, so read the new token after."""
        token = csrf_from(self.http.get("/auth/login").text)
        response = self.http.post(
            "/auth/login",
            data={"username": self.plan.username, "password": PASSWORD, "csrf_token": token},
        )
        if response.status_code != 302:
            raise RuntimeError(f"sign-in of {self.plan.username} failed: {response.status_code}")
        if self.via == "api":
            self.token = self.http.get("/api/v1/session").json()["csrf_token"]
        else:
            self.token = csrf_from(self.http.get("/attendance/").text)

    def door(self, kind: str, child_id: int, guardian_id: int) -> tuple[float, httpx.Response]:
        """One check-in or check-out, through the JSON API or the door page's form."""
        if self.via == "api":
            person = "dropped_off_by_id" if kind == "in" else "picked_up_by_id"
            return _timed(
                self.http,
                "POST",
                f"/api/v1/attendance/check-{kind}",
                json={"child_id": child_id, person: guardian_id},
                headers={"X-CSRFToken": self.token},
            )
        form = {"child_id": child_id, "guardian_id": guardian_id, "csrf_token": self.token}
        return _timed(self.http, "POST", f"/attendance/check-{kind}", data=form)

    def run(self) -> None:
        try:
            # Sign-in is set-up, not measured: a few at a time, because each one runs argon2
            # inside a write transaction and fifty at once can outwait SQLite's busy timeout.
            with self.signing_in:
                self.sign_in()
            rounds, children = self.healthz_requests, self.plan.children
        except (httpx.HTTPError, RuntimeError) as exc:
            # Keep meeting the others at the barriers, doing nothing, so the run still ends.
            self.results.error("sign-in", None, exc)
            rounds, children = 0, []
        self.barrier.wait()  # everybody signed in
        self.barrier.wait()  # phase 1
        for _ in range(rounds):
            if time.monotonic() > self.deadline:
                break
            try:
                took, response = _timed(self.http, "GET", "/healthz")
            except httpx.HTTPError as exc:
                self.results.error("healthz", None, exc)
                continue
            if response.status_code == 200:
                with self.results.lock:
                    self.results.healthz.append(took)
            else:
                self.results.error("healthz", response, None)
        self.barrier.wait()  # phase 2
        for child_id, guardian_id in children:
            if time.monotonic() > self.deadline:
                break
            for kind, bucket in (
                ("in", self.results.check_in),
                ("out", self.results.check_out),
            ):
                try:
                    took, response = self.door(kind, child_id, guardian_id)
                except httpx.HTTPError as exc:
                    self.results.error(kind, None, exc)
                    break
                if response.status_code in SUCCESS[self.via][kind]:
                    with self.results.lock:
                        bucket.append(took)
                else:
                    self.results.error(kind, response, None)
                    break
        self.barrier.wait()
        self.http.close()


def _detect(base_url: str) -> str:
    """The JSON API when the server has it, else the door page's forms."""
    found = httpx.get(base_url + "/api/v1/session", timeout=10).status_code == 200
    return "api" if found else "form"


def run_backend(backend: str, args: argparse.Namespace) -> tuple[list[Summary], float]:
    """Seed, serve, load; return the summaries and the check-in/healthz p95 ratio."""
    with workdir() as tmp, database(backend, tmp) as url:
        t = time.perf_counter()
        plans = seed(url, args.clients, args.children_per_client)
        took = time.perf_counter() - t
        kids = args.clients * args.children_per_client
        print(f"[{backend}] seeded {args.clients} classes and {kids} children in {took:.1f} s")
        with web_server(url, tmp, workers=args.workers, threads=args.threads) as server:
            results = Results()
            barrier = threading.Barrier(len(plans) + 1)
            deadline = time.monotonic() + args.max_seconds
            signing_in = threading.Semaphore(4)
            via = args.via if args.via != "auto" else _detect(server.base_url)
            print(f"[{backend}] door requests through the {via}")
            clients = [
                DoorClient(
                    server.base_url,
                    p,
                    results,
                    barrier,
                    args.healthz_requests,
                    deadline,
                    signing_in,
                    via,
                )
                for p in plans
            ]
            for c in clients:
                c.start()
            barrier.wait()  # all signed in
            signed = len(clients) - results.errors["sign-in"]
            print(f"[{backend}] {signed} of {len(clients)} clients signed in")
            barrier.wait()
            t0 = time.perf_counter()
            barrier.wait()
            t1 = time.perf_counter()
            barrier.wait()
            t2 = time.perf_counter()
            for c in clients:
                c.join()
        healthz = Summary.of("GET /healthz", results.healthz, results.errors["healthz"], t1 - t0)
        door = results.check_in + results.check_out
        check_in = Summary.of(
            f"POST check-in ({via})", results.check_in, results.errors["in"], t2 - t1
        )
        check_out = Summary.of(
            f"POST check-out ({via})", results.check_out, results.errors["out"], t2 - t1
        )
        both = Summary.of("door (in+out)", door, 0, t2 - t1)
        for sample in results.samples:
            print(f"[{backend}] error sample: {sample}")
        return [healthz, check_in, check_out, both], check_in.p95 / healthz.p95


def main() -> None:
    """Parse options, run each backend, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--children-per-client", type=int, default=10)
    parser.add_argument("--healthz-requests", type=int, default=40, help="per client")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--via", choices=["auto", "api", "form"], default="auto")
    parser.add_argument("--max-seconds", type=float, default=300, help="stop the load after this")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"machine: {machine()}")
    print(f"load average before the run: {os.getloadavg()[0]:.1f} (other work on the machine)")
    print(f"server: gunicorn gthread, {args.workers} workers x {args.threads} threads; "
          f"{args.clients} concurrent clients in one process on the same machine")  # fmt: skip
    for backend in args.backend or ["sqlite"]:
        summaries, ratio = run_backend(backend, args)
        verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
        print(f"\n### {backend} ({datetime.now():%Y-%m-%d %H:%M})\n")
        print(TABLE_HEAD)
        for s in summaries:
            print(s.row())
        print(f"\ncheck-in p95 / healthz p95 = {ratio:.2f}x ({verdict} the target of "
              f"<= {TARGET_RATIO:.0f}x)\n")  # fmt: skip


if __name__ == "__main__":
    main()
