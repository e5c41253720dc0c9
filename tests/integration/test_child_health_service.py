"""Morning checks, illness follow-up and cluster alerts, and their compliance rules."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from carewatch.errors import DomainError
from carewatch.policy import ClassType
from edge_agent.compliance import Status, evaluate
from facility_app.accounts.permissions import SYSTEM
from facility_app.alerts import service as alerts
from facility_app.alerts.models import Alert, AlertKind
from facility_app.attendance import service as attendance
from facility_app.health import service as health
from health_records.models import CheckAction, HealthCheck, IllnessCase
from tests.conftest import T0

BIRTH = date(2024, 9, 1)


@pytest.fixture
def room(build, session):  # type: ignore[no-untyped-def]
    """A toddler class with four children checked in at 09:00."""
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    kids = [build.child(fac, room, birth_date=BIRTH) for _ in range(4)]
    for kid in kids:
        attendance.check_in(
            session, SYSTEM, fac, kid, now=T0, dropped_off_by_id=kid.guardians[0].id
        )
    return fac, room, kids


def _rule(session, fac, now, rule_id):  # type: ignore[no-untyped-def]
    return next(
        r for r in evaluate(session, fac, now, providers={}).results if r.rule_id == rule_id
    )


@pytest.mark.parametrize(
    ("temperature", "code"),
    [("33.9", "temperature_out_of_range"), ("43.1", "temperature_out_of_range"),
     ("hot", "invalid_temperature")],
)  # fmt: skip
def test_impossible_temperatures_are_refused(room, session, temperature, code):  # type: ignore[no-untyped-def]
    fac, _room, kids = room
    with pytest.raises(DomainError) as info:
        health.record_check(
            session, SYSTEM, fac, kids[0], now=T0, kind="morning", temperature_c=temperature
        )
    assert info.value.code == code
    assert session.scalar(select(func.count()).select_from(HealthCheck)) == 0


def test_limits_are_accepted_and_a_fever_needs_an_action(room, session):  # type: ignore[no-untyped-def]
    fac, _room, kids = room
    health.record_check(session, SYSTEM, fac, kids[0], now=T0, kind="morning", temperature_c="34.0")
    with pytest.raises(DomainError) as info:
        health.record_check(
            session, SYSTEM, fac, kids[1], now=T0, kind="morning", temperature_c="37.3"
        )
    assert info.value.code == "action_required"
    with pytest.raises(DomainError) as info:
        health.record_check(
            session, SYSTEM, fac, kids[1], now=T0, kind="morning", temperature_c="36.6",
            abnormal=["skin"],
        )  # fmt: skip
    assert info.value.code == "action_required"


def test_sending_home_informs_the_guardian_and_opens_a_case(room, session):  # type: ignore[no-untyped-def]
    fac, room_, kids = room
    check = health.record_check(
        session, SYSTEM, fac, kids[0], now=T0, kind="morning", temperature_c="38.4",
        abnormal=["mouth", "skin"], action="sent_home", note="手心有疱疹",
    )  # fmt: skip
    assert check.action is CheckAction.SENT_HOME and check.guardian_informed_at == T0
    case = session.scalars(select(IllnessCase)).one()
    assert (case.child_id, case.class_id, case.onset_day, case.source) == (
        kids[0].id,
        room_.id,
        date(2026, 3, 10),
        "health_check",
    )
    assert case.symptoms == ["fever", "mouth_ulcers", "rash"] and case.syndrome == "rash"
    assert case.max_temperature_c == Decimal("38.4")


def test_an_absent_child_cannot_be_checked(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    kid = build.child(fac, room, birth_date=BIRTH)
    with pytest.raises(DomainError) as info:
        health.record_check(session, SYSTEM, fac, kid, now=T0, kind="morning", temperature_c="36.5")
    assert info.value.code == "not_present"


def test_morning_checks_warn_before_ten_and_fail_after(room, session):  # type: ignore[no-untyped-def]
    fac, _room, kids = room
    for kid in kids[:3]:
        health.record_check(session, SYSTEM, fac, kid, now=T0, kind="morning", temperature_c="36.6")
    before = _rule(session, fac, T0 + timedelta(minutes=59), "health.morning_check")
    assert (before.status, before.value) == (Status.WARN, 1)
    after = _rule(session, fac, T0 + timedelta(hours=1), "health.morning_check")
    assert (after.status, after.value, after.evidence["present"]) == (Status.FAIL, 1, 4)
    health.record_check(
        session, SYSTEM, fac, kids[3], now=T0 + timedelta(hours=1), kind="morning",
        temperature_c="36.6",
    )  # fmt: skip
    assert (
        _rule(session, fac, T0 + timedelta(hours=1), "health.morning_check").status is Status.PASS
    )


def test_an_illness_absence_must_be_followed_up_within_a_day(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    kid = build.child(fac, room, birth_date=BIRTH, start=date(2026, 3, 2))
    monday = date(2026, 3, 9)
    attendance.mark_absent(
        session, SYSTEM, fac, kid, now=T0, day=monday, reason="illness", correction_reason="补录"
    )
    # Tuesday: one day late is still within the policy's day.
    assert _rule(session, fac, T0, "health.absence_followup").status is Status.WARN
    wednesday = T0 + timedelta(days=1)
    late = _rule(session, fac, wednesday, "health.absence_followup")
    assert (late.status, late.evidence["overdue"]) == (
        Status.FAIL,
        [{"class": room.id, "day": "2026-03-09"}],
    )
    health.record_case(
        session, SYSTEM, fac, kid, now=wednesday, onset_day=monday, symptoms=["fever", "cough"],
        max_temperature_c="38.6", diagnosis="流感", expected_return=date(2026, 3, 13),
    )  # fmt: skip
    assert _rule(session, fac, wednesday, "health.absence_followup").status is Status.PASS


def test_three_cases_in_a_class_raise_one_alert_with_the_deadline_until_reported(room, session):  # type: ignore[no-untyped-def]
    fac, room_, kids = room
    for kid in kids[:2]:
        health.record_case(
            session, SYSTEM, fac, kid, now=T0, onset_day=T0.date(), symptoms=["vomiting"]
        )
    assert session.scalar(select(func.count()).where(Alert.kind == AlertKind.ILLNESS_CLUSTER)) == 0
    assert _rule(session, fac, T0, "health.cluster").status is Status.PASS
    health.record_case(
        session, SYSTEM, fac, kids[2], now=T0, onset_day=T0.date(), symptoms=["diarrhoea"]
    )
    alert = session.scalars(select(Alert).where(Alert.kind == AlertKind.ILLNESS_CLUSTER)).one()
    assert alert.class_id == room_.id
    assert alert.params["rule"] == "class_same_day" and alert.params["cases"] == 3
    assert alert.params["syndrome"] == "gastrointestinal"
    assert alert.params["report_by"] == (T0 + timedelta(hours=24)).isoformat()
    verdict = _rule(session, fac, T0, "health.cluster")
    assert verdict.status is Status.FAIL and "王" not in repr(verdict.as_report())
    # Found again on the next evaluation: still one alert.
    _rule(session, fac, T0 + timedelta(minutes=5), "health.cluster")
    assert session.scalar(select(func.count()).where(Alert.kind == AlertKind.ILLNESS_CLUSTER)) == 1
    alerts.acknowledge(session, SYSTEM, alert.id, now=T0 + timedelta(hours=1))
    assert _rule(session, fac, T0 + timedelta(hours=1), "health.cluster").status is Status.PASS


def test_bad_case_input_is_refused(room, session):  # type: ignore[no-untyped-def]
    fac, _room, kids = room
    for kwargs, code in (
        ({"onset_day": date(2026, 3, 11), "symptoms": ["fever"]}, "date_in_future"),
        ({"onset_day": date(2026, 3, 10), "symptoms": []}, "invalid_symptoms"),
        ({"onset_day": date(2026, 3, 10), "symptoms": ["sneezing"]}, "invalid_symptoms"),
        ({"onset_day": date(2026, 3, 10), "symptoms": ["fever"],
          "expected_return": date(2026, 3, 9)}, "return_before_onset"),
    ):  # fmt: skip
        with pytest.raises(DomainError) as info:
            health.record_case(session, SYSTEM, fac, kids[0], now=T0, **kwargs)
        assert info.value.code == code
    assert session.scalar(select(func.count()).select_from(IllnessCase)) == 0
