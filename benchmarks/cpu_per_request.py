"""CPU time per door request against the trivial endpoint, in-process, one at a time.

    .venv/bin/python benchmarks/cpu_per_request.py [--statements]

No server and no network: the Flask test client on a fresh SQLite file, a facility with
one class of 20 children and three caregivers on duty, a signed-in caregiver who checks
each child in and out through the JSON API. Prints milliseconds of process CPU per request
for GET /healthz and for the door requests, and with --statements the SQL of one cycle.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event

from carewatch.clock import FixedClock
from carewatch.db import make_engine, make_session_factory
from carewatch.migrate import upgrade
from carewatch.policy import ClassType
from facility_app import create_app
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.staff import service as staff_service
from tests.factories import PASSWORD, Builder


def main() -> None:
    """Build the facility, sign in, and time both kinds of request."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", action="store_true", help="print one cycle's SQL")
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'cpu.db'}"
    upgrade(url)
    clock = FixedClock(datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    session = make_session_factory(make_engine(url))()
    build = Builder(session, clock.now())
    fac = build.facility()
    room = build.room(fac, ClassType.OLDER)
    kids = [build.child(fac, room, birth_date=date(2024, 1, 5)) for _ in range(20)]
    carers = [build.staff(fac, classes=[room.id]) for _ in range(3)]
    for carer in carers:
        staff_service.clock_in(session, SYSTEM, fac, carer, room.id, now=clock.now())
    user = build.user(Role.CAREGIVER, staff=carers[0])
    session.commit()

    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False, "CLOCK": clock}
    )
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post(
        "/auth/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    headers = {"X-CSRFToken": token}

    def cycle(kid) -> None:  # type: ignore[no-untyped-def]
        person = kid.guardians[0].id
        r = client.post(
            "/api/v1/attendance/check-in",
            headers=headers,
            json={"child_id": kid.id, "dropped_off_by_id": person},
        )
        assert r.status_code == 201, r.get_json()
        r = client.post(
            "/api/v1/attendance/check-out",
            headers=headers,
            json={"child_id": kid.id, "picked_up_by_id": person},
        )
        assert r.status_code == 200, r.get_json()

    for _ in range(50):
        client.get("/healthz")
    started = time.process_time()
    for _ in range(500):
        client.get("/healthz")
    healthz = (time.process_time() - started) / 500 * 1000
    started = time.process_time()
    for kid in kids:
        cycle(kid)
    door = (time.process_time() - started) / (2 * len(kids)) * 1000
    print(
        f"GET /healthz {healthz:.2f} ms CPU; door request {door:.2f} ms CPU; "
        f"ratio {door / healthz:.1f}"
    )
    if args.statements:
        statements: list[str] = []
        engine = app.extensions["carewatch_db"].engine
        event.listen(
            engine,
            "before_cursor_execute",
            lambda *a: statements.append(" ".join(a[2].split()[:6])),
        )
        clock.advance(timedelta(days=1))
        cycle(kids[0])
        print(f"{len(statements)} statements for one check-in and one check-out:")
        print("\n".join(statements))


if __name__ == "__main__":
    main()
