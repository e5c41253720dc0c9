"""Data builders shared by the settlement tests (this module holds no tests).

February 2026 has 20 service days (Mon 2 to Fri 27); the test clock stands at
2026-03-10, so February has ended and March has not.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from carewatch.policy import ClassType
from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance.models import AbsenceReason, AttendanceRecord, AttendanceStatus
from facility_app.audit import service as audit
from facility_app.children.models import CareType, Child
from facility_app.facility.models import ClassRoom, Facility, Grade
from facility_app.facility.service import at_local
from tests.factories import Builder

FEB = "2026-02"
FEB_DAYS = [d for d in (date(2026, 2, 1) + timedelta(days=i) for i in range(28)) if d.weekday() < 5]
TODDLER_BIRTH = date(2024, 9, 1)  # 17 months on 1 February 2026
OLDER_BIRTH = date(2023, 9, 1)  # 29 months
INFANT_BIRTH = date(2025, 4, 1)  # 10 months

assert len(FEB_DAYS) == 20 and FEB_DAYS[0].weekday() == 0 and FEB_DAYS[-1] == date(2026, 2, 27)


def facility(build: Builder, grade: Grade = Grade.LEVEL2, **overrides: object) -> Facility:
    """A certified facility with a profile; ``overrides`` go into the profile."""
    return build.facility(grade=grade, puhui_certified=True, overrides=dict(overrides))


def child(
    build: Builder,
    fac: Facility,
    room: ClassRoom,
    *,
    birth: date = TODDLER_BIRTH,
    start: date = date(2026, 2, 1),
    end: date | None = None,
    care_type: CareType = CareType.FULL_DAY,
    puhui_place: bool = True,
) -> Child:
    """A child on a 普惠 place from ``start``."""
    kid = build.child(fac, room, birth_date=birth, start=start, end=end, care_type=care_type)
    kid.enrolments[0].puhui_place = puhui_place
    build.session.flush()
    return kid


def attend(
    session: Session, fac: Facility, kid: Child, days: list[date], *, checkout: bool = True
) -> list[AttendanceRecord]:
    """Present records on the days, 08:00–17:00 local, in the class enrolled that day."""
    out = []
    for day in days:
        enr = kid.enrolment_on(day)
        assert enr is not None, day
        rec = AttendanceRecord(
            child_id=kid.id,
            class_id=enr.class_id,
            day=day,
            status=AttendanceStatus.PRESENT,
            check_in_at=at_local(fac, day, time(8, 0)),
            check_out_at=at_local(fac, day, time(17, 0)) if checkout else None,
            dropped_off_by_id=kid.guardians[0].id,
            picked_up_by_id=kid.guardians[0].id if checkout else None,
            missing_checkout=not checkout,
        )
        session.add(rec)
        out.append(rec)
    session.flush()
    return out


def absent(session: Session, kid: Child, days: list[date]) -> None:
    """Absence records on the days."""
    for day in days:
        enr = kid.enrolment_on(day)
        assert enr is not None
        session.add(
            AttendanceRecord(
                child_id=kid.id,
                class_id=enr.class_id,
                day=day,
                status=AttendanceStatus.ABSENT,
                absence_reason=AbsenceReason.ILLNESS,
            )
        )
    session.flush()


def correct_to_absent(
    session: Session, record: AttendanceRecord, reason: str, at: datetime
) -> None:
    """A past present day corrected to an absence, logged with its reason.

    The services have no such correction yet; this writes what one would, row and audit.
    """
    before = audit.snapshot(record)
    record.status = AttendanceStatus.ABSENT
    record.check_in_at = record.check_out_at = None
    record.dropped_off_by_id = record.picked_up_by_id = None
    record.absence_reason = AbsenceReason.OTHER
    audit.log_change(
        session, SYSTEM, at, "correct", "attendance", record, before=before, reason=reason
    )


def rooms(build: Builder, fac: Facility) -> dict[ClassType, ClassRoom]:
    """One class of each type."""
    return {t: build.room(fac, t) for t in ClassType}


__all__ = ["FEB", "FEB_DAYS", "SYSTEM", "absent", "attend", "child", "correct_to_absent"]
