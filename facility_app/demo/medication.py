"""Demo medication and incidents: one child on a guardian's medication instruction with
today's dose given when its time has passed, and two small incident reports, one still
waiting for the guardian's acknowledgement, so the day page has something to show."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from facility_app.accounts.permissions import SYSTEM
from facility_app.attendance.models import AttendanceRecord, AttendanceStatus
from facility_app.children.models import Child
from facility_app.facility.models import Facility
from facility_app.facility.service import at_local, today
from facility_app.health import incidents, medication
from facility_app.staff.models import ClassAssignment, Staff, StaffRole

log = logging.getLogger(__name__)

DOSE_TIME = time(12, 0)


def seed_medication(session: Session, fac: Facility, now: datetime) -> int:
    """Records through the services, for children present today; returns how many."""
    day = today(fac, now)
    present = session.scalars(
        select(AttendanceRecord)
        .where(AttendanceRecord.day == day, AttendanceRecord.status == AttendanceStatus.PRESENT)
        .order_by(AttendanceRecord.id)
        .limit(2)
    ).all()
    health_officer = session.scalar(
        select(Staff).where(Staff.role == StaffRole.HEALTH_OFFICER).limit(1)
    )
    if len(present) < 2 or health_officer is None:
        log.info("demo medication skipped: nobody present today")
        return 0
    made = 0
    for record, sick in zip(present, (True, False), strict=True):
        child = session.get(Child, record.child_id)
        assert child is not None
        caregiver = session.scalar(
            select(ClassAssignment.staff_id).where(ClassAssignment.class_id == record.class_id)
        )
        mother = next(g for g in child.guardians if g.is_guardian and g.active)
        if sick:
            made += _medicine(session, fac, child, now, mother.id, caregiver, health_officer.id)
        staff_id = caregiver or health_officer.id
        made += _incident(session, fac, child, now, mother.id, staff_id, acknowledged=sick)
    log.info("demo medication and incidents: %d records", made)
    return made


def _medicine(session, fac, child, now, guardian_id, giver, witness) -> int:  # type: ignore[no-untyped-def]
    day = today(fac, now)
    instruction = medication.add_instruction(
        session, SYSTEM, fac, child, now=now,
        guardian_id=guardian_id, medicine="布洛芬混悬液", form_strength="100 mL:2 g",
        dose_amount="4", dose_unit="ml", first_day=day - timedelta(days=1),
        last_day=day + timedelta(days=1), times=[DOSE_TIME.strftime("%H:%M")],
        reason="发热后退热巩固", paper_received=True, received_by_staff_id=witness,
    )  # fmt: skip
    given = at_local(fac, day, DOSE_TIME)
    if given > now or giver is None:
        return 1
    medication.record_dose(
        session, SYSTEM, fac, child, now=now, instruction_id=instruction.id, given_at=given,
        dose_amount="4", given_by_staff_id=giver, witness_staff_id=witness,
    )  # fmt: skip
    return 2


def _incident(session, fac, child, now, guardian_id, staff_id, *, acknowledged) -> int:  # type: ignore[no-untyped-def]
    day = today(fac, now)
    when = at_local(fac, day, time(9, 40))
    if when > now - timedelta(minutes=30):
        when = at_local(fac, day - timedelta(days=1), time(15, 0))
    report = incidents.create_incident(
        session, SYSTEM, fac, child, now=now, occurred_at=when, location="户外活动区",
        what_happened="跑步时摔倒，膝盖着地", severity="minor", injury_type="擦伤",
        body_part="左膝", first_aid="清水冲洗，碘伏消毒", first_aid_by_staff_id=staff_id,
    )  # fmt: skip
    incidents.record_notification(
        session, SYSTEM, fac, report, now=now, notified_at=when + timedelta(minutes=20),
        how="phone", by_staff_id=staff_id,
    )  # fmt: skip
    if acknowledged:
        incidents.record_acknowledgement(
            session, SYSTEM, fac, child, report, now=now,
            acknowledged_at=when + timedelta(minutes=25), guardian_id=guardian_id,
            how="phone",
        )  # fmt: skip
    return 1
