"""The ``daily`` report body: one day's counts, hand-worked from a built day."""

from __future__ import annotations

import json
from datetime import date, datetime, time

from carewatch.policy import ClassType
from edge_agent.compliance import daily_body
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance import service as attendance
from facility_app.care import service as care
from facility_app.care.service import Observation
from facility_app.staff import service as staff_service
from tests.conftest import SHANGHAI

MONDAY = date(2026, 3, 9)
START = date(2026, 3, 1)


def at(hh: int, mm: int) -> datetime:
    return datetime.combine(MONDAY, time(hh, mm), tzinfo=SHANGHAI)


def test_daily_body_counts_a_hand_worked_day(build, session):
    fac = build.facility()
    a = build.room(fac, ClassType.INFANT)  # 1:3
    b = build.room(fac, ClassType.TODDLER)
    c = build.room(fac, ClassType.OLDER)
    infants = [build.child(fac, a, birth_date=date(2025, 6, 1), start=START) for _ in range(4)]
    # An enrolment that ended the day before does not count.
    build.child(fac, a, birth_date=date(2025, 6, 1), start=START, end=date(2026, 3, 8))
    toddlers = [build.child(fac, b, birth_date=date(2025, 1, 5), start=START) for _ in range(2)]
    older = build.child(fac, c, birth_date=date(2024, 1, 5), start=START)
    carers = [build.staff(fac, classes=[a.id]) for _ in range(2)]

    def arrive(kid, now):  # type: ignore[no-untyped-def]
        attendance.check_in(
            session, SYSTEM, fac, kid, now=now, dropped_off_by_id=kid.guardians[0].id
        )

    def leave(kid, now):  # type: ignore[no-untyped-def]
        attendance.check_out(
            session, SYSTEM, fac, kid, now=now, picked_up_by_id=kid.guardians[0].id
        )

    staff_service.clock_in(session, SYSTEM, fac, carers[0], a.id, now=at(8, 0))
    attendance.mark_absent(
        session, SYSTEM, fac, toddlers[1], now=at(8, 30), day=MONDAY, reason="illness"
    )
    # Class B has no caregiver: out of ratio from 09:00 until its child leaves at 17:45.
    arrive(toddlers[0], at(9, 0))
    for kid in infants[:3]:
        arrive(kid, at(9, 0))
    # A fourth infant needs a second caregiver (1:3): out of ratio 10:00–10:30.
    arrive(infants[3], at(10, 0))
    staff_service.clock_in(session, SYSTEM, fac, carers[1], a.id, now=at(10, 30))
    care.start_outdoor(session, SYSTEM, fac, b.id, now=at(10, 0))
    care.end_outdoor(session, SYSTEM, fac, b.id, now=at(11, 0))
    # Nap 12:00–12:40, check due 12:15 done 12:20 (late), next due 12:35 never done (missed).
    nap = care.start_nap(session, SYSTEM, fac, infants[0], now=at(12, 0))
    care.record_sleep_check(
        session,
        SYSTEM,
        fac,
        now=at(12, 20),
        observations=[Observation(nap.id, "breathing_normally", "back")],
    )
    care.end_nap(session, SYSTEM, fac, nap.id, now=at(12, 40))
    # Class C: one child from 16:00 with nobody on duty, never checked out; the open
    # breach counts until closing at 17:30, 90 minutes.
    arrive(older, at(16, 0))
    for kid in infants[:3]:
        leave(kid, at(16, 0))
    leave(toddlers[0], at(17, 45))  # late pick-up
    session.commit()

    body = daily_body(session, fac, MONDAY)
    assert body == {
        "day": "2026-03-09",
        "service_day": True,
        "children_enrolled": 7,
        "children_present": 6,
        "children_absent": 1,
        "absent_illness": 1,
        "check_ins": 6,
        "check_outs": 4,
        "missing_checkouts": 2,
        "late_pickups": 1,
        "ratio_breach_minutes": {str(a.id): 30, str(b.id): 525, str(c.id): 90},
        "capacity_breach_minutes": {},
        "naps": 1,
        "sleep_check_lapses": 2,
        "sleep_checks_missed": 1,
        "outdoor_minutes": {str(a.id): 0, str(b.id): 60, str(c.id): 0},
        # Three ratio breaches and one late pick-up; none acknowledged yet.
        "alerts_raised": 4,
        "alerts_open": 4,
    }
    json.dumps(body)  # plain JSON, ready to sign


def test_daily_body_of_a_day_without_service(build, session):
    fac = build.facility()
    build.room(fac)
    body = daily_body(session, fac, date(2026, 3, 8))  # a Sunday
    assert body["service_day"] is False
    assert body["children_enrolled"] == 0 and body["children_present"] == 0
    assert body["ratio_breach_minutes"] == {} and body["outdoor_minutes"] == {}
