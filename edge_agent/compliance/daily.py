"""The ``daily`` report: one closed day's aggregates, counts and class ids only."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carewatch.clock import local_day_bounds
from facility_app.alerts.models import Alert
from facility_app.attendance.models import AbsenceReason, AttendanceRecord, AttendanceStatus
from facility_app.care.models import Nap, SleepCheckLapse
from facility_app.care.service import outdoor_minutes
from facility_app.children.models import Enrolment
from facility_app.facility.models import ClassRoom, Facility
from facility_app.facility.service import at_local, is_service_day
from facility_app.ratio.models import BreachKind, ClassBreach


def _count(session: Session, stmt: Any) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def daily_body(session: Session, facility: Facility, day: date) -> dict[str, Any]:
    """The day's counts: enrolment, attendance, breach and outdoor minutes, naps, alerts.

    Per-class figures are keyed by class id. A breach still open in the records is
    counted up to the day's closing time (the same cut-off the breach history uses for a
    past day).
    """
    class_ids = select(ClassRoom.id).where(ClassRoom.facility_id == facility.id)
    start, end = local_day_bounds(day, facility.timezone)
    enrolled = _count(
        session,
        select(Enrolment.child_id)
        .where(
            Enrolment.class_id.in_(class_ids),
            Enrolment.start_date <= day,
            (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= day),
        )
        .distinct(),
    )
    records = session.execute(
        select(
            AttendanceRecord.class_id,
            AttendanceRecord.status,
            AttendanceRecord.absence_reason,
            AttendanceRecord.check_out_at.is_not(None),
            AttendanceRecord.late_pickup,
        ).where(AttendanceRecord.day == day, AttendanceRecord.class_id.in_(class_ids))
    ).all()
    present = [r for r in records if r[1] == AttendanceStatus.PRESENT]
    absent = [r for r in records if r[1] == AttendanceStatus.ABSENT]
    closing = at_local(facility, day, facility.closing_time)
    breach_minutes: dict[BreachKind, dict[str, int]] = {k: defaultdict(int) for k in BreachKind}
    for b in session.scalars(
        select(ClassBreach).where(ClassBreach.day == day, ClassBreach.class_id.in_(class_ids))
    ):
        stop = b.ended_at if b.ended_at is not None else max(closing, b.started_at)
        breach_minutes[b.kind][str(b.class_id)] += int((stop - b.started_at).total_seconds() // 60)
    lapses = session.execute(
        select(SleepCheckLapse.missed).where(
            SleepCheckLapse.day == day, SleepCheckLapse.class_id.in_(class_ids)
        )
    ).all()
    present_classes = sorted({r[0] for r in present})
    return {
        "day": day.isoformat(),
        "service_day": is_service_day(session, facility, day),
        "children_enrolled": enrolled,
        "children_present": len(present),
        "children_absent": len(absent),
        "absent_illness": sum(1 for r in absent if r[2] == AbsenceReason.ILLNESS),
        "check_ins": len(present),
        "check_outs": sum(1 for r in present if r[3]),
        "missing_checkouts": sum(1 for r in present if not r[3]),
        "late_pickups": sum(1 for r in present if r[4]),
        "ratio_breach_minutes": dict(sorted(breach_minutes[BreachKind.RATIO].items())),
        "capacity_breach_minutes": dict(sorted(breach_minutes[BreachKind.CAPACITY].items())),
        "naps": _count(session, select(Nap.id).where(Nap.day == day, Nap.class_id.in_(class_ids))),
        "sleep_check_lapses": len(lapses),
        "sleep_checks_missed": sum(1 for (missed,) in lapses if missed),
        "outdoor_minutes": {
            str(c): outdoor_minutes(session, facility, c, day, end) for c in present_classes
        },
        "alerts_raised": _count(
            session,
            select(Alert.id).where(
                Alert.facility_id == facility.id, Alert.created_at >= start, Alert.created_at < end
            ),
        ),
        "alerts_open": _count(
            session,
            select(Alert.id).where(
                Alert.facility_id == facility.id, Alert.acknowledged_at.is_(None)
            ),
        ),
    }
