"""The care log through its services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from carewatch.errors import DomainError, Forbidden
from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.accounts.service import actor_for
from facility_app.attendance import service as attendance
from facility_app.audit.models import AuditEntry
from facility_app.care import service as care
from facility_app.care.models import CareKind, SleepCheckLapse, SleepPosition, SleepState
from facility_app.care.service import Observation
from facility_app.staff import service as staff_service
from tests.conftest import T0

TODDLER_BIRTH = date(2025, 1, 5)
M = timedelta(minutes=1)


@pytest.fixture
def room(build, session, clock):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH, name="王小明")
    other = build.child(fac, room, birth_date=TODDLER_BIRTH, name="李小红")
    carer = build.staff(fac, classes=[room.id])
    staff_service.clock_in(session, SYSTEM, fac, carer, room.id, now=clock.now())
    for child in (kid, other):
        attendance.check_in(
            session, SYSTEM, fac, child, now=clock.now(), dropped_off_by_id=child.guardians[0].id
        )
    session.commit()
    return fac, room, kid, other


def test_entries_are_logged_with_time_caregiver_and_audit(room, session, clock):
    fac, _, kid, _ = room
    clock.advance(30 * M)
    e = care.log_entry(
        session, SYSTEM, fac, kid, now=clock.now(), kind=CareKind.BOTTLE, amount_ml=180
    )
    care.log_entry(session, SYSTEM, fac, kid, now=clock.now(), kind="nappy_wet")
    session.commit()
    assert e.at == T0 + 30 * M and e.amount_ml == 180 and e.day == date(2026, 3, 10)
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "care_entry").order_by(AuditEntry.id)
    ).all()
    assert actions == ["care_bottle", "care_nappy_wet"]


def test_bad_inputs_are_refused(room, session, clock, build):
    fac, _, kid, _ = room
    absent = build.child(fac, room[1], birth_date=TODDLER_BIRTH, name="张缺席")
    session.commit()
    clock.advance(30 * M)
    now = clock.now()
    cases = [
        (
            lambda: care.log_entry(session, SYSTEM, fac, absent, now=now, kind="water"),
            "not_present",
        ),
        (
            lambda: care.log_entry(
                session, SYSTEM, fac, kid, now=now, kind="bottle", amount_ml=2000
            ),
            "amount_too_large",
        ),
        (
            lambda: care.log_entry(session, SYSTEM, fac, kid, now=now, kind="toilet", at=now + M),
            "in_future",
        ),
        (
            lambda: care.log_entry(
                session, SYSTEM, fac, kid, now=now, kind="toilet", at=now - 20 * M
            ),
            "reason_required",
        ),
        (
            # Before the child arrived at 09:00.
            lambda: care.log_entry(
                session, SYSTEM, fac, kid, now=now, kind="toilet", at=T0 - M, reason="forgot"
            ),
            "not_present",
        ),
    ]
    for call, code in cases:
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.code == code, code
    session.rollback()


def test_past_entry_with_reason_is_audited_with_it(room, session, clock):
    fac, _, kid, _ = room
    clock.advance(60 * M)
    care.log_entry(
        session, SYSTEM, fac, kid, now=clock.now(), kind="toilet", at=T0 + 20 * M, reason="补记"
    )
    session.commit()
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "care_entry")).one()
    assert entry.reason == "补记"


def test_nap_with_late_and_missed_checks_stores_lapses(room, session, clock):
    fac, _, kid, _ = room
    nap = care.start_nap(session, SYSTEM, fac, kid, now=clock.now())
    session.commit()
    clock.advance(15 * M)
    ok = Observation(nap.id, SleepState.BREATHING_NORMALLY, SleepPosition.BACK)
    care.record_sleep_check(session, SYSTEM, fac, now=clock.now(), observations=[ok])
    clock.advance(25 * M)  # 09:40, due 09:30
    state = care.room_state(session, SYSTEM, fac, nap.class_id, clock.now())
    assert state.overdue and state.next_due == T0 + 30 * M
    care.record_sleep_check(session, SYSTEM, fac, now=clock.now(), observations=[ok])
    clock.advance(20 * M)  # 10:00, due 09:55
    care.end_nap(session, SYSTEM, fac, nap.id, now=clock.now())
    session.commit()
    rows = session.scalars(select(SleepCheckLapse).order_by(SleepCheckLapse.due_at)).all()
    assert [(r.due_at, r.late_seconds, r.missed) for r in rows] == [
        (T0 + 30 * M, 600, False),
        (T0 + 55 * M, 300, True),
    ]
    assert care.warnings(session, SYSTEM, fac, clock.now()).lapses_today == 2
    items = care.day_record(session, SYSTEM, fac, kid, date(2026, 3, 10))
    lapsed = [(i.at, i.kind, i.detail) for i in items if i.kind.startswith("sleep_check_")]
    assert lapsed == [
        (T0 + 30 * M, "sleep_check_late", "10"),
        (T0 + 55 * M, "sleep_check_missed", "5"),
    ]


def test_overdue_across_the_interval_boundary(room, session, clock):
    fac, r, kid, _ = room
    care.start_nap(session, SYSTEM, fac, kid, now=clock.now())
    session.commit()
    clock.advance(15 * M)
    assert not care.room_state(session, SYSTEM, fac, r.id, clock.now()).overdue
    assert care.warnings(session, SYSTEM, fac, clock.now()).overdue == []
    clock.advance(timedelta(seconds=1))
    assert care.room_state(session, SYSTEM, fac, r.id, clock.now()).overdue
    assert [s.child.id for _, s in care.warnings(session, SYSTEM, fac, clock.now()).overdue] == [
        kid.id
    ]


def test_nap_bad_inputs(room, session, clock):
    fac, _, kid, other = room
    clock.advance(30 * M)
    nap = care.start_nap(session, SYSTEM, fac, kid, now=clock.now())
    session.commit()
    with pytest.raises(DomainError) as err:
        care.end_nap(session, SYSTEM, fac, nap.id, now=clock.now(), at=T0 + 20 * M, reason="x")
    assert err.value.code == "nap_end_before_start"
    with pytest.raises(DomainError) as err:
        care.start_nap(session, SYSTEM, fac, kid, now=clock.now())
    assert err.value.code == "already_asleep"
    care.end_nap(session, SYSTEM, fac, nap.id, now=clock.now())
    session.commit()
    with pytest.raises(DomainError) as err:
        care.record_sleep_check(
            session,
            SYSTEM,
            fac,
            now=clock.now() + M,
            observations=[Observation(nap.id, "breathing_normally", "back")],
        )
    assert err.value.code == "not_asleep"
    nap2 = care.start_nap(session, SYSTEM, fac, other, now=clock.now())
    with pytest.raises(DomainError) as err:
        care.record_sleep_check(
            session,
            SYSTEM,
            fac,
            now=clock.now(),
            observations=[Observation(nap2.id, "breathing_normally", None)],
        )
    assert err.value.code == "position_required"


def test_woke_ends_the_nap(room, session, clock):
    fac, _, kid, _ = room
    nap = care.start_nap(session, SYSTEM, fac, kid, now=clock.now())
    clock.advance(10 * M)
    care.record_sleep_check(
        session, SYSTEM, fac, now=clock.now(), observations=[Observation(nap.id, "woke")]
    )
    session.commit()
    assert nap.ended_at == clock.now()
    assert nap.lapses == []


def test_caregiver_of_another_class_is_refused(room, session, clock, build):
    fac, _, kid, _ = room
    other_room = build.room(fac, ClassType.TODDLER)
    stranger = build.staff(fac, classes=[other_room.id])
    user = build.user(Role.CAREGIVER, staff=stranger)
    own = build.staff(fac, classes=[room[1].id])
    own_user = build.user(Role.CAREGIVER, staff=own)
    session.commit()
    actor = actor_for(session, user)
    with pytest.raises(Forbidden):
        care.log_entry(session, actor, fac, kid, now=clock.now(), kind="water")
    with pytest.raises(Forbidden):
        care.start_outdoor(session, actor, fac, room[1].id, now=clock.now())
    with pytest.raises(Forbidden):
        care.room_state(session, actor, fac, room[1].id, clock.now())
    entry = care.log_entry(
        session, actor_for(session, own_user), fac, kid, now=clock.now(), kind="water"
    )
    assert entry.recorded_by_id == own_user.id


def test_outdoor_minimum_warning_after_the_warning_time(room, session, clock):
    fac, r, _, _ = room
    clock.advance(60 * M)  # 10:00
    care.start_outdoor(session, SYSTEM, fac, r.id, now=clock.now())
    clock.advance(30 * M)
    care.end_outdoor(session, SYSTEM, fac, r.id, now=clock.now())
    session.commit()
    day = date(2026, 3, 10)
    assert care.outdoor_minutes(session, fac, r.id, day, clock.now()) == 30
    # 30 min so far; at 14:29 the warning time has not come yet.
    clock.advance(timedelta(hours=3, minutes=59))
    assert care.warnings(session, SYSTEM, fac, clock.now()).outdoor_short == []
    # 16:01: 30 + 89 minutes left = 119 < 120.
    clock.set(T0 + timedelta(hours=7, minutes=1))
    assert [
        (c.id, m) for c, m in care.warnings(session, SYSTEM, fac, clock.now()).outdoor_short
    ] == [(r.id, 30)]
    # 16:00 exactly: 30 + 90 = 120 is still reachable.
    clock.set(T0 + timedelta(hours=7))
    assert care.warnings(session, SYSTEM, fac, clock.now()).outdoor_short == []


def test_day_record_lists_the_day_in_order(room, session, clock):
    fac, _, kid, _ = room
    clock.advance(30 * M)
    care.log_entry(session, SYSTEM, fac, kid, now=clock.now(), kind="bottle", amount_ml=150)
    nap = care.start_nap(session, SYSTEM, fac, kid, now=clock.now() + M)
    clock.advance(20 * M)
    care.end_nap(session, SYSTEM, fac, nap.id, now=clock.now())
    clock.advance(10 * M)
    attendance.check_out(
        session, SYSTEM, fac, kid, now=clock.now(), picked_up_by_id=kid.guardians[0].id
    )
    session.commit()
    items = care.day_record(session, SYSTEM, fac, kid, date(2026, 3, 10))
    # A 20-minute nap without a check: the check due at 09:46 was missed.
    assert [i.kind for i in items] == [
        "arrival",
        "bottle",
        "nap",
        "sleep_check_missed",
        "departure",
    ]
    with pytest.raises(DomainError) as err:
        care.log_entry(session, SYSTEM, fac, kid, now=clock.now() + M, kind="water")
    assert err.value.code == "not_present"
