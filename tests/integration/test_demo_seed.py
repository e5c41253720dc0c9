"""The demo seed builds a plausible facility whose history the services would agree with."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from carewatch.policy import ClassType
from facility_app.accounts import service as accounts_service
from facility_app.alerts.models import Alert, AlertKind
from facility_app.attendance.models import AbsenceReason, AttendanceRecord, AttendanceStatus
from facility_app.children.models import Child, Enrolment, Guardian
from facility_app.children.service import age_mismatches
from facility_app.demo.holidays import holidays_between
from facility_app.demo.people import class_layout
from facility_app.demo.seed import existing_facility, seed_demo
from facility_app.facility.models import ClassRoom, ClosedDay, Facility
from facility_app.facility.service import at_local
from facility_app.health import growth
from facility_app.ratio.models import ClassBreach
from facility_app.ratio.rules import age_fits
from facility_app.ratio.service import live_status, refresh_breaches
from facility_app.staff.models import DutySession, Staff
from health_records.incidents import IncidentReport
from health_records.medication import MedicationDose, MedicationInstruction

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost is most of a small seed's time; these tests need none."""
    monkeypatch.setattr(
        accounts_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


# The Monday after the National Day week: 中秋 (25 Sep) and 国庆 (1–7 Oct) are in the window.
NOW = datetime(2026, 10, 12, 10, 0, tzinfo=SHANGHAI)
HOLIDAY_WEEKDAYS = {date(2026, 9, 25), *(date(2026, 10, d) for d in (1, 2, 5, 6, 7))}


def test_holiday_table_gives_the_national_day_week() -> None:
    days = holidays_between(date(2026, 9, 28), date(2026, 10, 9))
    assert sorted(days) == [date(2026, 10, d) for d in range(1, 8)]
    assert set(days.values()) == {"国庆节"}


def test_layout_is_six_classes_at_default_size_and_repeats_for_bigger_ones() -> None:
    default = class_layout(90)
    assert [(s.class_type, s.capacity, n) for s, _, _, n in default] == [
        (ClassType.INFANT, 10, 9),
        (ClassType.TODDLER, 15, 15),
        (ClassType.TODDLER, 15, 15),
        (ClassType.OLDER, 20, 18),
        (ClassType.OLDER, 20, 18),
        (ClassType.MIXED, 18, 15),
    ]
    big = class_layout(200)
    assert len(big) == 18 and sum(n for *_, n in big) == 200
    assert len({name for _, name, _, _ in big}) == 18
    assert all(n <= s.capacity for s, _, _, n in big)
    assert sum(n for *_, n in class_layout(30)) == 30


def test_seed_builds_a_consistent_facility(session) -> None:
    report = seed_demo(session, NOW, children=30, days=30, seed=3)
    session.flush()
    fac = existing_facility(session)
    assert fac is not None and fac.name == "阳光宝贝托育中心"
    assert fac.puhui_certified and (fac.opening_time, fac.closing_time) == (
        time(7, 30),
        time(17, 30),
    )
    rooms = list(session.scalars(select(ClassRoom).order_by(ClassRoom.id)))
    assert len(rooms) == report.classes == 6
    assert report.children == 30 and report.former_children > 0
    total = session.scalar(select(func.count()).select_from(Child))
    assert total == report.children + report.former_children
    current = select(func.count()).select_from(Enrolment).where(Enrolment.end_date.is_(None))
    assert session.scalar(current) == 30
    roles = Counter(s.role.value for s in session.scalars(select(Staff)))
    assert roles["director"] == 1 and roles["caregiver"] >= 6 and roles["cook"] >= 1

    day0 = NOW.date()
    # Every child fits their class today and fitted it on the first day of the enrolment.
    assert age_mismatches(session, fac, day0) == []
    policy = fac.policy()
    types = {r.id: r.class_type for r in rooms}
    for enr in session.scalars(select(Enrolment)):
        rule = policy.class_rule(types[enr.class_id])
        assert enr.start_date <= day0 and age_fits(enr.child.birth_date, enr.start_date, rule)

    closed = set(session.scalars(select(ClosedDay.day)))
    assert closed == HOLIDAY_WEEKDAYS
    days = set(session.scalars(select(AttendanceRecord.day).distinct()))
    assert days and not days & closed
    assert all(d.weekday() < 5 for d in days)
    assert day0 in days

    guardians = {g.id: g for g in session.scalars(select(Guardian))}
    records = list(session.scalars(select(AttendanceRecord)))
    for rec in records:
        if rec.status == AttendanceStatus.ABSENT:
            assert rec.absence_reason is not None and rec.check_in_at is None
            continue
        local_in = rec.check_in_at.astimezone(SHANGHAI).time()
        assert time(7, 30) <= local_in <= time(9, 0)
        assert guardians[rec.dropped_off_by_id].child_id == rec.child_id
        if rec.check_out_at is not None:
            pick = guardians[rec.picked_up_by_id]
            assert pick.child_id == rec.child_id and pick.can_pick_up
            assert rec.late_pickup == (rec.check_out_at > at_local(fac, rec.day, fac.closing_time))
        else:
            assert rec.missing_checkout or rec.day == day0
    reasons = Counter(r.absence_reason for r in records)
    assert reasons[AbsenceReason.ILLNESS] > 0
    assert 0.02 < reasons[AbsenceReason.ILLNESS] / len(records) < 0.15

    breaches = list(session.scalars(select(ClassBreach)))
    assert len(breaches) == report.breaches >= 1
    breach_alerts = list(session.scalars(select(Alert).where(Alert.kind == AlertKind.RATIO_BREACH)))
    assert sorted(a.created_at for a in breach_alerts) == sorted(b.started_at for b in breaches)
    # The stored history is what the service computes from the rows: rebuilding is a no-op.
    for b in breaches:
        room = session.get(ClassRoom, b.class_id)
        next_midnight = at_local(fac, b.day + timedelta(days=1), time(0, 0))
        rebuilt = refresh_breaches(session, fac, room, b.day, now=next_midnight)
        assert [(r.kind, r.started_at, r.ended_at) for r in rebuilt if r.id == b.id] == [
            (b.kind, b.started_at, b.ended_at)
        ]

    # Today looks alive: children in, caregivers on duty, every class within ratio.
    open_duty = session.scalar(
        select(func.count()).select_from(DutySession).where(DutySession.end_at.is_(None))
    )
    assert open_duty == session.scalar(
        select(func.count()).select_from(Staff).where(Staff.role == "caregiver")
    )
    status = live_status(session, fac, rooms, NOW)
    assert sum(s.present for s in status.values()) > 0
    assert all(s.ok for s in status.values())

    # Growth records: every child measured, every value within the WHO flags (nothing a
    # health officer would be asked to measure again).
    kids = list(session.scalars(select(Child)))
    for kid in kids:
        rows = growth.measurements(session, fac, kid)
        assert rows and rows[0].measurement.measured_on == kid.birth_date
        assert not any(r.flagged for r in rows)


def test_seed_on_a_weekend_writes_no_rows_for_today(session) -> None:
    saturday = datetime(2026, 10, 17, 10, 0, tzinfo=SHANGHAI)
    report = seed_demo(session, saturday, children=12, days=7, seed=1)
    assert not report.today_live
    assert report.service_days == 5
    assert (
        session.scalar(
            select(func.count())
            .select_from(AttendanceRecord)
            .where(AttendanceRecord.day == saturday.date())
        )
        == 0
    )
    assert (
        session.scalar(
            select(func.count()).select_from(DutySession).where(DutySession.end_at.is_(None))
        )
        == 0
    )
    assert session.scalar(select(func.count()).select_from(Facility)) == 1


def test_seed_gives_the_day_page_medication_and_incidents(session) -> None:
    seed_demo(session, NOW, children=30, days=5, seed=3)
    session.flush()
    fac = existing_facility(session)
    assert fac is not None
    instructions = list(session.scalars(select(MedicationInstruction)))
    reports = list(session.scalars(select(IncidentReport).order_by(IncidentReport.id)))
    assert len(instructions) == 1 and len(reports) == 2
    assert reports[0].acknowledged_at is not None and reports[1].acknowledged_at is None
    # NOW is 10:00 in Shanghai: the noon dose is not given yet.
    assert session.scalars(select(MedicationDose)).all() == []
