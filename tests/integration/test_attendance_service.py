"""Attendance at the door through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from carewatch.errors import Conflict, DomainError
from carewatch.policy import ClassType
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import SYSTEM
from facility_app.accounts.service import actor_for
from facility_app.alerts.models import Alert, AlertKind
from facility_app.attendance import service as attendance
from facility_app.attendance.models import AttendanceRecord, AttendanceStatus
from facility_app.audit.models import AuditEntry
from facility_app.facility.models import ClosedDay
from facility_app.staff import service as staff_service
from facility_app.staff.models import StaffRole
from tests.conftest import T0

TODDLER_BIRTH = date(2025, 1, 5)  # 14 months at T0


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def door(build, session):  # type: ignore[no-untyped-def]
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH, name="王小明")
    carer = build.staff(fac, classes=[room.id])
    staff_service.clock_in(session, SYSTEM, fac, carer, room.id, now=build.now)
    session.commit()
    return fac, room, kid


def test_check_in_and_out_record_the_adults_and_audit(door, session, clock):
    fac, room, kid = door
    mother, father = kid.guardians
    rec = attendance.check_in(
        session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=mother.id
    )
    clock.advance(timedelta(hours=7))
    attendance.check_out(session, SYSTEM, fac, kid, now=clock.now(), picked_up_by_id=father.id)
    session.commit()
    assert rec.status == AttendanceStatus.PRESENT
    assert rec.check_in_at == T0 and rec.check_out_at == T0 + timedelta(hours=7)
    assert (rec.dropped_off_by_id, rec.picked_up_by_id) == (mother.id, father.id)
    assert rec.day == date(2026, 3, 10) and rec.class_id == room.id
    assert not rec.late_pickup
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "attendance").order_by(AuditEntry.id)
    ).all()
    assert actions == ["check_in", "check_out"]


def test_second_check_in_is_refused(door, session, clock):
    fac, _, kid = door
    g = kid.guardians[0].id
    attendance.check_in(session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=g)
    session.commit()
    with pytest.raises(Conflict) as err:
        attendance.check_in(session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=g)
    assert err.value.code == "already_checked_in"
    assert err.value.params["time"] == "09:00"


def test_check_out_without_check_in_is_refused(door, session, clock):
    fac, _, kid = door
    with pytest.raises(Conflict) as err:
        attendance.check_out(
            session, SYSTEM, fac, kid, now=clock.now(), picked_up_by_id=kid.guardians[0].id
        )
    assert err.value.code == "not_checked_in"


def test_child_not_enrolled_today_is_refused(build, session, clock):
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH, start=date(2026, 3, 16))
    session.commit()
    with pytest.raises(DomainError) as err:
        attendance.check_in(
            session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=kid.guardians[0].id
        )
    assert err.value.code == "not_enrolled_today"
    assert _count(session, AttendanceRecord) == 0


def test_check_in_on_a_closed_day_is_refused(door, session, clock):
    fac, _, kid = door
    session.add(ClosedDay(facility_id=fac.id, day=date(2026, 3, 10), reason="holiday"))
    session.commit()
    with pytest.raises(DomainError) as err:
        attendance.check_in(
            session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=kid.guardians[0].id
        )
    assert err.value.code == "closed_today"


def test_unknown_drop_off_person_is_refused(door, session, clock):
    fac, _, kid = door
    with pytest.raises(DomainError) as err:
        attendance.check_in(session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=999999)
    assert err.value.code == "unknown_person"


def test_pick_up_by_someone_not_allowed_is_refused_and_alerted(door, session, clock):
    fac, _, kid = door
    mother, father = kid.guardians
    father.can_pick_up = False
    attendance.check_in(session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=mother.id)
    session.commit()
    with pytest.raises(attendance.UnauthorisedPickup) as err:
        attendance.check_out(session, SYSTEM, fac, kid, now=clock.now(), picked_up_by_id=father.id)
    assert err.value.status == 403
    session.rollback()
    err.value.follow_up(session)
    session.commit()
    alert = session.scalar(select(Alert))
    assert alert.kind == AlertKind.UNAUTHORISED_PICKUP and alert.child_id == kid.id
    assert alert.params["person"] == father.name
    rec = session.scalar(select(AttendanceRecord))
    assert rec.check_out_at is None


def test_pick_up_by_a_stranger_named_at_the_door_is_refused(door, session, clock):
    fac, _, kid = door
    attendance.check_in(
        session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=kid.guardians[0].id
    )
    with pytest.raises(attendance.UnauthorisedPickup) as err:
        attendance.check_out(session, SYSTEM, fac, kid, now=clock.now(), other_person="李四")
    assert err.value.params["person"] == "李四"


def test_late_pick_up_after_closing_is_flagged(door, session, clock):
    fac, _, kid = door
    mother = kid.guardians[0]
    attendance.check_in(session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=mother.id)
    # Closing is 17:30; at exactly 17:30 the pick-up is on time, at 17:31 it is late.
    clock.advance(timedelta(hours=8, minutes=30))
    on_time = attendance.check_out(
        session, SYSTEM, fac, kid, now=clock.now(), picked_up_by_id=mother.id
    )
    assert not on_time.late_pickup
    with pytest.raises(Conflict):
        attendance.check_out(session, SYSTEM, fac, kid, now=clock.now(), picked_up_by_id=mother.id)


def test_pick_up_one_minute_after_closing_is_late(door, session, clock):
    fac, _, kid = door
    mother = kid.guardians[0]
    attendance.check_in(session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=mother.id)
    clock.advance(timedelta(hours=8, minutes=31))
    rec = attendance.check_out(
        session, SYSTEM, fac, kid, now=clock.now(), picked_up_by_id=mother.id
    )
    session.commit()
    assert rec.late_pickup
    alert = session.scalar(select(Alert).where(Alert.kind == AlertKind.LATE_PICKUP))
    assert alert is not None and alert.params == {"minutes": 1}


def test_absence_then_arrival(door, session, clock):
    fac, _, kid = door
    attendance.mark_absent(
        session, SYSTEM, fac, kid, now=clock.now(), day=date(2026, 3, 10), reason="illness"
    )
    session.commit()
    rec = attendance.check_in(
        session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=kid.guardians[0].id
    )
    assert rec.status == AttendanceStatus.PRESENT and rec.absence_reason is None


def test_past_day_correction_needs_a_reason(build, session, clock):
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)
    kid = build.child(fac, room, birth_date=TODDLER_BIRTH, start=date(2026, 3, 2))
    session.commit()
    yesterday = date(2026, 3, 9)
    with pytest.raises(DomainError) as err:
        attendance.mark_absent(
            session, SYSTEM, fac, kid, now=clock.now(), day=yesterday, reason="personal"
        )
    assert err.value.code == "reason_required"
    rec = attendance.mark_absent(
        session,
        SYSTEM,
        fac,
        kid,
        now=clock.now(),
        day=yesterday,
        reason="personal",
        correction_reason="家长电话告知",
    )
    session.commit()
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.entity == "attendance", AuditEntry.entity_id == rec.id)
    )
    assert entry.reason == "家长电话告知"


def test_absence_in_the_future_is_refused(door, session, clock):
    fac, _, kid = door
    with pytest.raises(DomainError) as err:
        attendance.mark_absent(
            session, SYSTEM, fac, kid, now=clock.now(), day=date(2026, 3, 11), reason="illness"
        )
    assert err.value.code == "in_future"


def test_correction_rejects_check_out_before_check_in_and_future_times(door, session, clock):
    fac, _, kid = door
    rec = attendance.check_in(
        session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=kid.guardians[0].id
    )
    session.commit()
    with pytest.raises(DomainError) as err:
        attendance.correct_times(
            session,
            SYSTEM,
            fac,
            rec.id,
            now=clock.now(),
            check_in_at=T0,
            check_out_at=T0 - timedelta(minutes=5),
            reason="",
        )
    assert err.value.code == "checkout_before_checkin"
    with pytest.raises(DomainError) as err:
        attendance.correct_times(
            session,
            SYSTEM,
            fac,
            rec.id,
            now=clock.now(),
            check_in_at=T0,
            check_out_at=T0 + timedelta(hours=1),
            reason="",
        )
    assert err.value.code == "in_future"


def test_close_day_flags_children_still_checked_in(door, session, clock):
    fac, _, kid = door
    attendance.check_in(
        session, SYSTEM, fac, kid, now=clock.now(), dropped_off_by_id=kid.guardians[0].id
    )
    assert attendance.close_day(session, fac, date(2026, 3, 10), now=clock.now()) == 0
    clock.advance(timedelta(hours=9))  # 18:00
    assert attendance.close_day(session, fac, date(2026, 3, 10), now=clock.now()) == 1
    assert attendance.close_day(session, fac, date(2026, 3, 10), now=clock.now()) == 0
    session.commit()
    assert session.scalar(select(AttendanceRecord.missing_checkout)) is True
    assert _count(session, Alert) == 1


def test_caregiver_cannot_reach_another_class(build, session, clock):
    fac = build.facility()
    mine = build.room(fac, ClassType.TODDLER)
    theirs = build.room(fac, ClassType.TODDLER)
    kid = build.child(fac, theirs, birth_date=TODDLER_BIRTH)
    carer = build.staff(fac, classes=[mine.id])
    user = build.user(Role.CAREGIVER, staff=carer)
    session.commit()
    actor = actor_for(session, user)
    with pytest.raises(DomainError) as err:
        attendance.check_in(
            session, actor, fac, kid, now=clock.now(), dropped_off_by_id=kid.guardians[0].id
        )
    assert err.value.status == 403
    assert _count(session, AttendanceRecord) == 0


def test_ratio_breach_is_stored_with_start_and_end(build, session, clock):
    fac = build.facility()
    room = build.room(fac, ClassType.TODDLER)  # 1:5
    kids = [build.child(fac, room, birth_date=TODDLER_BIRTH) for _ in range(6)]
    carer = build.staff(fac, classes=[room.id])
    cook = build.staff(fac, role=StaffRole.COOK, classes=[room.id])
    session.commit()
    staff_service.clock_in(session, SYSTEM, fac, carer, room.id, now=clock.now())
    # A cook on duty does not count toward the ratio.
    staff_service.clock_in(session, SYSTEM, fac, cook, room.id, now=clock.now())
    for k in kids[:5]:
        attendance.check_in(
            session, SYSTEM, fac, k, now=clock.now(), dropped_off_by_id=k.guardians[0].id
        )
    session.commit()
    assert _count(session, Alert) == 0
    clock.advance(timedelta(minutes=10))  # 09:10: the sixth child arrives
    sixth = kids[5]
    attendance.check_in(
        session, SYSTEM, fac, sixth, now=clock.now(), dropped_off_by_id=sixth.guardians[0].id
    )
    session.commit()
    from facility_app.ratio.models import ClassBreach

    (breach,) = session.scalars(select(ClassBreach)).all()
    assert breach.started_at == T0 + timedelta(minutes=10) and breach.ended_at is None
    assert (breach.peak_children, breach.min_caregivers, breach.limit) == (6, 1, 2)
    clock.advance(timedelta(minutes=20))  # 09:30: one child leaves
    attendance.check_out(
        session, SYSTEM, fac, sixth, now=clock.now(), picked_up_by_id=sixth.guardians[0].id
    )
    session.commit()
    (breach,) = session.scalars(select(ClassBreach)).all()
    assert breach.ended_at == T0 + timedelta(minutes=30)
    alerts = session.scalars(select(Alert)).all()
    assert [a.kind for a in alerts] == [AlertKind.RATIO_BREACH]
