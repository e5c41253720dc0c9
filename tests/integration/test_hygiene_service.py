"""Disinfection schedules and logs: method limits, bad input, overdue across a weekend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from carewatch.errors import DomainError, NotFound
from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.hygiene import service as hygiene
from facility_app.hygiene.models import DisinfectionLog
from tests.conftest import T0
from tests.integration.test_api_support import ApiClient, error_code, row_counts

# T0 is Tuesday 10 March 2026, 09:00; closing is 17:30.
FRI_1600 = T0 + timedelta(days=3, hours=7)
SAT = T0 + timedelta(days=4)
MON_1730 = T0 + timedelta(days=6, hours=8, minutes=30)


@pytest.fixture
def scene(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER, name="托小班")
    towels = hygiene.save_task(
        session, SYSTEM, fac, now=T0, area="托小班盥洗室", target="towels", method="chlorine",
        duration_minutes=20, concentration_mg_l=300, class_id=room.id,
    )  # fmt: skip
    air = hygiene.save_task(
        session, SYSTEM, fac, now=T0, area="托小班活动室", target="air", method="ventilation",
        duration_minutes=15, times_per_day=2,
    )  # fmt: skip
    session.commit()
    return {"fac": fac, "room": room, "towels": towels, "air": air}


@pytest.mark.parametrize(
    ("minutes", "mg", "code"),
    [
        (20, 200, "concentration_out_of_range"),
        (20, 401, "concentration_out_of_range"),
        (19, 300, "duration_out_of_range"),
        (20, 50000, "invalid_concentration"),
        (0, 300, "invalid_duration"),
        (-3, 300, "invalid_duration"),
        (20, None, "concentration_required"),
    ],
)
def test_logs_outside_the_method_limits_are_refused(scene, session, minutes, mg, code):
    with pytest.raises(DomainError) as err:
        hygiene.log_task(
            session, SYSTEM, scene["fac"], now=T0, task_id=scene["towels"].id,
            duration_minutes=minutes, concentration_mg_l=mg,
        )  # fmt: skip
    assert err.value.code == code
    session.rollback()
    assert session.scalars(select(DisinfectionLog)).all() == []


def test_boundaries_of_the_chlorine_range_are_accepted(scene, session):
    for mg in (250, 400):
        entry = hygiene.log_task(
            session, SYSTEM, scene["fac"], now=T0, task_id=scene["towels"].id,
            duration_minutes=20, concentration_mg_l=mg,
        )  # fmt: skip
        assert entry.within_limits


def test_unknown_area_future_time_and_backdating(scene, session):
    fac = scene["fac"]
    with pytest.raises(NotFound) as err:
        hygiene.log_task(session, SYSTEM, fac, now=T0, task_id=999, duration_minutes=15)
    assert err.value.code == "task_not_found"
    air = scene["air"].id
    with pytest.raises(DomainError) as err:
        hygiene.log_task(
            session, SYSTEM, fac, now=T0, task_id=air, duration_minutes=15,
            at=T0 + timedelta(minutes=1),
        )  # fmt: skip
    assert err.value.code == "in_future"
    with pytest.raises(DomainError) as err:
        hygiene.log_task(
            session, SYSTEM, fac, now=T0, task_id=air, duration_minutes=15,
            at=T0 - timedelta(hours=2),
        )  # fmt: skip
    assert err.value.code == "reason_required"


def test_flagging_policy_stores_the_log_but_it_does_not_count(build, session):
    fac = build.facility(overrides={"hygiene": {"refuse_out_of_limits": False}})
    task = hygiene.save_task(
        session, SYSTEM, fac, now=T0, area="厨房", target="tableware", method="boiling",
        duration_minutes=15,
    )  # fmt: skip
    entry = hygiene.log_task(session, SYSTEM, fac, now=T0, task_id=task.id, duration_minutes=5)
    assert entry.within_limits is False
    late = T0.replace(hour=17, minute=31)
    rows = hygiene.task_rows(session, fac, late)
    assert rows[0].due.overdue is True
    assert rows[0].flagged_today == 1


def test_overdue_across_the_weekend_through_the_service(scene, session):
    fac, towels = scene["fac"], scene["towels"].id
    hygiene.log_task(
        session, SYSTEM, fac, now=FRI_1600, task_id=towels, duration_minutes=20,
        concentration_mg_l=300,
    )  # fmt: skip

    def towel_row(now):  # type: ignore[no-untyped-def]
        return next(r for r in hygiene.task_rows(session, fac, now) if r.task.id == towels)

    assert towel_row(SAT).due.overdue is False
    assert towel_row(MON_1730).due.overdue is False
    late = towel_row(MON_1730 + timedelta(minutes=1))
    assert late.due.overdue is True
    assert late.due.due_day.isoformat() == "2026-03-16"
    finding = hygiene.findings(session, fac, MON_1730 + timedelta(minutes=1))
    assert finding.status == "fail"
    assert {o["area"] for o in finding.evidence["overdue"]} == {"托小班盥洗室", "托小班活动室"}


def test_overdue_across_midnight_through_the_service(scene, session):
    fac, towels = scene["fac"], scene["towels"].id
    hygiene.log_task(
        session, SYSTEM, fac, now=T0, task_id=towels, duration_minutes=20, concentration_mg_l=300
    )
    wed_1730 = T0 + timedelta(days=1, hours=8, minutes=30)

    def towel_row(now):  # type: ignore[no-untyped-def]
        return next(r for r in hygiene.task_rows(session, fac, now) if r.task.id == towels)

    assert towel_row(wed_1730).due.overdue is False
    assert towel_row(wed_1730 + timedelta(minutes=1)).due.overdue is True
    thu_0030 = wed_1730 + timedelta(hours=7)
    late = towel_row(thu_0030)
    assert late.due.overdue is True
    assert late.due.overdue_minutes(thu_0030) == 7 * 60
    # Done on Thursday morning: no longer overdue.
    hygiene.log_task(
        session, SYSTEM, fac, now=thu_0030 + timedelta(hours=8), task_id=towels,
        duration_minutes=20, concentration_mg_l=300,
    )  # fmt: skip
    assert towel_row(thu_0030 + timedelta(hours=8)).due.overdue is False


def test_a_schedule_outside_its_method_is_refused(scene, session):
    with pytest.raises(DomainError) as err:
        hygiene.save_task(
            session, SYSTEM, scene["fac"], now=T0, area="睡眠室", target="air", method="uv_lamp",
            duration_minutes=30,
        )  # fmt: skip
    assert err.value.code == "duration_out_of_range"
    with pytest.raises(DomainError) as err:
        hygiene.save_task(
            session, SYSTEM, scene["fac"], now=T0, area="睡眠室", target="air", method="uv_lamp",
            duration_minutes=60, concentration_mg_l=100,
        )  # fmt: skip
    assert err.value.code == "concentration_not_applicable"


def test_api_logs_and_refuses_with_codes_and_writes_nothing(scene, session, build, client, clock):
    director = ApiClient(client)
    user = build.user(Role.DIRECTOR)
    session.commit()
    assert director.login(user).status_code == 200
    before = row_counts(session)
    bad = director.post(
        "/hygiene/logs",
        {"task_id": scene["towels"].id, "duration_minutes": 20, "concentration_mg_l": 1000},
    )
    assert bad.status_code == 422
    assert error_code(bad) == "concentration_out_of_range"
    missing = director.post("/hygiene/logs", {"task_id": 99999, "duration_minutes": 20})
    assert (missing.status_code, error_code(missing)) == (404, "task_not_found")
    assert row_counts(session) == before
    ok = director.post(
        "/hygiene/logs",
        {"task_id": scene["towels"].id, "duration_minutes": 20, "concentration_mg_l": 300},
    )
    assert ok.status_code == 201
    assert ok.get_json()["within_limits"] is True
    clock.advance(timedelta(hours=9))  # 18:00: the air needed two logs today
    tasks = {t["area"]: t for t in director.get("/hygiene/tasks").get_json()["items"]}
    assert tasks["托小班盥洗室"]["overdue"] is False
    assert tasks["托小班活动室"]["overdue"] is True
    found = {f["rule"]: f for f in director.get("/kitchen/findings").get_json()["items"]}
    assert found["hygiene.disinfection"]["status"] == "fail"


def test_director_page_lists_overdue_tasks(scene, session, build, auth, client, clock):
    user = build.user(Role.DIRECTOR)
    session.commit()
    auth.login(user)
    clock.advance(timedelta(hours=9))
    page = client.get("/today").get_data(as_text=True)
    assert 'id="hygiene-overdue"' in page
    assert "托小班活动室" in page
