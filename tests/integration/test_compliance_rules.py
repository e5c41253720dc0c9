"""Each implemented compliance rule at and around its boundary, with hand-worked figures."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import text

from carewatch.policy import ClassType
from edge_agent.compliance import CATALOGUE, Context, Status, Verdict, evaluate
from edge_agent.compliance.base import (
    CheckRule,
    ProvidedRule,
    register_provider,
    run,
    unregister_provider,
)
from edge_agent.compliance.rules import rule
from facility_app.accounts.permissions import SYSTEM
from facility_app.alerts import service as alerts
from facility_app.alerts.models import Alert, AlertKind
from facility_app.attendance import service as attendance
from facility_app.care import service as care
from facility_app.care.service import Observation
from facility_app.staff import service as staff_service
from facility_app.staff.models import StaffRole
from tests.conftest import SHANGHAI, T0

M = timedelta(minutes=1)
INFANT_BIRTH = date(2025, 6, 1)  # 9 months old on 2026-03-10
TODDLER_BIRTH = date(2025, 1, 5)  # 14 months old
MONDAY = date(2026, 3, 9)


def at(hh: int, mm: int, day: date = date(2026, 3, 10)) -> datetime:
    """A local time on the test day (Tuesday 2026-03-10 unless told)."""
    return datetime.combine(day, time(hh, mm), tzinfo=SHANGHAI)


def check(session, fac, rule_id: str, now: datetime):  # type: ignore[no-untyped-def]
    """Evaluate one rule of the catalogue now."""
    return run(rule(rule_id), Context.for_facility(session, fac, now, providers={}))


def arrive(session, fac, kid, now: datetime):  # type: ignore[no-untyped-def]
    """Check a child in, dropped off by their first guardian."""
    return attendance.check_in(
        session, SYSTEM, fac, kid, now=now, dropped_off_by_id=kid.guardians[0].id
    )


# --- class.size -------------------------------------------------------------------------


def test_class_size_passes_at_the_limit_and_fails_one_over(build, session):
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, capacity=3)  # limit min(15, 3) = 3
    for _ in range(3):
        build.child(fac, room, birth_date=TODDLER_BIRTH)
    # Enrolments that ended yesterday or start tomorrow do not count today.
    build.child(fac, room, birth_date=TODDLER_BIRTH, start=date(2026, 3, 1), end=MONDAY)
    build.child(fac, room, birth_date=TODDLER_BIRTH, start=date(2026, 3, 11))
    session.flush()
    r = check(session, fac, "class.size", T0)
    assert (r.status, r.value, r.threshold) == (Status.PASS, 0, 0)
    assert r.evidence["classes"] == [
        {"class": room.id, "type": "toddler", "enrolled": 3, "limit": 3}
    ]
    build.child(fac, room, birth_date=TODDLER_BIRTH)
    r = check(session, fac, "class.size", T0)
    assert (r.status, r.value) == (Status.FAIL, 1)
    assert r.evidence["classes"][0]["enrolled"] == 4


def test_class_size_without_classes_is_unknown(build, session):
    fac = build.facility()
    r = check(session, fac, "class.size", T0)
    assert r.status is Status.UNKNOWN and r.message == "no classes are set up"


# --- class.ratio ------------------------------------------------------------------------


def test_class_ratio_fails_out_of_ratio_now_and_warns_after_a_breach_today(build, session):
    fac = build.facility()
    room = build.room(fac, ClassType.INFANT)  # 1:3
    kids = [build.child(fac, room, birth_date=INFANT_BIRTH) for _ in range(4)]
    carer = build.staff(fac, classes=[room.id])
    cook = build.staff(fac, StaffRole.COOK, classes=[room.id])
    staff_service.clock_in(session, SYSTEM, fac, carer, room.id, now=T0)
    for kid in kids[:3]:
        arrive(session, fac, kid, T0 + M)
    r = check(session, fac, "class.ratio", T0 + 2 * M)
    # 3 children, 1 caregiver, 1:3 needs ceil(3/3) = 1: in ratio.
    assert (r.status, r.value) == (Status.PASS, 0)
    assert r.evidence["classes"] == [
        {
            "class": room.id,
            "present": 3,
            "caregivers": 1,
            "required": 1,
            "children_per_caregiver": 3,
            "breaches_today": 0,
        }
    ]
    arrive(session, fac, kids[3], T0 + 3 * M)
    # A cook on duty does not count toward the ratio: 4 children need 2 caregivers.
    staff_service.clock_in(session, SYSTEM, fac, cook, room.id, now=T0 + 4 * M)
    r = check(session, fac, "class.ratio", T0 + 5 * M)
    assert (r.status, r.value) == (Status.FAIL, 1)
    c = r.evidence["classes"][0]
    assert (c["present"], c["caregivers"], c["required"], c["breaches_today"]) == (4, 1, 2, 1)
    second = build.staff(fac, classes=[room.id])
    staff_service.clock_in(session, SYSTEM, fac, second, room.id, now=T0 + 6 * M)
    r = check(session, fac, "class.ratio", T0 + 7 * M)
    assert (r.status, r.value) == (Status.WARN, 0)
    assert r.evidence["classes"][0]["caregivers"] == 2
    # The next day the earlier breach no longer counts.
    r = check(session, fac, "class.ratio", T0 + timedelta(days=1))
    assert r.status is Status.PASS


# --- attendance.complete ----------------------------------------------------------------


def test_attendance_complete_fails_on_a_past_open_check_in_until_it_is_corrected(build, session):
    fac = build.facility()
    room = build.room(fac)
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH, start=date(2026, 3, 1))
    rec = arrive(session, fac, kid, at(9, 0, MONDAY))
    r = check(session, fac, "attendance.complete", T0)
    assert (r.status, r.value) == (Status.FAIL, 1)
    assert r.evidence["open_past_days"] == 1
    assert r.evidence["days"] == ["2026-03-09"]
    assert r.evidence["classes"] == {str(room.id): 1}
    attendance.correct_times(
        session,
        SYSTEM,
        fac,
        rec.id,
        now=T0,
        check_in_at=at(9, 0, MONDAY),
        check_out_at=at(16, 0, MONDAY),
        reason="forgot to sign out",
    )
    r = check(session, fac, "attendance.complete", T0)
    assert (r.status, r.value) == (Status.PASS, 0)


@pytest.mark.parametrize(
    ("grace", "now", "expected"),
    [
        (0, at(17, 29), Status.PASS),
        (0, at(17, 30), Status.FAIL),  # closing time itself: still checked in is open
        (10, at(17, 39), Status.PASS),
        (10, at(17, 40), Status.FAIL),
    ],
)
def test_attendance_complete_today_after_closing_and_grace(build, session, grace, now, expected):
    fac = build.facility(overrides={"attendance": {"late_pickup_grace_minutes": grace}})
    room = build.room(fac)
    kids = [build.child(fac, room, birth_date=TODDLER_BIRTH) for _ in range(2)]
    for kid in kids:
        arrive(session, fac, kid, T0)
    attendance.check_out(
        session, SYSTEM, fac, kids[0], now=at(16, 0), picked_up_by_id=kids[0].guardians[0].id
    )
    r = check(session, fac, "attendance.complete", now)
    assert r.status is expected
    assert r.evidence["checked_in_now"] == 1
    assert r.value == r.evidence["open_after_closing"] == (1 if expected is Status.FAIL else 0)


# --- attendance.pickup ------------------------------------------------------------------


def test_attendance_pickup_fails_until_a_refusal_is_acknowledged_then_warns(build, session):
    fac = build.facility()
    room = build.room(fac)
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH)
    arrive(session, fac, kid, T0)
    assert check(session, fac, "attendance.pickup", T0).status is Status.PASS
    with pytest.raises(attendance.UnauthorisedPickup) as refused:
        attendance.check_out(session, SYSTEM, fac, kid, now=at(16, 0), other_person="陌生人")
    refused.value.follow_up(session)
    r = check(session, fac, "attendance.pickup", at(16, 1))
    assert (r.status, r.value) == (Status.FAIL, 1)
    assert r.evidence == {
        "refused_today": 1,
        "unacknowledged": 1,
        "checkouts_without_person": 0,
        "classes": {str(room.id): 1},
    }
    alert = session.query(Alert).filter_by(kind=AlertKind.UNAUTHORISED_PICKUP).one()
    alerts.acknowledge(session, SYSTEM, alert.id, now=at(16, 5))
    r = check(session, fac, "attendance.pickup", at(16, 6))
    assert (r.status, r.value, r.evidence["unacknowledged"]) == (Status.WARN, 1, 0)
    # Only today's refusals count.
    assert check(session, fac, "attendance.pickup", at(9, 0, date(2026, 3, 11))).status is (
        Status.PASS
    )


def test_attendance_pickup_warns_on_a_check_out_without_a_recorded_person(build, session):
    fac = build.facility()
    room = build.room(fac)
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH)
    rec = arrive(session, fac, kid, T0)
    attendance.correct_times(
        session,
        SYSTEM,
        fac,
        rec.id,
        now=at(16, 0),
        check_in_at=T0,
        check_out_at=at(15, 0),
        reason="",
    )
    r = check(session, fac, "attendance.pickup", at(16, 1))
    assert (r.status, r.value, r.evidence["checkouts_without_person"]) == (Status.WARN, 0, 1)


# --- care.sleep_checks ------------------------------------------------------------------


def test_sleep_checks_overdue_strictly_after_the_interval(build, session):
    fac = build.facility()
    room = build.room(fac)
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH)
    arrive(session, fac, kid, T0)
    nap = care.start_nap(session, SYSTEM, fac, kid, now=at(12, 0))
    r = check(session, fac, "care.sleep_checks", at(12, 15))  # due 12:15, not yet overdue
    assert (r.status, r.evidence["sleeping_now"], r.evidence["overdue_now"]) == (
        Status.PASS,
        1,
        0,
    )
    r = check(session, fac, "care.sleep_checks", at(12, 16))
    assert (r.status, r.value, r.evidence["overdue_now"]) == (Status.FAIL, 1, 1)
    assert r.evidence["classes"] == {str(room.id): {"lapses": 0, "overdue": 1}}
    care.record_sleep_check(
        session,
        SYSTEM,
        fac,
        now=at(12, 15),
        observations=[Observation(nap.id, "breathing_normally", "back")],
    )
    # Checked on time at 12:15: next due 12:30.
    assert check(session, fac, "care.sleep_checks", at(12, 30)).status is Status.PASS
    assert check(session, fac, "care.sleep_checks", at(12, 31)).status is Status.FAIL


def test_sleep_check_lapses_today_fail_and_count_missed(build, session):
    fac = build.facility()
    room = build.room(fac)
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH)
    arrive(session, fac, kid, T0)
    nap = care.start_nap(session, SYSTEM, fac, kid, now=at(12, 0))
    # Due 12:15, checked 12:20: late by 5 minutes. Next due 12:35, nap ends 12:40: missed.
    care.record_sleep_check(
        session,
        SYSTEM,
        fac,
        now=at(12, 20),
        observations=[Observation(nap.id, "breathing_normally", "back")],
    )
    care.end_nap(session, SYSTEM, fac, nap.id, now=at(12, 40))
    r = check(session, fac, "care.sleep_checks", at(13, 0))
    assert (r.status, r.value) == (Status.FAIL, 2)
    assert (r.evidence["lapses_today"], r.evidence["missed_today"]) == (2, 1)
    assert r.evidence["sleeping_now"] == 0
    # Tomorrow the day starts clean.
    assert check(session, fac, "care.sleep_checks", at(9, 0, date(2026, 3, 11))).status is (
        Status.PASS
    )


# --- care.outdoor_time ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(14, 29), Status.PASS),  # not judged before the warning time
        (at(15, 59), Status.PASS),  # 30 + 91 left = 121 >= 120
        (at(16, 0), Status.PASS),  # 30 + 90 = 120: still reachable
        (at(16, 1), Status.WARN),  # 30 + 89 = 119
        (at(18, 0), Status.WARN),  # after closing: 30 < 120
    ],
)
def test_outdoor_time_boundaries(build, session, now, expected):
    fac = build.facility()
    room = build.room(fac)
    idle = build.room(fac)  # nobody present: not judged
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH)
    build.child(fac, idle, birth_date=TODDLER_BIRTH)
    arrive(session, fac, kid, T0)
    care.start_outdoor(session, SYSTEM, fac, room.id, now=at(10, 0))
    care.end_outdoor(session, SYSTEM, fac, room.id, now=at(10, 30))
    r = check(session, fac, "care.outdoor_time", now)
    assert r.status is expected
    assert r.evidence["classes"] == {str(room.id): 30}
    assert r.evidence["minimum_minutes"] == 120 and r.evidence["judged_from"] == "14:30"
    assert r.evidence["short"] == ([room.id] if expected is Status.WARN else [])
    assert r.value == (1 if expected is Status.WARN else 0)


def test_outdoor_time_follows_the_policy(build, session):
    fac = build.facility(
        overrides={"care": {"outdoor_minimum_minutes": 60, "outdoor_warning_after": "16:30"}}
    )
    room = build.room(fac)
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH)
    arrive(session, fac, kid, T0)
    # No outdoor time at all: 0 + 60 left at 16:30 reaches 60; at 16:31 it cannot.
    assert check(session, fac, "care.outdoor_time", at(16, 29)).status is Status.PASS
    assert check(session, fac, "care.outdoor_time", at(16, 30)).status is Status.PASS
    assert check(session, fac, "care.outdoor_time", at(16, 31)).status is Status.WARN


# --- rules that cannot run --------------------------------------------------------------

PROVIDED = {
    "cctv.coverage",
    "cctv.health",
    "cctv.retention",
    "cctv.retention_forecast",
    "staff.certified",
    "staff.health_exam",
    "staff.training_hours",
    "staff.ban_list",
    "food.sample_retention",
    "food.allergen",
    "hygiene.disinfection",
    "fees.cap",
    "health.admission",
    "health.incidents",
}


def test_rules_of_missing_modules_are_unknown_never_pass(build, session):
    fac = build.facility()
    build.room(fac)
    snap = evaluate(session, fac, T0, providers={})
    by_id = {r.rule_id: r for r in snap.results}
    assert len(snap.results) == len(CATALOGUE) == 23
    assert {r for r, res in by_id.items() if res.status is Status.UNKNOWN} == PROVIDED
    for rule_id in PROVIDED:
        expected = (
            "no required zones are registered"
            if rule_id == "cctv.coverage"
            else "no enabled cameras are registered"
            if rule_id.startswith("cctv.")
            else "no staff recorded"
            if rule_id.startswith("staff.")
            else "no dishes served in the last week are recorded"
            if rule_id in ("food.sample_retention", "food.allergen")
            else "no disinfection schedule is set up"
            if rule_id == "hygiene.disinfection"
            else "the locality profile sets no income figure, so no cap is known"
            if rule_id == "fees.cap"
            else "no child present"
            if rule_id == "health.admission"
            else "no incident or medication records yet"
            if rule_id == "health.incidents"
            else "module not installed"
        )
        assert by_id[rule_id].message == expected
    assert all(r.clause for r in CATALOGUE) and all(r.title for r in CATALOGUE)


def test_a_plugged_in_provider_answers_for_its_rule(build, session):
    fac = build.facility()
    provided = ProvidedRule("extra.check", "a local rule", "An extra check")
    ctx = Context.for_facility(session, fac, T0)
    assert run(provided, ctx).status is Status.UNKNOWN

    def extra(ctx: Context) -> Verdict:
        return Verdict(Status.FAIL, "1 thing wrong", 1, 0, {"things": ["x"]})

    register_provider("extra.check", extra)
    try:
        result = run(provided, Context.for_facility(session, fac, T0))
    finally:
        unregister_provider("extra.check")
    assert (result.status, result.evidence) == (Status.FAIL, {"things": ["x"]})
    assert run(provided, Context.for_facility(session, fac, T0)).status is Status.UNKNOWN


def test_a_rule_that_raises_is_unknown_and_the_others_still_run(build, session):
    fac = build.facility()
    room = build.room(fac, capacity=1)
    build.child(fac, room, birth_date=TODDLER_BIRTH, name="不应出现的名字")

    def broken_query(ctx: Context) -> Verdict:
        ctx.session.execute(text("SELECT * FROM no_such_table"))
        return Verdict(Status.PASS, "unreachable")

    def broken_code(ctx: Context) -> Verdict:
        raise ValueError("不应出现的名字 caused this")

    rules = [
        CheckRule("x.query", "c", "t", broken_query),
        CheckRule("x.code", "c", "t", broken_code),
        rule("class.size"),
    ]
    results = evaluate(session, fac, T0, rules=rules, providers={}).results
    # SQLite calls a missing table an OperationalError, PostgreSQL a ProgrammingError.
    assert results[0].status is Status.UNKNOWN
    assert results[0].message in {
        "check failed: OperationalError",
        "check failed: ProgrammingError",
    }
    assert (results[1].status, results[1].message) == (Status.UNKNOWN, "check failed: ValueError")
    # The failed statement did not spoil the transaction for the next rule.
    assert (results[2].status, results[2].value) == (Status.PASS, 0)


def test_staff_rules_come_from_the_credentials_of_the_staff_employed(build, session):
    # Two caregivers, one certified: 50 % against the 80 % target fails; the uncertified one
    # also has no health exam; nobody's ID number is on file for the ban list.
    fac = build.facility()
    room = build.room(fac)
    build.staff(fac, classes=[room.id])
    newcomer = build.staff(fac, classes=[room.id], credentials=False)
    by_id = {r.rule_id: r for r in evaluate(session, fac, T0, providers={}).results}
    certified = by_id["staff.certified"]
    assert (certified.status, certified.value, certified.threshold) == (
        Status.FAIL,
        "0.5000",
        "0.8",
    )
    assert certified.evidence["uncertified_staff_ids"] == [newcomer.id]
    exam = by_id["staff.health_exam"]
    assert (exam.status, exam.value, exam.threshold) == (Status.FAIL, 1, 2)
    assert by_id["staff.ban_list"].status is Status.UNKNOWN


def test_fee_caps_pass_at_the_cap_and_fail_when_the_income_figure_drops(build, session):
    # 60,000 元 a year is 5,000 a month; a toddler class's full-day cap is 52 %: 2,600.00.
    from decimal import Decimal

    from facility_app.fees.service import set_fee

    fac = build.facility(overrides={"fees": {"per_capita_disposable_income": "60000"}})
    fac.puhui_certified = True
    set_fee(session, SYSTEM, fac, now=T0, class_type="toddler", care_type="full_day",
            amount=Decimal("2600.00"))  # fmt: skip
    assert run(rule("fees.cap"), Context.for_facility(session, fac, T0)).status is Status.PASS
    # A lower figure (48,000: 4,000 a month, cap 2,080.00) leaves the fee over its cap.
    fac.policy_profile.overrides = {"fees": {"per_capita_disposable_income": "48000"}}
    session.flush()
    result = run(rule("fees.cap"), Context.for_facility(session, fac, T0))
    assert result.status is Status.FAIL
    assert result.evidence["over"] == [
        {"class_type": "toddler", "care_type": "full_day", "fee": "2600.00", "cap": "2080.00"}
    ]
